// MAX_OUTCOMES_PER_RULE: a rule has at most that many distinct outcomes. An event naming one more
// is refused whole (REST 400 {"message"}, GraphQL BAD_USER_INPUT) and nothing of it is stored;
// the limit is decided by the database, so two instances on one database keep it exactly.
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningServer } from "../../src/server";
import { createTenant, graphql, startSecondInstance, startTestApp, type Tenant, type TestApp } from "../helpers/app";
import { rawRequest } from "../helpers/raw-http";

const HOST = "limits.example.test";
const LIMIT = 5;
let app: TestApp;
let second: RunningServer;
let tenant: Tenant;

beforeAll(async () => {
  app = await startTestApp({ MAX_OUTCOMES_PER_RULE: String(LIMIT) });
  tenant = await createTenant(app);
  await app.server.services.sites.add(tenant.organisationId, HOST);
  second = await startSecondInstance(app, { MAX_OUTCOMES_PER_RULE: String(LIMIT) });
});
afterAll(async () => {
  await second?.close();
  await app?.stop();
});

function record(base: string, path: "exposures" | "conversions", body: Record<string, string>, visitor = randomUUID()) {
  return rawRequest(`${base}/zephr/public/rule-outcomes/v1/${path}`, {
    method: "POST",
    headers: { host: HOST, "content-type": "application/json", cookie: `blaize_tracking_id=${visitor}` },
    body: JSON.stringify(body),
  });
}

async function stats(ruleId: string) {
  const response = await graphql(
    app,
    "query($ruleId: ID!) { outcomeConversionStats(ruleId: $ruleId) { outcomes { outcomeId exposures conversions unattributedConversions } } }",
    { ruleId },
    { "x-api-key": tenant.apiKey },
  );
  return response.body.data.outcomeConversionStats.outcomes as { outcomeId: string; exposures: number }[];
}

describe("MAX_OUTCOMES_PER_RULE", () => {
  it("refuses a new outcome past the limit, whole, and keeps recording the known ones", async () => {
    const ruleId = `rule-${randomUUID()}`;
    expect((await record(app.url, "exposures", { ruleId, outcomeId: "o1,o2,o3,o4,o5" })).status).toBe(201);
    const refused = await record(app.url, "exposures", { ruleId, outcomeId: "o6" });
    expect(refused.status).toBe(400);
    expect(refused.body).toEqual({ message: expect.stringContaining(`at most ${LIMIT}`) });
    // A known outcome beside a new one: nothing of the request is stored.
    const mixed = await record(app.url, "conversions", { ruleId, outcomeId: "o1,o7", conversion: "CUSTOMER" });
    expect(mixed.status).toBe(400);
    expect((await record(app.url, "exposures", { ruleId, outcomeId: "o1" })).status).toBe(201);
    const outcomes = await stats(ruleId);
    expect(outcomes.map((outcome) => outcome.outcomeId)).toEqual(["o1", "o2", "o3", "o4", "o5"]);
    expect(outcomes[0]).toEqual({ outcomeId: "o1", exposures: 2, conversions: 0, unattributedConversions: 0 });
  });

  it("refuses over GraphQL with BAD_USER_INPUT", async () => {
    const ruleId = `rule-${randomUUID()}`;
    expect((await record(app.url, "exposures", { ruleId, outcomeId: "a,b,c,d,e" })).status).toBe(201);
    const response = await rawRequest(`${app.url}/graphql`, {
      method: "POST",
      headers: { host: HOST, "content-type": "application/json", cookie: `blaize_tracking_id=${randomUUID()}` },
      body: JSON.stringify({
        query:
          'mutation($ruleId: ID!) { recordRuleOutcomeExposure(input: { ruleId: $ruleId, outcomeId: "f" }) { ruleId } }',
        variables: { ruleId },
      }),
    });
    expect(response.body.errors[0].extensions.code).toBe("BAD_USER_INPUT");
    expect((await stats(ruleId)).length).toBe(LIMIT);
  });

  it("holds exactly when two instances add outcomes to one rule at once", async () => {
    const ruleId = `rule-${randomUUID()}`;
    const bases = [app.url, second.url];
    const answers = await Promise.all(
      Array.from({ length: 24 }, (_, index) =>
        record(bases[index % 2], "exposures", { ruleId, outcomeId: `x${index}` }).then((response) => response.status),
      ),
    );
    expect(answers.filter((status) => status === 201)).toHaveLength(LIMIT);
    expect(answers.filter((status) => status === 400)).toHaveLength(24 - LIMIT);
    const outcomes = await stats(ruleId);
    expect(outcomes).toHaveLength(LIMIT);
    expect(outcomes.every((outcome) => outcome.exposures === 1)).toBe(true);
  });
});
