// Prometheus metrics at GET /metrics (prom-client): HTTP latency per route, and the batching
// writer's queue depth, batch sizes and commit times: what an operator watches under load.
// Served on the public app, or with METRICS_PORT on a server of their own.
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from "fastify";
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";
import type { VisitorIdentifier } from "./auth/visitor";
import type { Config } from "./config";
import type { BatchWriter } from "./db/batch-writer";
import { httpServerOptions } from "./http/server-options";
import type { RateLimitStore } from "./rate-limit/rate-limiter";

export interface ServiceMetrics {
  readonly registry: Registry;
  /** Observes the latency of every route of `app`: call it on the root instance. */
  observeRequests(app: FastifyInstance): void;
}

export interface MeasuredServices {
  writer: Pick<BatchWriter<unknown>, "pending" | "observe">;
  rateLimits: Pick<RateLimitStore, "onFallback">;
  visitors: Pick<VisitorIdentifier, "onIgnoredCookie">;
}

export function createServiceMetrics({ writer, rateLimits, visitors }: MeasuredServices): ServiceMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });

  new Gauge({
    name: "conversions_writer_queue_depth",
    help: "Events waiting for the database.",
    registers: [registry],
    collect() {
      this.set(writer.pending);
    },
  });
  const batchSize = new Histogram({
    name: "conversions_writer_batch_size",
    help: "Events written per transaction.",
    buckets: [1, 2, 5, 10, 25, 50, 100, 250, 500, 1000],
    registers: [registry],
  });
  const batchSeconds = new Histogram({
    name: "conversions_writer_batch_seconds",
    help: "Time to write and commit one batch.",
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  });
  const batches = new Counter({
    name: "conversions_writer_batches_total",
    help: "Batches written, by result.",
    labelNames: ["result"],
    registers: [registry],
  });
  writer.observe(({ size, seconds, ok }) => {
    batchSize.observe(size);
    batchSeconds.observe(seconds);
    batches.inc({ result: ok ? "committed" : "failed" });
  });

  const fallbacks = new Counter({
    name: "conversions_rate_limit_fallbacks_total",
    help: "Calls counted in this instance's memory because Redis did not answer.",
    registers: [registry],
  });
  rateLimits.onFallback(() => fallbacks.inc());

  const ignoredCookies = new Counter({
    name: "conversions_jwt_cookies_ignored_total",
    help: "Public calls recorded as anonymous because their blaize_jwt cookie did not verify, by reason.",
    labelNames: ["reason"],
    registers: [registry],
  });
  visitors.onIgnoredCookie((reason) => ignoredCookies.inc({ reason }));

  const requestSeconds = new Histogram({
    name: "http_request_duration_seconds",
    help: "HTTP request latency by route.",
    labelNames: ["method", "route", "status_code"],
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  });
  return {
    registry,
    observeRequests(app) {
      app.addHook("onResponse", (request, reply, done) => {
        requestSeconds.observe(
          {
            method: request.method,
            route: request.routeOptions.url ?? "unmatched",
            status_code: String(reply.statusCode),
          },
          reply.elapsedTime / 1000,
        );
        done();
      });
    },
  };
}

/** GET /metrics: the Prometheus text of `metrics`. */
export function metricsRoute(app: FastifyInstance, { registry }: ServiceMetrics) {
  app.get("/metrics", async (_request, reply) =>
    reply.header("content-type", registry.contentType).send(await registry.metrics()),
  );
}

/** A Fastify app serving only GET /metrics, for METRICS_PORT. */
export function buildMetricsApp(
  metrics: ServiceMetrics,
  config: Pick<Config, "REQUEST_TIMEOUT_MS" | "HEADERS_TIMEOUT_MS">,
  logger: FastifyBaseLogger,
): FastifyInstance {
  const app = Fastify({ loggerInstance: logger, ...httpServerOptions(config) });
  metricsRoute(app, metrics);
  return app;
}
