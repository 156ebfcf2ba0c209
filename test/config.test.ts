// Configuration is validated once, with errors that name the variable.
import { availableParallelism } from "node:os";
import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../src/config";

describe("loadConfig", () => {
  it("reads TRUST_PROXY as Fastify does: boolean, hop count or addresses", () => {
    expect(loadConfig({}).TRUST_PROXY).toBe(false);
    expect(loadConfig({ TRUST_PROXY: "true" }).TRUST_PROXY).toBe(true);
    expect(loadConfig({ TRUST_PROXY: "1" }).TRUST_PROXY).toBe(1);
    expect(loadConfig({ TRUST_PROXY: "10.0.0.0/8,127.0.0.1" }).TRUST_PROXY).toBe("10.0.0.0/8,127.0.0.1");
  });

  it("has working defaults for a newcomer", () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      PORT: 4001,
      SQLITE_PATH: "./data/conversions.sqlite",
      API_KEY_CACHE_TTL_MS: 30_000,
    });
    expect(config.DATABASE_URL).toBeUndefined();
    expect(config.graphqlIntrospection).toBe(true);
  });

  it("turns introspection off in production unless asked", () => {
    expect(loadConfig({ NODE_ENV: "production" }).graphqlIntrospection).toBe(false);
    expect(loadConfig({ NODE_ENV: "production", GRAPHQL_INTROSPECTION: "true" }).graphqlIntrospection).toBe(true);
  });

  it("keeps a core for the event loop: STATS_WORKERS defaults to the cores less one, 1 to 4", () => {
    expect(loadConfig({}).STATS_WORKERS).toBe(Math.max(1, Math.min(4, availableParallelism() - 1)));
    expect(loadConfig({ STATS_WORKERS: "3", STATS_WORKER_QUEUE: "0" })).toMatchObject({
      STATS_WORKERS: 3,
      STATS_WORKER_QUEUE: 0,
    });
    expect(() => loadConfig({ STATS_WORKERS: "0" })).toThrow(/STATS_WORKERS/);
  });

  it("names the variable that is wrong", () => {
    expect(() => loadConfig({ PORT: "abc" })).toThrow(ConfigError);
    expect(() => loadConfig({ PORT: "abc" })).toThrow(/PORT/);
    expect(() => loadConfig({ WRITER_MAX_BATCH: "0" })).toThrow(/WRITER_MAX_BATCH/);
    expect(() => loadConfig({ JWT_SECRET: "short" })).toThrow(/JWT_SECRET/);
    expect(() => loadConfig({ JWT_JWKS_URL: "not a url" })).toThrow(/JWT_JWKS_URL/);
  });
});
