// Gives every request its deadline for the database (DatabaseDeadline) when it arrives, and keeps
// it across body parsing: the body is read in the socket's async context, so the request's own
// context is re-entered before validation (the way @fastify/request-context does it).
import { AsyncResource } from "node:async_hooks";
import type { FastifyInstance, FastifyRequest } from "fastify";
import type { DatabaseDeadline } from "../db/deadline";

const CONTEXT = Symbol("request deadline context");

type WithContext = FastifyRequest & { [CONTEXT]?: AsyncResource };

/** Registers on the root app (not encapsulated): every route's database waits are bounded. */
export function requestDeadline(app: FastifyInstance, deadline: DatabaseDeadline): void {
  app.addHook("onRequest", (request, _reply, done) => {
    deadline.run(() => {
      (request as WithContext)[CONTEXT] = new AsyncResource("request-deadline");
      done();
    });
  });
  app.addHook("preValidation", (request, _reply, done) => {
    const context = (request as WithContext)[CONTEXT];
    if (context) context.runInAsyncScope(done);
    else done();
  });
}
