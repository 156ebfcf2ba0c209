// HTTP with full control of the request headers, Host included (fetch forbids setting Host), for
// the public endpoints that pick the tenant from the request's host name.
import { type IncomingHttpHeaders, request } from "node:http";

export interface RawResponse<T = any> {
  status: number;
  headers: IncomingHttpHeaders;
  /** The body parsed as JSON, or the raw text when it is not JSON. */
  body: T;
  text: string;
}

export interface RawRequest {
  method?: string;
  /** Sent as given (names are case-insensitive); `host` replaces the one derived from the URL. */
  headers?: Record<string, string | string[]>;
  body?: string | Buffer;
}

/** One request on a fresh connection; Content-Length is set from the body unless given. */
export function rawRequest<T = any>(url: string, init: RawRequest = {}): Promise<RawResponse<T>> {
  const target = new URL(url);
  const headers: Record<string, string | string[]> = { ...init.headers };
  const names = new Set(Object.keys(headers).map((name) => name.toLowerCase()));
  if (init.body !== undefined && !names.has("content-length") && !names.has("transfer-encoding")) {
    headers["content-length"] = String(Buffer.byteLength(init.body));
  }
  return new Promise((resolve, reject) => {
    const outgoing = request(
      {
        hostname: target.hostname,
        port: target.port,
        path: `${target.pathname}${target.search}`,
        method: init.method ?? "GET",
        headers,
        agent: false,
      },
      (incoming) => {
        const chunks: Buffer[] = [];
        incoming.on("data", (chunk: Buffer) => chunks.push(chunk));
        incoming.on("error", reject);
        incoming.on("end", () => {
          const text = Buffer.concat(chunks).toString("utf8");
          let body: any = text;
          try {
            body = JSON.parse(text);
          } catch {
            // not JSON: keep the text
          }
          resolve({ status: incoming.statusCode ?? 0, headers: incoming.headers, body, text });
        });
      },
    );
    outgoing.on("error", reject);
    outgoing.end(init.body);
  });
}
