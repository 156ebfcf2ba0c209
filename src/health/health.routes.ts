// Liveness (/health: the process answers) and readiness (/ready: the database answers too).
import type { FastifyInstance } from "fastify";
import type { DataSource } from "typeorm";

const READY_TIMEOUT_MS = 2_000;

export async function healthRoutes(app: FastifyInstance, { dataSource }: { dataSource: DataSource }) {
  app.get("/health", async () => ({ status: "ok" }));

  app.get("/ready", async (request, reply) => {
    try {
      await withTimeout(dataSource.query("SELECT 1"), READY_TIMEOUT_MS);
      return { status: "ready" };
    } catch (error) {
      request.log.warn({ err: error }, "readiness check failed");
      return reply.status(503).send({ status: "unavailable" });
    }
  });
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
