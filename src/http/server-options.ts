// Timeouts of the Node HTTP server under each Fastify app: a client that sends its request too
// slowly (a trickled body or trickled headers) is answered 408 and disconnected.
import type { Server } from "node:http";
import type { FastifyHttpOptions } from "fastify";
import type { Config } from "../config";

export type HttpServerTimeouts = Pick<Config, "REQUEST_TIMEOUT_MS" | "HEADERS_TIMEOUT_MS">;

/**
 * Node checks both timeouts only every `connectionsCheckingInterval` (30 s by default), so a
 * timeout would fire up to 30 s late: check every second, or every tenth of the header timeout
 * when that is shorter. Only requests still arriving are checked; idle keep-alive connections
 * are left to the keep-alive timeout.
 */
export function httpServerOptions({
  REQUEST_TIMEOUT_MS,
  HEADERS_TIMEOUT_MS,
}: HttpServerTimeouts): Pick<FastifyHttpOptions<Server>, "requestTimeout" | "http"> {
  return {
    // Fastify sets the server's requestTimeout from its own option after creating it.
    requestTimeout: REQUEST_TIMEOUT_MS,
    http: {
      requestTimeout: REQUEST_TIMEOUT_MS,
      headersTimeout: HEADERS_TIMEOUT_MS,
      connectionsCheckingInterval: Math.max(10, Math.min(1_000, Math.floor(HEADERS_TIMEOUT_MS / 10))),
    },
  };
}
