// Liveness (/health: the process answers) and readiness (/ready: the database answers too, within
// the request's database budget, DB_UNAVAILABLE_TIMEOUT_MS).
import type { FastifyInstance } from "fastify";
import type { DataSource } from "typeorm";
import type { DatabaseDeadline } from "../db/deadline";
import { schemasDocumentOnly, TAGS } from "../http/openapi";

const statusBody = (status: string, description: string) =>
  ({
    description,
    type: "object",
    required: ["status"],
    properties: { status: { const: status } },
    additionalProperties: false,
    examples: [{ status }],
  }) as const;

export async function healthRoutes(
  app: FastifyInstance,
  { dataSource, deadline }: { dataSource: DataSource; deadline: DatabaseDeadline },
) {
  schemasDocumentOnly(app);
  app.get(
    "/health",
    {
      schema: {
        summary: "Liveness",
        description: "Answers while the process lives.",
        tags: [TAGS.health],
        response: { 200: statusBody("ok", "The process answers.") },
      },
    },
    async () => ({ status: "ok" }),
  );

  const readiness = {
    summary: "Readiness",
    description: "Answers `200` while the database answers `SELECT 1` within `DB_UNAVAILABLE_TIMEOUT_MS`.",
    tags: [TAGS.health],
    response: {
      200: statusBody("ready", "The database answers."),
      503: statusBody("unavailable", "The database does not answer in time."),
    },
  };
  app.get("/ready", { schema: readiness }, async (request, reply) => {
    try {
      await deadline.bound(() => dataSource.query("SELECT 1"));
      return { status: "ready" };
    } catch (error) {
      request.log.warn({ err: error }, "readiness check failed");
      return reply.status(503).send({ status: "unavailable" });
    }
  });
}
