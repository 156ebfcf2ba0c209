// No single GraphQL request can stall or flood the service: `_entities` costs once per
// representation and takes a bounded number of well-formed ones, aliases are capped (fragments
// included), a request carries at most 10 public recording mutations, and a router-sized batch of
// RuleOutcome representations works on every database. Each case failed before these limits.
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTenant, graphql, http, startTestApp, type Tenant, type TestApp } from "../helpers/app";
import { rawRequest } from "../helpers/raw-http";

let app: TestApp;
/** GRAPHQL_MAX_REPRESENTATIONS and the cost limit raised to take a 1,100-representation router batch. */
let roomy: TestApp;
let tenant: Tenant;
const HOST = "protection.example.test";

beforeAll(async () => {
  [app, roomy] = await Promise.all([
    startTestApp(),
    startTestApp({ GRAPHQL_MAX_REPRESENTATIONS: "1100", GRAPHQL_MAX_COMPLEXITY: "100000" }),
  ]);
  tenant = await createTenant(app, ["a@example.com"]);
  await app.server.services.sites.add(tenant.organisationId, HOST);
});
afterAll(async () => {
  await Promise.all([app?.stop(), roomy?.stop()]);
});

const ENTITIES = "query($representations: [_Any!]!) { _entities(representations: $representations) { __typename ";
const contacts = (count: number) =>
  Array.from({ length: count }, (_, index) => ({ __typename: "Contact", email: `u${index}@x.io` }));
const aliases = (count: number, field = "email") =>
  Array.from({ length: count }, (_, index) => `a${index}: ${field}`).join(" ");

describe("_entities", () => {
  it("costs its selection once per representation: 2,000 × 500 aliases is refused before anything runs", async () => {
    const response = await graphql(app, `${ENTITIES} ... on Contact { ${aliases(99)} } } }`, {
      representations: contacts(1000),
    });
    expect(response.status).toBe(400);
    expect(response.body.errors[0].extensions).toMatchObject({ code: "QUERY_TOO_COMPLEX", maxComplexity: 5000 });
    expect(response.body.data).toBeUndefined();
    const inline = `{ _entities(representations: [${contacts(2000)
      .map((c) => `{__typename: "Contact", email: "${c.email}"}`)
      .join(", ")}]) { ... on Contact { ${aliases(500)} } } }`;
    const amplified = await graphql(app, inline);
    expect(amplified.status).toBe(400);
    expect(["QUERY_TOO_COMPLEX", "BAD_USER_INPUT"]).toContain(amplified.body.errors[0].extensions.code);
  });

  it("takes at most GRAPHQL_MAX_REPRESENTATIONS (1,000) representations", async () => {
    const accepted = await graphql(app, `${ENTITIES} ... on Contact { email } } }`, {
      representations: contacts(1000),
    });
    expect(accepted.status).toBe(200);
    expect(accepted.body.data._entities).toHaveLength(1000);
    const refused = await graphql(app, `${ENTITIES} ... on Contact { email } } }`, { representations: contacts(1001) });
    expect(refused.status).toBe(400);
    expect(refused.body.errors[0].extensions).toMatchObject({ code: "BAD_USER_INPUT", field: "representations" });
  });

  it("refuses a representation of the wrong shape as BAD_USER_INPUT for the request", async () => {
    for (const representation of [
      { __typename: "Conversion", id: 5 },
      { __typename: "Conversion" },
      { __typename: "RuleOutcome", ruleId: "r" },
      { __typename: "Nothing", id: "x" },
      { email: "a@example.com" },
    ]) {
      const response = await graphql(
        app,
        `${ENTITIES} ... on Conversion { id } } }`,
        { representations: [{ __typename: "Contact", email: "a@example.com" }, representation] },
        { "x-api-key": tenant.apiKey },
      );
      expect(response.status, JSON.stringify(representation)).toBe(400);
      expect(response.body.errors[0].extensions).toMatchObject({ code: "BAD_USER_INPUT", field: "representations.1" });
    }
  });

  it("resolves a router batch of 1,100 RuleOutcome representations (one statement per chunk, any database)", async () => {
    const owner = await createTenant(roomy);
    const representations = Array.from({ length: 1100 }, (_, index) => ({
      __typename: "RuleOutcome",
      ruleId: `rule-${index % 7}`,
      outcomeId: `outcome-${index}`,
    }));
    const response = await graphql(
      roomy,
      `${ENTITIES} ... on RuleOutcome { ruleId exposures } } }`,
      { representations },
      { "x-api-key": owner.apiKey },
    );
    expect(response.status).toBe(200);
    expect(response.body.errors).toBeUndefined();
    expect(response.body.data._entities).toHaveLength(1100);
  });
});

describe("aliases", () => {
  it("answers 100 aliases and refuses 101, those in fragments counted where spread", async () => {
    const headers = { "x-api-key": tenant.apiKey };
    const hundred = await graphql(
      app,
      `{ conversions(first: 1) { ${aliases(99, "pageInfo { hasNextPage }")} } x: __typename }`,
      undefined,
      headers,
    );
    expect(hundred.status).toBe(200);
    const more = await graphql(
      app,
      `{ conversions(first: 1) { ${aliases(100, "pageInfo { hasNextPage }")} } x: __typename }`,
      undefined,
      headers,
    );
    expect(more.status).toBe(400);
    expect(more.body.errors[0].extensions.code).toBe("QUERY_TOO_COMPLEX");
    // 51 aliases in a fragment spread twice: 102.
    const fragment = `fragment F on ConversionConnection { ${aliases(51, "pageInfo { hasNextPage }")} }`;
    const spread = await graphql(
      app,
      `{ one: conversions(first: 1) { ...F } conversions(first: 1) { ...F } } ${fragment}`,
      undefined,
      headers,
    );
    expect(spread.status).toBe(400);
    expect(spread.body.errors[0].extensions.code).toBe("QUERY_TOO_COMPLEX");
  });
});

describe("public recording mutations", () => {
  const mutations = (count: number, ruleId: string) =>
    `mutation { ${Array.from(
      { length: count },
      (_, index) =>
        `m${index}: recordRuleOutcomeExposure(input: { ruleId: "${ruleId}", outcomeId: "o${index % 3}" }) { ruleId }`,
    ).join(" ")} }`;
  const send = (query: string) =>
    rawRequest(`${app.url}/graphql`, {
      method: "POST",
      headers: { host: HOST, "content-type": "application/json", cookie: `blaize_tracking_id=${randomUUID()}` },
      body: JSON.stringify({ query }),
    });

  it("carries at most 10 per request, and stores nothing of a request with 11", async () => {
    const ruleId = `rule-${randomUUID()}`;
    const ten = await send(mutations(10, ruleId));
    expect(ten.status).toBe(200);
    expect(Object.keys(ten.body.data)).toHaveLength(10);
    const refusedRule = `rule-${randomUUID()}`;
    const eleven = await send(mutations(11, refusedRule));
    expect(eleven.status).toBe(400);
    expect(eleven.body.errors[0].extensions.code).toBe("QUERY_TOO_COMPLEX");
    const stats = await graphql(
      app,
      "query($ruleId: ID!) { outcomeConversionStats(ruleId: $ruleId) { totalExposures } }",
      { ruleId: refusedRule },
      { "x-api-key": tenant.apiKey },
    );
    expect(stats.body.data.outcomeConversionStats.totalExposures).toBe(0);
  });
});

describe("outcomeConversionSeries", () => {
  // Its answer (up to 366 days × MAX_OUTCOMES_PER_RULE outcomes) is far past what its selection costs.
  it("is asked at most once per operation, aliases and fragments included", async () => {
    const series = (alias: string) =>
      `${alias}: outcomeConversionSeries(ruleId: "r", from: "2026-01-01", to: "2026-01-02") { days { day } }`;
    const headers = { "x-api-key": tenant.apiKey };
    const one = await graphql(
      app,
      `{ ${series("a")} outcomeConversionStats(ruleId: "r") { totalExposures } }`,
      undefined,
      headers,
    );
    expect(one.status).toBe(200);
    expect(one.body.data.a.days.map((day: { day: string }) => day.day)).toEqual(["2026-01-01", "2026-01-02"]);
    for (const query of [
      `{ ${series("a")} ${series("b")} }`,
      `{ ${series("a")} ...more } fragment more on Query { ${series("b")} }`,
    ]) {
      const two = await graphql(app, query, undefined, headers);
      expect(two.status).toBe(400);
      expect(two.body.errors[0].extensions.code).toBe("QUERY_TOO_COMPLEX");
      expect(two.body.errors[0].message).toBe(
        "An operation may carry at most 1 outcomeConversionSeries; this one has 2",
      );
      expect(two.body.data).toBeUndefined();
    }
  });
});

describe("under a stream of refused requests", () => {
  it("keeps /health answering", async () => {
    const query = `${ENTITIES} ... on Contact { ${aliases(99)} } } }`;
    const body = JSON.stringify({ query, variables: { representations: contacts(1000) } });
    let stop = false;
    const flood = (async () => {
      let refused = 0;
      while (!stop) {
        const response = await http(`${app.url}/graphql`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body,
        });
        expect(response.status).toBe(400);
        refused++;
      }
      return refused;
    })();
    const health: number[] = [];
    for (let index = 0; index < 10; index++) health.push((await http(`${app.url}/health`)).status);
    stop = true;
    expect(await flood).toBeGreaterThan(0);
    expect(health).toEqual(Array(10).fill(200));
  });
});
