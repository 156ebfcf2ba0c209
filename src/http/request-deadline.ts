// Gives every request its deadline for the database (DatabaseDeadline) when it arrives:
// request.databaseDeadline, which routes and the GraphQL context hand to the services they call.
import type { FastifyInstance } from "fastify";
import type { DatabaseDeadline } from "../db/deadline";

declare module "fastify" {
  interface FastifyRequest {
    /** Epoch ms past which this request stops waiting for the database (503 instead). */
    databaseDeadline: number;
  }
}

/** Registers on the root app (not encapsulated): every route's database waits are bounded. */
export function requestDeadline(app: FastifyInstance, deadline: DatabaseDeadline): void {
  app.decorateRequest("databaseDeadline", 0);
  app.addHook("onRequest", (request, _reply, done) => {
    request.databaseDeadline = deadline.at();
    done();
  });
}
