// Configuration is validated once, with errors that name the variable.
import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../src/config";

describe("loadConfig", () => {
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

  it("names the variable that is wrong", () => {
    expect(() => loadConfig({ PORT: "abc" })).toThrow(ConfigError);
    expect(() => loadConfig({ PORT: "abc" })).toThrow(/PORT/);
    expect(() => loadConfig({ WRITER_MAX_BATCH: "0" })).toThrow(/WRITER_MAX_BATCH/);
    expect(() => loadConfig({ TRUST_PROXY: "maybe" })).toThrow(/TRUST_PROXY/);
  });
});
