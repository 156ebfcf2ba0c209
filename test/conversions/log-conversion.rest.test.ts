// POST /api/v2/conversions, the legacy FastAPI endpoint, through real HTTP on the running app.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Conversion } from "../../src/conversions/conversion.entity";
import { createTenant, http, startTestApp, type Tenant, type TestApp } from "../helpers/app";

let app: TestApp;
let acme: Tenant;
let globex: Tenant;

beforeAll(async () => {
  app = await startTestApp();
  acme = await createTenant(app, ["user@example.com", "second@example.com"]);
  globex = await createTenant(app, ["only-globex@example.com"]);
});
afterAll(() => app?.stop());

function logConversion(body: unknown, headers: Record<string, string> = {}) {
  return http(`${app.url}/api/v2/conversions`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
}

function storedFor(organisationId: string) {
  return app.server.dataSource
    .getRepository(Conversion)
    .find({ where: { organisationId }, order: { createdAt: "ASC" } });
}

describe("POST /api/v2/conversions", () => {
  it("answers 202 and stores the event with its data intact when the email is a contact", async () => {
    const before = Date.now();
    const response = await logConversion(
      {
        email: "user@example.com",
        conversion_type: "purchase",
        conversion_data: { item: "premium_subscription", price: 99.99, nested: { list: [1, 2.5, { deep: true }] } },
      },
      { "x-api-key": acme.apiKey },
    );
    expect(response.status).toBe(202);
    expect(response.body).toEqual({ status: "ACCEPTED" });
    const rows = await storedFor(acme.organisationId);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      email: "user@example.com",
      conversionType: "purchase",
      conversionData: { item: "premium_subscription", price: 99.99, nested: { list: [1, 2.5, { deep: true }] } },
    });
    expect(rows[0].contactId).toMatch(/^[0-9a-f-]{36}$/);
    expect(rows[0].createdAt.getTime()).toBeGreaterThanOrEqual(before - 5);
    expect(rows[0].createdAt.getTime()).toBeLessThanOrEqual(Date.now() + 5);
  });

  it("answers 200 and stores nothing when the email is not a contact", async () => {
    const tenant = await createTenant(app, ["known@example.com"]);
    const response = await logConversion({ email: "stranger@example.com" }, { "x-api-key": tenant.apiKey });
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ status: "CONTACT_NOT_FOUND" });
    expect(await storedFor(tenant.organisationId)).toHaveLength(0);
  });

  it("matches emails case-insensitively after trimming", async () => {
    const tenant = await createTenant(app, ["  Mixed.Case@Example.COM "]);
    const response = await logConversion({ email: "  MIXED.case@example.com\t" }, { "x-api-key": tenant.apiKey });
    expect(response.status).toBe(202);
    const rows = await storedFor(tenant.organisationId);
    expect(rows.map((row) => row.email)).toEqual(["mixed.case@example.com"]);
  });

  it("never logs against another organisation's contacts", async () => {
    const response = await logConversion({ email: "only-globex@example.com" }, { "x-api-key": acme.apiKey });
    expect(response.status).toBe(200);
    expect((await storedFor(globex.organisationId)).length).toBe(0);
    const own = await logConversion({ email: "only-globex@example.com" }, { "x-api-key": globex.apiKey });
    expect(own.status).toBe(202);
    const acmeRows = await storedFor(acme.organisationId);
    expect(acmeRows.every((row) => row.email !== "only-globex@example.com")).toBe(true);
  });

  describe("401 before the body is judged", () => {
    const bodies = [
      ["a valid body", JSON.stringify({ email: "user@example.com" })],
      ["malformed JSON", '{"email":'],
      ["an invalid body", JSON.stringify({ email: 42 })],
      ["an oversized body", JSON.stringify({ email: "user@example.com", pad: "x".repeat(70_000) })],
    ];
    for (const [label, body] of bodies) {
      it(`missing key with ${label}`, async () => {
        const response = await logConversion(body);
        expect(response.status).toBe(401);
        expect(response.body).toEqual({ detail: expect.any(String) });
      });
      it(`unknown key with ${label}`, async () => {
        const response = await logConversion(body, { "x-api-key": `${acme.apiKey.slice(0, -4)}AAAA` });
        expect(response.status).toBe(401);
        expect(response.body).toEqual({ detail: "Invalid API key" });
      });
    }

    it("rejects a revoked key", async () => {
      const tenant = await createTenant(app, ["user@example.com"]);
      expect((await logConversion({ email: "user@example.com" }, { "x-api-key": tenant.apiKey })).status).toBe(202);
      await app.server.services.apiKeys.revoke(tenant.apiKeyId);
      const response = await logConversion({ email: "user@example.com" }, { "x-api-key": tenant.apiKey });
      expect(response.status).toBe(401);
      expect(await storedFor(tenant.organisationId)).toHaveLength(1);
    });

    it("rejects garbage and empty keys", async () => {
      for (const key of ["", "x", "cvk_", "' OR 1=1 --", "k".repeat(500)]) {
        expect((await logConversion({ email: "user@example.com" }, { "x-api-key": key })).status).toBe(401);
      }
    });
  });

  describe("422 in FastAPI's shape", () => {
    const cases: [string, unknown, { type: string; loc: unknown[] }[]][] = [
      ["missing email", { conversion_type: "x" }, [{ type: "missing", loc: ["body", "email"] }]],
      ["empty email", { email: "" }, [{ type: "string_too_short", loc: ["body", "email"] }]],
      ["blank email", { email: "   " }, [{ type: "string_too_short", loc: ["body", "email"] }]],
      ["non-string email", { email: 12 }, [{ type: "string_type", loc: ["body", "email"] }]],
      ["null email", { email: null }, [{ type: "string_type", loc: ["body", "email"] }]],
      [
        "email over 320 characters",
        { email: `${"a".repeat(310)}@example.com` },
        [{ type: "string_too_long", loc: ["body", "email"] }],
      ],
      [
        "non-string conversion_type",
        { email: "a@b.c", conversion_type: ["x"] },
        [{ type: "string_type", loc: ["body", "conversion_type"] }],
      ],
      [
        "conversion_type of 64 characters",
        { email: "a@b.c", conversion_type: "t".repeat(64) },
        [{ type: "string_too_long", loc: ["body", "conversion_type"] }],
      ],
      [
        "conversion_data an array",
        { email: "a@b.c", conversion_data: [1, 2] },
        [{ type: "dict_type", loc: ["body", "conversion_data"] }],
      ],
      [
        "conversion_data a string",
        { email: "a@b.c", conversion_data: "{}" },
        [{ type: "dict_type", loc: ["body", "conversion_data"] }],
      ],
      ["malformed JSON", '{"email": "a@b.c",', [{ type: "json_invalid", loc: ["body"] }]],
      ["a JSON array body", "[]", [{ type: "model_attributes_type", loc: ["body"] }]],
      ["an empty body", "", [{ type: "missing", loc: ["body"] }]],
      [
        "several bad fields at once",
        { email: "", conversion_type: 1, conversion_data: 2 },
        [
          { type: "string_too_short", loc: ["body", "email"] },
          { type: "string_type", loc: ["body", "conversion_type"] },
          { type: "dict_type", loc: ["body", "conversion_data"] },
        ],
      ],
    ];
    for (const [label, body, expected] of cases) {
      it(label, async () => {
        const response = await logConversion(body, { "x-api-key": acme.apiKey });
        expect(response.status).toBe(422);
        expect(response.body.detail).toHaveLength(expected.length);
        response.body.detail.forEach((detail: { msg: string }, index: number) => {
          expect(detail).toMatchObject(expected[index]);
          expect(detail.msg).toEqual(expect.any(String));
        });
      });
    }

    it("accepts a conversion_type of exactly 63 characters and null optional fields", async () => {
      const response = await logConversion(
        { email: "second@example.com", conversion_type: "t".repeat(63), conversion_data: null },
        { "x-api-key": acme.apiKey },
      );
      expect(response.status).toBe(202);
    });

    it("limits conversion_data depth below what MariaDB refuses", async () => {
      let deep: Record<string, unknown> = { leaf: 1 };
      for (let level = 1; level < 17; level++) deep = { level: deep };
      const response = await logConversion(
        { email: "user@example.com", conversion_data: deep },
        { "x-api-key": acme.apiKey },
      );
      expect(response.status).toBe(422);
      expect(response.body.detail[0]).toMatchObject({ type: "value_error", loc: ["body", "conversion_data"] });
      expect(response.body.detail[0].msg).toContain("16");
    });

    it("limits conversion_data size", async () => {
      const response = await logConversion(
        { email: "user@example.com", conversion_data: { blob: "x".repeat(40_000) } },
        { "x-api-key": acme.apiKey },
      );
      expect(response.status).toBe(422);
      expect(response.body.detail[0].msg).toContain("32768");
    });
  });

  it("stores data at the depth limit and lone surrogates, which MariaDB's JSON check refuses raw", async () => {
    const tenant = await createTenant(app, ["edge@example.com"]);
    // conversion_data itself is level 1; 15 nested objects below it reach the limit of 16.
    let deep = '"end"';
    for (let level = 0; level < 15; level++) deep = `{"level":${deep}}`;
    const body = `{"email":"edge@example.com","conversion_data":{"lone":"\\ud800x","\\udfffkey":1,"deep":${deep}}}`;
    const response = await logConversion(body, { "x-api-key": tenant.apiKey });
    expect(response.status).toBe(202);
    const [row] = await storedFor(tenant.organisationId);
    expect(row.conversionData).toMatchObject({ lone: "\ufffdx", "\ufffdkey": 1 });
  });

  it("answers 413 in FastAPI's shape for bodies over 64 KiB", async () => {
    const response = await logConversion(
      { email: "user@example.com", conversion_data: { pad: "x".repeat(70 * 1024) } },
      { "x-api-key": acme.apiKey },
    );
    expect(response.status).toBe(413);
    expect(response.body).toEqual({ detail: "Request body too large" });
  });

  it("reads a JSON body whatever the Content-Type, as FastAPI clients relied on", async () => {
    const response = await http(`${app.url}/api/v2/conversions`, {
      method: "POST",
      headers: { "x-api-key": acme.apiKey, "content-type": "text/plain" },
      body: JSON.stringify({ email: "second@example.com" }),
    });
    expect(response.status).toBe(202);
  });

  it("never leaks internals in error bodies", async () => {
    const response = await logConversion('{"email": "\\ud800"}', { "x-api-key": acme.apiKey });
    expect([200, 202]).toContain(response.status);
    expect(response.text).not.toMatch(/at .*\.ts|SELECT|INSERT/);
  });
});
