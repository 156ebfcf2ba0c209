// The one place REST errors become responses. Each legacy API keeps its own body shape
// (FastAPI's {"detail"}, Zephr's {"message"}); statuses come from the domain errors' kinds.
import type { FastifyError, FastifyReply, FastifyRequest } from "fastify";
import { asDatabaseUnreachable } from "../db/deadline";
import { DomainError, InvalidInput, RateLimited } from "../errors";

export interface ErrorBodies {
  /** The body for an error given as one message. */
  message(message: string): unknown;
  /** The body and status for invalid input (FastAPI answers 422, Zephr 400). */
  invalidInput(error: InvalidInput): { status: number; body: unknown };
}

export function restErrorHandler(bodies: ErrorBodies) {
  return (thrown: FastifyError | Error, request: FastifyRequest, reply: FastifyReply) => {
    // A database that cannot be reached is a 503 to retry, whichever query met it.
    const error = asDatabaseUnreachable(thrown) ?? thrown;
    if (error instanceof InvalidInput) {
      const { status, body } = bodies.invalidInput(error);
      return reply.status(status).send(body);
    }
    if (error instanceof DomainError) {
      const retryAfter = (error as { retryAfterSeconds?: unknown }).retryAfterSeconds;
      if (typeof retryAfter === "number") reply.header("retry-after", String(retryAfter));
      if (error instanceof RateLimited) reply.headers(error.headers);
      return reply.status(error.httpStatus).send(bodies.message(error.message));
    }
    const status = (error as FastifyError).statusCode;
    if (status === 413) return reply.status(413).send(bodies.message("Request body too large"));
    if (status && status >= 400 && status < 500) return reply.status(status).send(bodies.message(error.message));
    // Anything else is our fault: log it whole, answer without internals.
    request.log.error({ err: error }, "request failed");
    return reply.status(500).send(bodies.message("Internal server error"));
  };
}
