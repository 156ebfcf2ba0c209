// Legacy clients send JSON with whatever Content-Type (text/plain from sendBeacon, none from
// old scripts): their routes take the raw text and parse it here, so malformed JSON is an input
// error in the legacy shape rather than Fastify's own 400/415.
import type { FastifyInstance } from "fastify";
import { InvalidInput } from "../errors";

export function acceptAnyBodyAsText(app: FastifyInstance, bodyLimit: number): void {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser("*", { parseAs: "string", bodyLimit }, (_request, body, done) => done(null, body));
}

/** The body as a JSON object; InvalidInput (missing / json_invalid / model_attributes_type) otherwise. */
export function parseJsonObjectBody(body: unknown): Record<string, unknown> {
  const text = typeof body === "string" ? body : "";
  if (text.trim().length === 0) throw new InvalidInput([{ path: [], type: "missing", message: "Field required" }]);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new InvalidInput([{ path: [], type: "json_invalid", message: "JSON decode error" }]);
  }
  if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) {
    throw new InvalidInput([
      {
        path: [],
        type: "model_attributes_type",
        message: "Input should be a valid dictionary or object to extract fields from",
      },
    ]);
  }
  return parsed as Record<string, unknown>;
}
