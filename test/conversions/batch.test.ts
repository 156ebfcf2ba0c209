// Batches for server-side senders: POST /api/v2/conversions/batch and GraphQL logConversions.
// Each item is judged like the single endpoint, in input order; an invalid item never fails a
// valid one; keys share the single endpoint's key space; the envelope and size are bounded.
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTenant, graphql, http, startTestApp, type Tenant, type TestApp } from "../helpers/app";
import { queryDatabase } from "../helpers/processes";

let app: TestApp;
let tenant: Tenant;

beforeAll(async () => {
  app = await startTestApp();
  tenant = await createTenant(app, ["a@example.com", "b@example.com"]);
});
afterAll(() => app?.stop());

function batch(body: unknown, apiKey = tenant.apiKey) {
  return http(`${app.url}/api/v2/conversions/batch`, {
    method: "POST",
    headers: { "content-type": "application/json", "x-api-key": apiKey },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
}

async function stored(): Promise<number> {
  const [row] = await queryDatabase(app.database, "SELECT COUNT(*) AS n FROM conversions WHERE organisation_id = ?", [
    tenant.organisationId,
  ]);
  return Number(row.n);
}

describe("POST /api/v2/conversions/batch", () => {
  it("answers every item in input order: ACCEPTED, CONTACT_NOT_FOUND, REPLAYED, INVALID", async () => {
    const before = await stored();
    const used = `used-${randomUUID()}`;
    const single = await http(`${app.url}/api/v2/conversions`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-api-key": tenant.apiKey, "idempotency-key": used },
      body: JSON.stringify({ email: "a@example.com", conversion_type: "signup" }),
    });
    expect(single.status).toBe(202);
    const response = await batch({
      conversions: [
        { email: "a@example.com", conversion_type: "purchase", conversion_data: { order: 1 } },
        { email: "stranger@example.com" },
        { email: "a@example.com", conversion_type: "signup", idempotency_key: used },
        { email: "b@example.com", conversion_type: "x".repeat(64) },
        "not an object",
        { email: "a@example.com", conversion_type: "other", idempotency_key: used },
        { email: "b@example.com", idempotency_key: "bad key" },
        { email: "b@example.com" },
      ],
    });
    expect(response.status).toBe(200);
    expect(response.body.results).toEqual([
      { status: "ACCEPTED" },
      { status: "CONTACT_NOT_FOUND" },
      { status: "REPLAYED" },
      {
        status: "INVALID",
        detail: [
          {
            type: "string_too_long",
            loc: ["body", "conversions", 3, "conversion_type"],
            msg: expect.stringContaining("63"),
          },
        ],
      },
      {
        status: "INVALID",
        detail: [{ type: "model_attributes_type", loc: ["body", "conversions", 4], msg: expect.any(String) }],
      },
      {
        status: "INVALID",
        detail: [{ type: "value_error", loc: ["body", "conversions", 5, "idempotency_key"], msg: expect.any(String) }],
      },
      {
        status: "INVALID",
        detail: [{ type: "value_error", loc: ["body", "conversions", 6, "idempotency_key"], msg: expect.any(String) }],
      },
      { status: "ACCEPTED" },
    ]);
    // Answered once every accepted item is committed: the single one, and two of the batch.
    expect(await stored()).toBe(before + 3);
  });

  it("shares the key space with the single endpoint, both ways", async () => {
    const key = `k-${randomUUID()}`;
    const first = await batch({
      conversions: [{ email: "b@example.com", conversion_type: "t", idempotency_key: key }],
    });
    expect(first.body.results).toEqual([{ status: "ACCEPTED" }]);
    const single = await http(`${app.url}/api/v2/conversions`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-api-key": tenant.apiKey, "idempotency-key": key },
      body: JSON.stringify({ email: "b@example.com", conversion_type: "t" }),
    });
    expect(single.status).toBe(202);
    expect(single.headers.get("idempotent-replayed")).toBe("true");
  });

  it("refuses a bad envelope with FastAPI's 422, more than 500 items too, and bodies past 1 MiB with 413", async () => {
    for (const body of ["[]", "{}", '{"conversions": 3}', "not json"]) {
      const response = await batch(body);
      expect(response.status, body).toBe(422);
      expect(response.body.detail[0].loc[0]).toBe("body");
    }
    const empty = await batch({ conversions: [] });
    expect(empty.status).toBe(422);
    expect(empty.body.detail[0].loc).toEqual(["body", "conversions"]);
    const tooMany = await batch({ conversions: Array.from({ length: 501 }, () => ({ email: "a@example.com" })) });
    expect(tooMany.status).toBe(422);
    const huge = await batch({
      conversions: [{ email: "a@example.com", conversion_data: { pad: "x".repeat(1_100_000) } }],
    });
    expect(huge.status).toBe(413);
    expect(huge.body).toEqual({ detail: expect.any(String) });
  });

  it("takes 500 items at once", async () => {
    const before = await stored();
    const response = await batch({
      conversions: Array.from({ length: 500 }, (_, index) => ({
        email: index % 2 ? "a@example.com" : "b@example.com",
        conversion_data: { index },
      })),
    });
    expect(response.status).toBe(200);
    expect(new Set(response.body.results.map((result: { status: string }) => result.status))).toEqual(
      new Set(["ACCEPTED"]),
    );
    expect(await stored()).toBe(before + 500);
  });

  it("judges a batch of keyed items at once: a resent batch stores nothing more, a key twice in one batch replays", async () => {
    const prefix = `bulk-${randomUUID()}`;
    const items = Array.from({ length: 300 }, (_, index) => ({
      email: index % 2 ? "a@example.com" : "b@example.com",
      conversion_type: "purchase",
      conversion_data: { index },
      idempotency_key: `${prefix}-${index}`,
    }));
    // The same request under item 0's key, and a different one under item 1's.
    const conversions = [...items, { ...items[0] }, { ...items[1], conversion_type: "refund" }];
    const before = await stored();
    const first = await batch({ conversions });
    expect(first.status).toBe(200);
    expect(first.body.results.slice(0, 300)).toEqual(items.map(() => ({ status: "ACCEPTED" })));
    expect(first.body.results[300]).toEqual({ status: "REPLAYED" });
    expect(first.body.results[301]).toMatchObject({ status: "INVALID" });
    expect(await stored()).toBe(before + 300);
    const again = await batch({ conversions });
    expect(again.body.results.slice(0, 301)).toEqual(conversions.slice(0, 301).map(() => ({ status: "REPLAYED" })));
    expect(again.body.results[301]).toMatchObject({
      status: "INVALID",
      detail: [{ loc: ["body", "conversions", 301, "idempotency_key"] }],
    });
    expect(await stored()).toBe(before + 300);
  });

  it("stores quotes, backslashes, control characters and emoji exactly as sent", async () => {
    const conversionType = `it's "x" \\ \\' ; -- \u0000\n\t ${randomUUID().slice(0, 8)} 🎉`;
    const conversionData = {
      "o'k": "a\\'b\"c",
      nested: ["\u0000", "\r\n", "\\\\", "é 🎉", "'); DROP TABLE conversions; --"],
    };
    const response = await batch({
      conversions: [{ email: "a@example.com", conversion_type: conversionType, conversion_data: conversionData }],
    });
    expect(response.body.results).toEqual([{ status: "ACCEPTED" }]);
    const rows = await queryDatabase(
      app.database,
      "SELECT conversion_type, conversion_data FROM conversions WHERE organisation_id = ? AND conversion_type = ?",
      [tenant.organisationId, conversionType],
    );
    expect(rows).toHaveLength(1);
    const data = rows[0].conversion_data;
    expect(typeof data === "string" ? JSON.parse(data) : data).toEqual(conversionData);
  });

  it("answers a bad key with 401 before the body is read", async () => {
    const response = await batch("not even json", "cvk_0000000000000000_wrong");
    expect(response.status).toBe(401);
    expect(response.body).toEqual({ detail: "Invalid API key" });
  });
});

describe("GraphQL logConversions", () => {
  const LOGS = `mutation($inputs: [LogConversionInput!]!) {
    logConversions(inputs: $inputs) { status replayed conversion { email } errors { field message } }
  }`;

  it("answers per item, INVALID with its errors", async () => {
    const response = await graphql(
      app,
      LOGS,
      {
        inputs: [
          { email: "a@example.com" },
          { email: "nobody@example.com" },
          { email: "a@example.com", conversionType: "y".repeat(64) },
        ],
      },
      { "x-api-key": tenant.apiKey },
    );
    expect(response.body.data.logConversions).toEqual([
      { status: "ACCEPTED", replayed: false, conversion: { email: "a@example.com" }, errors: [] },
      { status: "CONTACT_NOT_FOUND", replayed: false, conversion: null, errors: [] },
      {
        status: "INVALID",
        replayed: false,
        conversion: null,
        errors: [{ field: "conversionType", message: expect.any(String) }],
      },
    ]);
  });

  it("refuses more than 500 inputs with BAD_USER_INPUT", async () => {
    const response = await graphql(
      app,
      LOGS,
      { inputs: Array.from({ length: 501 }, () => ({ email: "a@example.com" })) },
      { "x-api-key": tenant.apiKey },
    );
    expect(response.body.errors[0].extensions).toMatchObject({ code: "BAD_USER_INPUT", field: "inputs" });
    const none = await graphql(app, LOGS, { inputs: [] }, { "x-api-key": tenant.apiKey });
    expect(none.body.errors[0].extensions).toMatchObject({ code: "BAD_USER_INPUT", field: "inputs" });
    expect(none.body.errors[0].message).toBe("inputs: between 1 and 500 conversions per call");
  });
});
