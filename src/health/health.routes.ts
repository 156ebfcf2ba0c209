// Liveness (/health: the process answers) and readiness (/ready: the database answers too, within
// the request's database budget, DB_UNAVAILABLE_TIMEOUT_MS).
import type { FastifyInstance } from "fastify";
import type { DataSource } from "typeorm";
import type { DatabaseDeadline } from "../db/deadline";

export async function healthRoutes(
  app: FastifyInstance,
  { dataSource, deadline }: { dataSource: DataSource; deadline: DatabaseDeadline },
) {
  app.get("/health", async () => ({ status: "ok" }));

  app.get("/ready", async (request, reply) => {
    try {
      await deadline.bound(() => dataSource.query("SELECT 1"));
      return { status: "ready" };
    } catch (error) {
      request.log.warn({ err: error }, "readiness check failed");
      return reply.status(503).send({ status: "unavailable" });
    }
  });
}
