// GraphQL safety: depth and cost limits, CSRF prevention, no HTTP batching by default,
// introspection and the Sandbox landing page per environment, `_service` always served.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTenant, graphql, http, startTestApp, type Tenant, type TestApp } from "../helpers/app";

let strict: TestApp;
let production: TestApp;
let tenant: Tenant;

beforeAll(async () => {
  strict = await startTestApp({ GRAPHQL_MAX_DEPTH: "3", GRAPHQL_MAX_COMPLEXITY: "60" });
  tenant = await createTenant(strict, ["a@example.com"]);
  production = await startTestApp({ NODE_ENV: "production" });
});
afterAll(async () => {
  await strict?.stop();
  await production?.stop();
});

describe("operation limits", () => {
  it("refuses a query nested deeper than GRAPHQL_MAX_DEPTH with a clear 400", async () => {
    const response = await graphql(strict, "{ conversions { edges { node { id } } } }", undefined, {
      "x-api-key": tenant.apiKey,
    });
    expect(response.status).toBe(400);
    expect(response.body.errors[0].message).toContain("nested too deeply");
    const shallow = await graphql(strict, "{ conversions { pageInfo { hasNextPage } } }", undefined, {
      "x-api-key": tenant.apiKey,
    });
    expect(shallow.status).toBe(200);
  });

  it("refuses an operation costlier than GRAPHQL_MAX_COMPLEXITY, lists weighted by first", async () => {
    const query =
      "query($first: Int) { conversions(first: $first) { pageInfo { hasNextPage endCursor startCursor hasPreviousPage } } }";
    const cheap = await graphql(strict, query, { first: 5 }, { "x-api-key": tenant.apiKey });
    expect(cheap.status).toBe(200);
    const costly = await graphql(strict, query, { first: 100 }, { "x-api-key": tenant.apiKey });
    expect(costly.status).toBe(400);
    expect(costly.body.errors[0].extensions).toMatchObject({ code: "QUERY_TOO_COMPLEX", maxComplexity: 60 });
  });
});

describe("graphql-js's own bounds", () => {
  it("answers the aborted check of a selection of thousands of fields as QUERY_TOO_COMPLEX, with HTTP 400", async () => {
    for (const fields of [1_000, 6_000]) {
      const response = await graphql(production, `{ ${Array.from({ length: fields }, () => "__typename").join(" ")} }`);
      expect(response.status).toBe(400);
      expect(response.body.errors).toEqual([
        {
          message: "Validation aborted: the operation's selections are too many to check",
          extensions: { code: "QUERY_TOO_COMPLEX" },
        },
      ]);
    }
    expect((await graphql(production, "{ __typename __typename }")).body).toEqual({ data: { __typename: "Query" } });
  });
});

describe("HTTP safety", () => {
  it("keeps CSRF prevention on: a simple GET without a preflight header is refused", async () => {
    const response = await http(`${strict.url}/graphql?query=${encodeURIComponent("{ __typename }")}`);
    expect(response.status).toBe(400);
    const allowed = await http(`${strict.url}/graphql?query=${encodeURIComponent("{ __typename }")}`, {
      headers: { "apollo-require-preflight": "true" },
    });
    expect(allowed.status).toBe(200);
  });

  it("refuses batched operations unless configured", async () => {
    const response = await http(`${strict.url}/graphql`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify([{ query: "{ __typename }" }, { query: "{ __typename }" }]),
    });
    expect(response.status).toBe(400);
  });
});

describe("per environment", () => {
  it("serves introspection and the Sandbox landing page in development", async () => {
    const introspection = await graphql(strict, "{ __schema { queryType { name } } }");
    expect(introspection.body.data.__schema.queryType.name).toBe("Query");
    const page = await http(`${strict.url}/graphql`, { headers: { accept: "text/html" } });
    expect(page.status).toBe(200);
    expect(page.text).toContain("sandbox");
  });

  it("turns both off in production but always serves _service to the router", async () => {
    const introspection = await graphql(production, "{ __schema { queryType { name } } }");
    expect(introspection.status).toBe(400);
    expect(introspection.body.errors[0].message).toMatch(/introspection/i);
    const page = await http(`${production.url}/graphql`, { headers: { accept: "text/html" } });
    expect(page.text).not.toContain("sandbox");
    const service = await graphql(production, "{ _service { sdl } }");
    expect(service.body.data._service.sdl).toContain("@key");
  });
});
