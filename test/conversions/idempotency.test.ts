// Idempotency-Key on every ingest path (draft-ietf-httpapi-idempotency-key-header): a retry of a
// stored request replays the first answer and stores nothing, the same key with another request is
// refused, a request that stored nothing keeps no key, and concurrent duplicates, on one instance
// or two, store exactly one event. Keys expire after IDEMPOTENCY_TTL_HOURS.
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningServer } from "../../src/server";
import {
  createTenant,
  graphql,
  http,
  startSecondInstance,
  startTestApp,
  type Tenant,
  type TestApp,
} from "../helpers/app";
import { queryDatabase } from "../helpers/processes";
import { rawRequest } from "../helpers/raw-http";

const HOST = "keys.example.test";
let app: TestApp;
let second: RunningServer;
let tenant: Tenant;

beforeAll(async () => {
  app = await startTestApp();
  tenant = await createTenant(app, ["buyer@example.com", "other@example.com"]);
  await app.server.services.sites.add(tenant.organisationId, HOST);
  second = await startSecondInstance(app);
});
afterAll(async () => {
  await second?.close();
  await app?.stop();
});

function log(body: Record<string, unknown>, key?: string, base = app.url, apiKey = tenant.apiKey) {
  return http(`${base}/api/v2/conversions`, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      "x-api-key": apiKey,
      ...(key === undefined ? {} : { "idempotency-key": key }),
    },
    body: JSON.stringify(body),
  });
}

async function storedConversions(email: string): Promise<number> {
  const [row] = await queryDatabase(
    app.database,
    "SELECT COUNT(*) AS n FROM conversions WHERE organisation_id = ? AND email = ?",
    [tenant.organisationId, email],
  );
  return Number(row.n);
}

describe("POST /api/v2/conversions with Idempotency-Key", () => {
  it("replays a retry with the first answer and Idempotent-Replayed: true, storing nothing more", async () => {
    const email = `replay-${randomUUID()}@example.com`;
    await app.server.services.contacts.upsert(tenant.organisationId, [email]);
    const key = `order-${randomUUID()}`;
    const first = await log({ email, conversion_type: "purchase", conversion_data: { b: 2, a: 1 } }, key);
    expect(first.status).toBe(202);
    expect(first.headers.get("idempotent-replayed")).toBeNull();
    // The same request, its email cased and spaced differently and its data's keys in another order.
    const retry = await log(
      { email: ` ${email.toUpperCase()}`, conversion_type: "purchase", conversion_data: { a: 1, b: 2 } },
      key,
    );
    expect(retry.status).toBe(202);
    expect(retry.body).toEqual(first.body);
    expect(retry.headers.get("idempotent-replayed")).toBe("true");
    expect(await storedConversions(email)).toBe(1);
  });

  it("refuses the same key with a different request: 422 {detail}", async () => {
    const key = `k-${randomUUID()}`;
    expect((await log({ email: "buyer@example.com", conversion_type: "a" }, key)).status).toBe(202);
    const reused = await log({ email: "buyer@example.com", conversion_type: "b" }, key);
    expect(reused.status).toBe(422);
    expect(reused.body).toEqual({ detail: "Idempotency-Key was already used with a different request" });
  });

  it("refuses a malformed key with loc [header, idempotency-key]", async () => {
    for (const key of ["has space", "x".repeat(256), "naïve"]) {
      const response = await log({ email: "buyer@example.com" }, key);
      expect(response.status, key).toBe(422);
      expect(response.body.detail[0].loc).toEqual(["header", "idempotency-key"]);
    }
  });

  it("keeps no key for a request that stored nothing: its retry is judged afresh", async () => {
    const email = `later-${randomUUID()}@example.com`;
    const key = `k-${randomUUID()}`;
    expect((await log({ email }, key)).status).toBe(200);
    await app.server.services.contacts.upsert(tenant.organisationId, [email]);
    const retry = await log({ email }, key);
    expect(retry.status).toBe(202);
    expect(retry.headers.get("idempotent-replayed")).toBeNull();
  });

  it("stores exactly one event for 20 concurrent requests with one key, on one instance or two", async () => {
    for (const bases of [[app.url], [app.url, second.url]]) {
      const email = `concurrent-${randomUUID()}@example.com`;
      await app.server.services.contacts.upsert(tenant.organisationId, [email]);
      const key = `k-${randomUUID()}`;
      const answers = await Promise.all(
        Array.from({ length: 20 }, (_, index) =>
          log({ email, conversion_type: "x" }, key, bases[index % bases.length]),
        ),
      );
      expect(answers.map((answer) => answer.status)).toEqual(Array(20).fill(202));
      expect(answers.filter((answer) => answer.headers.get("idempotent-replayed") === "true")).toHaveLength(19);
      expect(await storedConversions(email)).toBe(1);
    }
  });

  it("keeps keys IDEMPOTENCY_TTL_HOURS, then sweeps them: the key is judged afresh", async () => {
    // Keys kept 1.8 s, swept every 200 ms.
    const expiring = await startTestApp({ IDEMPOTENCY_TTL_HOURS: "0.0005", IDEMPOTENCY_SWEEP_INTERVAL_MS: "200" });
    try {
      const owner = await createTenant(expiring, ["expiry@example.com"]);
      const key = `k-${randomUUID()}`;
      const send = () => log({ email: "expiry@example.com" }, key, expiring.url, owner.apiKey);
      expect((await send()).status).toBe(202);
      await new Promise((resolve) => setTimeout(resolve, 2_600));
      const [row] = await queryDatabase(expiring.database, "SELECT COUNT(*) AS n FROM idempotency_keys", []);
      expect(Number(row.n)).toBe(0);
      const again = await send();
      expect(again.status).toBe(202);
      expect(again.headers.get("idempotent-replayed")).toBeNull();
      const [stored] = await queryDatabase(expiring.database, "SELECT COUNT(*) AS n FROM conversions", []);
      expect(Number(stored.n)).toBe(2);
    } finally {
      await expiring.stop();
    }
  });
});

describe("GraphQL idempotencyKey", () => {
  const LOG =
    "mutation($input: LogConversionInput!) { logConversion(input: $input) { status replayed conversion { id } } }";

  it("replays logConversion with replayed: true and the first event; a conflict is BAD_USER_INPUT", async () => {
    const headers = { "x-api-key": tenant.apiKey };
    const input = { email: "other@example.com", conversionType: "gql", idempotencyKey: `g-${randomUUID()}` };
    const first = await graphql(app, LOG, { input }, headers);
    expect(first.body.data.logConversion).toMatchObject({ status: "ACCEPTED", replayed: false });
    const again = await graphql(app, LOG, { input }, headers);
    expect(again.body.data.logConversion).toEqual({ ...first.body.data.logConversion, replayed: true });
    const reused = await graphql(app, LOG, { input: { ...input, conversionType: "other" } }, headers);
    expect(reused.body.errors[0].extensions).toMatchObject({ code: "BAD_USER_INPUT", field: "idempotencyKey" });
    // As GraphQL's other BAD_USER_INPUT answers: HTTP 400 (REST's conflict stays 422).
    expect(reused.status).toBe(400);
    // One key space with REST.
    const rest = await log({ email: "other@example.com", conversion_type: "gql" }, input.idempotencyKey);
    expect(rest.headers.get("idempotent-replayed")).toBe("true");
  });
});

describe("public endpoints", () => {
  function record(path: "conversions" | "exposures", body: Record<string, unknown>, visitor: string, key?: string) {
    return rawRequest(`${app.url}/zephr/public/rule-outcomes/v1/${path}`, {
      method: "POST",
      headers: {
        host: HOST,
        "content-type": "text/plain",
        cookie: `blaize_tracking_id=${visitor}`,
        ...(key === undefined ? {} : { "idempotency-key": key }),
      },
      body: JSON.stringify(body),
    });
  }
  async function events(ruleId: string) {
    const [row] = await queryDatabase(
      app.database,
      "SELECT COUNT(*) AS n FROM rule_conversion_events WHERE organisation_id = ? AND rule_id = ?",
      [tenant.organisationId, ruleId],
    );
    return Number(row.n);
  }

  it("take the header or the body's eventId (the header wins), per visitor, one key space for both endpoints", async () => {
    const ruleId = `rule-${randomUUID()}`;
    const body = { ruleId, outcomeId: "A", conversion: "CUSTOMER" };
    expect((await record("conversions", body, "v1", "key-1")).status).toBe(201);
    const replay = await record("conversions", body, "v1", "key-1");
    expect(replay.status).toBe(201);
    expect(replay.headers["idempotent-replayed"]).toBe("true");
    // sendBeacon's way: the key in the body.
    expect((await record("conversions", { ...body, eventId: "beacon-1" }, "v1")).status).toBe(201);
    expect((await record("conversions", { ...body, eventId: "beacon-1" }, "v1")).headers["idempotent-replayed"]).toBe(
      "true",
    );
    // The header wins over eventId: key-1 replays although eventId is new.
    expect(
      (await record("conversions", { ...body, eventId: "new-id" }, "v1", "key-1")).headers["idempotent-replayed"],
    ).toBe("true");
    // Another visitor has keys of their own.
    expect((await record("conversions", body, "v2", "key-1")).headers["idempotent-replayed"]).toBeUndefined();
    expect(await events(ruleId)).toBe(3);
    // One key space for exposures and conversions: an exposure with a conversion's key is another request.
    const reused = await record("exposures", { ruleId, outcomeId: "A" }, "v1", "key-1");
    expect(reused.status).toBe(422);
    expect(reused.body).toEqual({ message: "Idempotency-Key was already used with a different request" });
  });

  it("refuse a malformed header or eventId with 400 {message}", async () => {
    const body = { ruleId: "r", outcomeId: "A", conversion: "CUSTOMER" };
    const header = await record("conversions", body, "v3", "bad key");
    expect(header.status).toBe(400);
    expect(header.body).toEqual({ message: expect.any(String) });
    const eventId = await record("conversions", { ...body, eventId: "not/allowed" }, "v3");
    expect(eventId.status).toBe(400);
    expect(eventId.body.message).toContain("eventId");
  });

  it("replay over GraphQL with replayed: true", async () => {
    const ruleId = `rule-${randomUUID()}`;
    const query =
      "mutation($input: RecordRuleConversionInput!) { recordRuleConversion(input: $input) { ruleId outcomeIds conversion replayed } }";
    const send = () =>
      rawRequest(`${app.url}/graphql`, {
        method: "POST",
        headers: { host: HOST, "content-type": "application/json", cookie: "blaize_tracking_id=v9" },
        body: JSON.stringify({
          query,
          variables: { input: { ruleId, outcomeId: "A,B", conversion: "REGISTERED", idempotencyKey: "g1" } },
        }),
      });
    expect((await send()).body.data.recordRuleConversion).toEqual({
      ruleId,
      outcomeIds: ["A", "B"],
      conversion: "REGISTERED",
      replayed: false,
    });
    expect((await send()).body.data.recordRuleConversion.replayed).toBe(true);
    expect(await events(ruleId)).toBe(2);
  });
});
