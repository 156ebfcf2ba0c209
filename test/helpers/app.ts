// Starts the real service (Fastify, GraphQL, REST shim) on a fresh database and a free port,
// and creates tenants the way the admin command line does.
import { type Config, loadConfig } from "../../src/config";
import { type RunningServer, startServer } from "../../src/server";
import type { ServiceOptions } from "../../src/services";
import { createTestDatabase, type TestDatabase } from "./database";

export interface TestApp {
  server: RunningServer;
  url: string;
  database: TestDatabase;
  config: Config;
  stop(): Promise<void>;
}

/** Starts the app on a fresh database, or on `database` (e.g. a second instance of a test). */
export async function startTestApp(
  env: Record<string, string> = {},
  existing?: TestDatabase,
  options: Pick<ServiceOptions, "clock"> = {},
): Promise<TestApp> {
  const database = existing ?? (await createTestDatabase());
  const config = loadConfig({
    NODE_ENV: "test",
    HOST: "127.0.0.1",
    PORT: "0",
    LOG_LEVEL: "silent",
    API_KEY_CACHE_TTL_MS: "0",
    // Tests send many public calls per visitor; test/rules/rate-limit.test.ts sets limits.
    PUBLIC_VISITOR_RATE_LIMIT_PER_MINUTE: "0",
    // Every document compiled by graphql-jit at once: the suite runs the path that repeated documents take
    // (test/graphql/compiled-execution.test.ts compares it with graphql-js's).
    GRAPHQL_COMPILE_AFTER: "0",
    // No statistics threads started with each of the suite's many services (test/rules/series-load.test.ts
    // starts them).
    STATS_WARM_UP: "false",
    ...database.env,
    ...env,
  });
  const server = await startServer(config, options);
  let stopped = false;
  return {
    server,
    url: server.url,
    database,
    config,
    stop: async () => {
      if (stopped) return;
      stopped = true;
      await server.close();
      await database.drop();
    },
  };
}

/**
 * Another instance of the service on the same database, as a second replica would run: its own
 * process state (caches, writer, in-flight keys), the database shared. `env` adds to the test defaults.
 */
export function startSecondInstance(app: TestApp, env: Record<string, string> = {}): Promise<RunningServer> {
  return startServer(
    loadConfig({
      NODE_ENV: "test",
      HOST: "127.0.0.1",
      PORT: "0",
      GRAPHQL_COMPILE_AFTER: "0",
      STATS_WARM_UP: "false",
      LOG_LEVEL: "silent",
      API_KEY_CACHE_TTL_MS: "0",
      PUBLIC_VISITOR_RATE_LIMIT_PER_MINUTE: "0",
      ...app.database.env,
      ...env,
    }),
  );
}

export interface Tenant {
  organisationId: string;
  apiKey: string;
  apiKeyId: string;
}

export async function createTenant(app: TestApp, contacts: string[] = []): Promise<Tenant> {
  const { services } = app.server;
  const organisation = await services.organisations.create(`Org ${Math.random().toString(36).slice(2)}`);
  const key = await services.apiKeys.create(organisation.id, "test");
  if (contacts.length > 0) await services.contacts.upsert(organisation.id, contacts);
  return { organisationId: organisation.id, apiKey: key.key, apiKeyId: key.id };
}

export interface HttpResult<T = any> {
  status: number;
  headers: Headers;
  body: T;
  text: string;
}

export async function http<T = any>(
  url: string,
  init: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<HttpResult<T>> {
  const response = await fetch(url, { method: init.method ?? "GET", headers: init.headers, body: init.body });
  const text = await response.text();
  let body: any = text;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON: keep the text
  }
  return { status: response.status, headers: response.headers, body, text };
}

export function graphql<T = any>(
  app: TestApp,
  query: string,
  variables?: Record<string, unknown>,
  headers: Record<string, string> = {},
) {
  return http<T>(`${app.url}/graphql`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify({ query, variables }),
  });
}
