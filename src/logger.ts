// The pino logger options of the service. Credentials never reach the logs: the request
// serializer logs no headers, and a JWT passed as the `jwt` query parameter is masked. Errors are
// logged bounded: a failed statement's SQL and parameters are cut, so one log line stays small.
import type { FastifyRequest } from "fastify";
import { type LoggerOptions, stdSerializers } from "pino";

/** One serialized error at most, as JSON. */
export const MAX_LOGGED_ERROR_BYTES = 1536;
const MAX_STRING = 300;
const MAX_ITEMS = 10;
const MAX_DEPTH = 3;

function bounded(value: unknown, depth: number): unknown {
  if (typeof value === "string")
    return value.length > MAX_STRING ? `${value.slice(0, MAX_STRING)}…[${value.length} chars]` : value;
  if (value === null || typeof value !== "object") return value;
  if (depth >= MAX_DEPTH) return "[…]";
  if (Array.isArray(value)) {
    const items = value.slice(0, MAX_ITEMS).map((item) => bounded(item, depth + 1));
    return value.length > MAX_ITEMS ? [...items, `…[${value.length} items]`] : items;
  }
  const entries = Object.entries(value).slice(0, 20);
  return Object.fromEntries(entries.map(([key, item]) => [key, bounded(item, depth + 1)]));
}

/** pino's error serializer, with every string, list and nesting level cut to a bounded size. */
export function boundedErrorSerializer(error: Error): Record<string, unknown> {
  const serialized = bounded(stdSerializers.err(error), 0) as Record<string, unknown>;
  if (JSON.stringify(serialized).length <= MAX_LOGGED_ERROR_BYTES) return serialized;
  const { type, message, stack } = serialized;
  const short = (text: unknown) => (typeof text === "string" ? text.slice(0, 500) : text);
  return { type, message: short(message), stack: short(stack), truncated: true };
}

/** "/x?jwt=eyJ...&a=1" -> "/x?jwt=[redacted]&a=1" */
export function redactUrl(url: string): string {
  return url.replace(/([?&]jwt=)[^&#]*/gi, "$1[redacted]");
}

export function loggerOptions(level: string): LoggerOptions {
  return {
    level,
    serializers: {
      err: boundedErrorSerializer,
      req: (request: FastifyRequest) => ({
        method: request.method,
        url: redactUrl(request.url),
        host: request.host,
        remoteAddress: request.ip,
      }),
    },
  };
}
