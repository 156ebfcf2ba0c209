// Every environment variable the service reads, validated once at start-up.
// A bad value stops the process with one line naming the variable, before anything listens.
import { isIP } from "node:net";
import { availableParallelism } from "node:os";
import { z } from "zod";

const booleanFromEnv = z.enum(["true", "false", "1", "0"]).transform((value) => value === "true" || value === "1");

const PROXY_NAMES = new Set(["loopback", "linklocal", "uniquelocal"]);

/** An address, a CIDR or one of proxy-addr's names, as Fastify's trustProxy accepts them. */
function isProxyEntry(entry: string): boolean {
  const [address, range, ...rest] = entry.trim().split("/");
  if (rest.length > 0) return false;
  if (range === undefined && PROXY_NAMES.has(address)) return true;
  const version = isIP(address);
  if (version === 0) return false;
  if (range === undefined) return true;
  if (/^\d+$/.test(range)) return Number(range) <= (version === 4 ? 32 : 128);
  return version === 4 && isIP(range) === 4;
}

const configSchema = z.object({
  NODE_ENV: z.enum(["development", "production", "test"]).default("development"),
  HOST: z.string().min(1).default("0.0.0.0"),
  PORT: z.coerce.number().int().min(0).max(65535).default(4001),
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  /** One log line when a request arrives and one when it is answered (at info); off: errors only. */
  LOG_REQUESTS: booleanFromEnv.default(false),
  /** mysql://, mariadb:// or sqlite: URL; when unset the embedded SQLite file is used. */
  DATABASE_URL: z.string().optional(),
  SQLITE_PATH: z.string().min(1).default("./data/conversions.sqlite"),
  /** How long a verified API key is trusted without asking the database again (revocation delay). */
  API_KEY_CACHE_TTL_MS: z.coerce.number().int().min(0).max(300_000).default(30_000),
  /** How long a known contact is remembered (per instance; "not a contact" is never remembered). */
  CONTACT_CACHE_TTL_MS: z.coerce.number().int().min(0).max(3_600_000).default(60_000),
  /** Events written by one INSERT at most. */
  WRITER_MAX_BATCH: z.coerce.number().int().min(1).max(5_000).default(500),
  /** Events waiting for the database at most; beyond it requests get 503 with Retry-After. */
  WRITER_MAX_QUEUE: z.coerce.number().int().min(1).max(1_000_000).default(10_000),
  /** Distinct outcomes one rule may have; an event naming one more is refused (400). */
  MAX_OUTCOMES_PER_RULE: z.coerce.number().int().min(2).max(1_000).default(100),
  /** Worker threads for statistics too costly for the event loop; default: one core left to it (at most 4). */
  STATS_WORKERS: z.coerce
    .number()
    .int()
    .min(1)
    .max(64)
    .default(Math.max(1, Math.min(4, availableParallelism() - 1))),
  /**
   * Start the statistics worker threads with the service, and compile the figures' code on them and on the
   * event loop with a synthetic long series, so that the first long series is not several times slower.
   */
  STATS_WARM_UP: booleanFromEnv.default(true),
  /** Statistics waiting for a busy worker thread at most; one more is refused (503 with Retry-After). */
  STATS_WORKER_QUEUE: z.coerce.number().int().min(0).max(10_000).default(16),
  /** How long an Idempotency-Key is kept (then a bounded background sweep removes it). */
  IDEMPOTENCY_TTL_HOURS: z.coerce
    .number()
    .positive()
    .max(24 * 365)
    .default(24),
  /** How often expired Idempotency-Keys are swept. */
  IDEMPOTENCY_SWEEP_INTERVAL_MS: z.coerce.number().int().min(100).max(86_400_000).default(60_000),
  /**
   * How long a request waits for a database that does not answer (paused, restarting, unreachable,
   * a locked SQLite file) before it gets 503 with Retry-After; also bounds new connections and /ready.
   */
  DB_UNAVAILABLE_TIMEOUT_MS: z.coerce.number().int().min(100).max(60_000).default(5_000),
  /** Grace period for in-flight requests and queued events at shutdown. */
  SHUTDOWN_TIMEOUT_MS: z.coerce.number().int().min(0).max(600_000).default(10_000),
  /** The whole request (headers and body) must arrive within this; a slower client gets 408. */
  REQUEST_TIMEOUT_MS: z.coerce.number().int().min(100).max(3_600_000).default(30_000),
  /** The request's headers must arrive within this; at most REQUEST_TIMEOUT_MS. */
  HEADERS_TIMEOUT_MS: z.coerce.number().int().min(100).max(3_600_000).default(10_000),
  GRAPHQL_INTROSPECTION: booleanFromEnv.optional(),
  /** Apollo Sandbox landing page at GET /graphql; default: on outside production. */
  GRAPHQL_LANDING_PAGE: booleanFromEnv.optional(),
  /** Several operations in one HTTP request (an array body); off unless needed. */
  GRAPHQL_ALLOW_BATCHING: booleanFromEnv.default(false),
  GRAPHQL_MAX_DEPTH: z.coerce.number().int().min(2).max(100).default(12),
  /** Cost of one operation at most: 1 per field, lists counted `first` times, `_entities` once per representation. */
  GRAPHQL_MAX_COMPLEXITY: z.coerce.number().int().min(10).max(1_000_000).default(5_000),
  /** Tokens of one GraphQL document at most: bounds the cost of parsing and validating it. */
  GRAPHQL_MAX_TOKENS: z.coerce.number().int().min(100).max(1_000_000).default(10_000),
  /** Aliased fields of one operation at most (fragments counted where spread). */
  GRAPHQL_MAX_ALIASES: z.coerce.number().int().min(0).max(10_000).default(100),
  /**
   * Executions of a GraphQL document by graphql-js before it is compiled by graphql-jit (0: compiled on
   * first sight; a stream of one-off documents then pays a compilation each).
   */
  GRAPHQL_COMPILE_AFTER: z.coerce.number().int().min(0).max(1_000_000).default(1),
  /** Representations of one `_entities` call at most. */
  GRAPHQL_MAX_REPRESENTATIONS: z.coerce.number().int().min(1).max(100_000).default(1_000),
  /**
   * Which proxies' X-Forwarded-* headers to believe: true (any), false, a hop count, or a
   * comma-separated list of addresses/CIDRs (Fastify's trustProxy).
   */
  TRUST_PROXY: z
    .string()
    .default("false")
    .transform((value, context): boolean | number | string => {
      if (value === "true" || value === "false") return value === "true";
      if (/^\d+$/.test(value)) return Number(value);
      if (value.split(",").every(isProxyEntry)) return value;
      context.addIssue({
        code: "custom",
        message: "must be true, false, a hop count, or comma-separated addresses/CIDRs",
      });
      return z.NEVER;
    }),
  /** Organisation of public calls whose host is no registered site; unset: such calls get 404. */
  DEFAULT_ORGANISATION_ID: z.string().min(1).max(36).optional(),
  /** How long a site host -> organisation lookup is reused. */
  SITE_CACHE_TTL_MS: z.coerce.number().int().min(0).max(300_000).default(30_000),
  /**
   * Public (browser) calls per organisation and tracking id per minute: exposures and conversions,
   * REST and GraphQL (one per mutation field) share it. 0 turns it off.
   */
  PUBLIC_VISITOR_RATE_LIMIT_PER_MINUTE: z.coerce.number().int().min(0).max(1_000_000).default(300),
  /** Public calls per client address per minute; 0 (the default) turns it off: many people share an address. */
  PUBLIC_ADDRESS_RATE_LIMIT_PER_MINUTE: z.coerce.number().int().min(0).max(10_000_000).default(0),
  /** Calls per API key per second; 0 (the default) turns it off. */
  API_KEY_RATE_LIMIT_PER_SECOND: z.coerce.number().int().min(0).max(1_000_000).default(0),
  /** Redis shared by every instance for the rate limits; unset: limits are per instance. */
  REDIS_URL: z
    .string()
    .regex(/^rediss?:\/\//, "must start with redis:// or rediss://")
    .optional(),
  /** Prefix of the keys written to Redis. */
  REDIS_KEY_PREFIX: z.string().max(100).default("conversions:"),
  /** A Redis command slower than this counts the call in the instance's memory instead. */
  REDIS_COMMAND_TIMEOUT_MS: z.coerce.number().int().min(10).max(10_000).default(250),
  /** Prometheus metrics at GET /metrics. */
  METRICS_ENABLED: booleanFromEnv.default(true),
  /** Serve GET /metrics on this port of HOST instead of the public one; unset: on the public port. */
  METRICS_PORT: z.preprocess(
    (value) => (value === "" ? undefined : value),
    z.coerce.number().int().min(0).max(65535).optional(),
  ),
  /** HS256 secret verifying visitors' JWTs (at least 32 characters). */
  JWT_SECRET: z.string().min(32, "must be at least 32 characters").optional(),
  /** JWKS endpoint verifying RS256/ES256 JWTs. */
  JWT_JWKS_URL: z.url().optional(),
  JWT_ISSUER: z.string().min(1).optional(),
  JWT_AUDIENCE: z.string().min(1).optional(),
});

export type RawConfig = z.infer<typeof configSchema>;

/** The names of every variable read here. */
export const CONFIG_VARIABLES = Object.keys(configSchema.shape);

export interface Config extends RawConfig {
  graphqlIntrospection: boolean;
  graphqlLandingPage: boolean;
  /** GraphQL error messages name no fields, arguments or values the caller did not write ("Did you mean ...?"). */
  graphqlHideSuggestions: boolean;
}

export class ConfigError extends Error {}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = configSchema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join(".")}: ${issue.message}`).join("; ");
    throw new ConfigError(`Invalid configuration: ${problems}`);
  }
  const raw = parsed.data;
  if (raw.HEADERS_TIMEOUT_MS > raw.REQUEST_TIMEOUT_MS) {
    throw new ConfigError("Invalid configuration: HEADERS_TIMEOUT_MS: must be at most REQUEST_TIMEOUT_MS");
  }
  if (raw.METRICS_PORT !== undefined && raw.METRICS_PORT !== 0 && raw.METRICS_PORT === raw.PORT) {
    throw new ConfigError("Invalid configuration: METRICS_PORT: must differ from PORT");
  }
  return {
    ...raw,
    graphqlIntrospection: raw.GRAPHQL_INTROSPECTION ?? raw.NODE_ENV !== "production",
    graphqlLandingPage: raw.GRAPHQL_LANDING_PAGE ?? raw.NODE_ENV !== "production",
    graphqlHideSuggestions: raw.NODE_ENV === "production",
  };
}
