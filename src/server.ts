// Start-up and shutdown in one place: config -> database -> services -> app -> listen, and the
// reverse on the way down. main.ts and the tests both start the service through here.
import "reflect-metadata";
import type { FastifyBaseLogger, FastifyInstance } from "fastify";
import type { DataSource } from "typeorm";
import { buildApp, createLogger } from "./app";
import type { Config } from "./config";
import { openDatabase, resolveDatabaseTarget } from "./db/data-source";
import { buildMetricsApp, createServiceMetrics } from "./metrics";
import { createServices, entities, type ServiceOptions, type Services } from "./services";

export interface RunningServer {
  app: FastifyInstance;
  services: Services;
  dataSource: DataSource;
  /** The address it listens on, e.g. http://127.0.0.1:4001 */
  url: string;
  /** Where GET /metrics is served when METRICS_PORT is set, e.g. http://127.0.0.1:9464 */
  metricsUrl?: string;
  /** Stops taking requests, answers those in flight, drains the writer, closes the database. */
  close(): Promise<void>;
}

export async function startServer(config: Config, options: Pick<ServiceOptions, "clock"> = {}): Promise<RunningServer> {
  const target = await resolveDatabaseTarget(config);
  const dataSource = await openDatabase(target, entities);
  const logger = createLogger(config);
  const services = createServices(dataSource, config, { ...options, logger });
  const metrics = config.METRICS_ENABLED ? createServiceMetrics(services) : undefined;
  const metricsApp =
    metrics && config.METRICS_PORT !== undefined
      ? buildMetricsApp(metrics, config, logger as FastifyBaseLogger)
      : undefined;
  let app: FastifyInstance;
  try {
    app = await buildApp(config, services, logger, { metrics });
    app.log.info({ database: target.description }, "database ready, migrations applied");
    // Before listening: after it, its 0.6 s of CPU on two threads would share the cores with the first requests
    // (a readiness probe waits for the port anyway). A failure costs only the first series' speed.
    await services.warmUp().catch((error) => logger.warn({ err: error }, "the statistics warm-up failed"));
    await app.listen({ host: config.HOST, port: config.PORT });
  } catch (error) {
    await services.statsWorkers.close();
    await dataSource.destroy();
    throw error;
  }
  if (metricsApp) {
    try {
      await metricsApp.listen({ host: config.HOST, port: config.METRICS_PORT });
    } catch (error) {
      await app.close();
      await services.statsWorkers.close();
      await dataSource.destroy();
      throw error;
    }
  }
  services.idempotency.startSweeper();
  const host = config.HOST === "0.0.0.0" || config.HOST === "::" ? "127.0.0.1" : config.HOST;
  const urlOf = (instance: FastifyInstance, configured: number) => {
    const address = instance.server.address();
    return `http://${host}:${typeof address === "object" && address ? address.port : configured}`;
  };

  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= (async () => {
      // Fastify stops accepting and waits for in-flight requests, which wait for their batch.
      await app.close();
      // No request is left to wait for a statistics thread.
      await services.statsWorkers.close();
      await services.writer.drain();
      await services.idempotency.stopSweeper();
      await services.rateLimits.close();
      // Metrics stay up until the last batch is written, so the drain can be watched.
      await metricsApp?.close();
      await dataSource.destroy();
    })();
    return closing;
  };
  return {
    app,
    services,
    dataSource,
    url: urlOf(app, config.PORT),
    metricsUrl: metricsApp && urlOf(metricsApp, config.METRICS_PORT ?? 0),
    close,
  };
}
