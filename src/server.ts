// Start-up and shutdown in one place: config -> database -> services -> app -> listen, and the
// reverse on the way down. main.ts and the tests both start the service through here.
import "reflect-metadata";
import type { FastifyInstance } from "fastify";
import type { DataSource } from "typeorm";
import { buildApp, createLogger } from "./app";
import type { Config } from "./config";
import { openDatabase, resolveDatabaseTarget } from "./db/data-source";
import { createServices, entities, type ServiceOptions, type Services } from "./services";

export interface RunningServer {
  app: FastifyInstance;
  services: Services;
  dataSource: DataSource;
  /** The address it listens on, e.g. http://127.0.0.1:4001 */
  url: string;
  /** Stops taking requests, answers those in flight, drains the writer, closes the database. */
  close(): Promise<void>;
}

export async function startServer(config: Config, options: Pick<ServiceOptions, "clock"> = {}): Promise<RunningServer> {
  const target = await resolveDatabaseTarget(config);
  const dataSource = await openDatabase(target, entities);
  const logger = createLogger(config);
  const services = createServices(dataSource, config, { ...options, logger });
  let app: FastifyInstance;
  try {
    app = await buildApp(config, services, logger);
    app.log.info({ database: target.description }, "database ready, migrations applied");
    await app.listen({ host: config.HOST, port: config.PORT });
  } catch (error) {
    await dataSource.destroy();
    throw error;
  }
  const address = app.server.address();
  const port = typeof address === "object" && address ? address.port : config.PORT;
  const host = config.HOST === "0.0.0.0" || config.HOST === "::" ? "127.0.0.1" : config.HOST;

  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= (async () => {
      // Fastify stops accepting and waits for in-flight requests, which wait for their batch.
      await app.close();
      await services.writer.drain();
      await services.rateLimits.close();
      await dataSource.destroy();
    })();
    return closing;
  };
  return { app, services, dataSource, url: `http://${host}:${port}`, close };
}
