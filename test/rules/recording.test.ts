// Recording split-test exposures and conversions from browsers: the Zephr REST endpoints and
// their GraphQL twins, through real HTTP on the running app, checked in the database. Covers the
// tenant (request host), the visitor (blaize_tracking_id) and the user (JWT transports).
import { randomUUID } from "node:crypto";
import { generateKeyPair, SignJWT } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { InvalidInput } from "../../src/errors";
import { createTenant, startTestApp, type TestApp } from "../helpers/app";
import { type RawResponse, rawRequest } from "../helpers/raw-http";

const SECRET = "recording-test-secret-0123456789-abcdef";
const OTHER_SECRET = "another-secret-that-is-long-enough-0123456789";
const ISSUER = "https://identity.example.test/";
const AUDIENCE = "conversions-subgraph";
const DEFAULT_ORG = "00000000-0000-4000-8000-00000000d0ef";

const CONVERSIONS = "/zephr/public/rule-outcomes/v1/conversions";
const EXPOSURES = "/zephr/public/rule-outcomes/v1/exposures";
const ENDPOINTS = [
  { name: "conversions", path: CONVERSIONS },
  { name: "exposures", path: EXPOSURES },
] as const;

const ACME_HOST = "shop.acme.test";
const GLOBEX_HOST = "news.globex.test";
const UNKNOWN_HOST = "nobody.example.test";

/** JWT settings, no default organisation, proxies not trusted. */
let app: TestApp;
/** TRUST_PROXY=true and DEFAULT_ORGANISATION_ID set; no JWT settings. */
let proxied: TestApp;
let acme: string;
let globex: string;
let proxiedAcme: string;
let proxiedGlobex: string;

beforeAll(async () => {
  [app, proxied] = await Promise.all([
    startTestApp({ JWT_SECRET: SECRET, JWT_ISSUER: ISSUER, JWT_AUDIENCE: AUDIENCE }),
    startTestApp({ TRUST_PROXY: "true", DEFAULT_ORGANISATION_ID: DEFAULT_ORG }),
  ]);
  acme = (await createTenant(app)).organisationId;
  globex = (await createTenant(app)).organisationId;
  await app.server.services.sites.add(acme, ACME_HOST);
  await app.server.services.sites.add(globex, GLOBEX_HOST);
  proxiedAcme = (await createTenant(proxied)).organisationId;
  proxiedGlobex = (await createTenant(proxied)).organisationId;
  await proxied.server.services.sites.add(proxiedAcme, ACME_HOST);
  await proxied.server.services.sites.add(proxiedGlobex, GLOBEX_HOST);
});
afterAll(async () => {
  await Promise.all([app?.stop(), proxied?.stop()]);
});

const newRuleId = () => `rule-${randomUUID()}`;

interface Call {
  target?: TestApp;
  host?: string;
  /** The blaize_tracking_id cookie (URL-encoded); a fresh UUID when undefined, none when null. */
  trackingId?: string | null;
  /** Further cookies. */
  cookies?: Record<string, string>;
  /** Content-Type; application/json when undefined, none when null. */
  contentType?: string | null;
  headers?: Record<string, string>;
  query?: string;
}

function post(path: string, body: unknown, call: Call = {}): Promise<RawResponse> {
  const target = call.target ?? app;
  const headers: Record<string, string> = { host: call.host ?? ACME_HOST };
  const contentType = call.contentType === undefined ? "application/json" : call.contentType;
  if (contentType !== null) headers["content-type"] = contentType;
  const cookies = { ...call.cookies };
  const trackingId = call.trackingId === undefined ? randomUUID() : call.trackingId;
  const cookieHeader = [
    ...(trackingId === null ? [] : [`blaize_tracking_id=${encodeURIComponent(trackingId)}`]),
    ...Object.entries(cookies).map(([name, value]) => `${name}=${value}`),
  ].join("; ");
  if (cookieHeader) headers.cookie = cookieHeader;
  return rawRequest(`${target.url}${path}${call.query ?? ""}`, {
    method: "POST",
    headers: { ...headers, ...call.headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
}

interface ConversionRow {
  organisation_id: string;
  rule_id: string;
  outcome_id: string;
  tracking_id: string;
  user_id: string | null;
  conversion: string;
  attributed: number;
}
interface ExposureRow {
  organisation_id: string;
  rule_id: string;
  outcome_id: string;
  tracking_id: string;
  user_id: string | null;
}

const byOutcome = <T extends { outcome_id: string }>(rows: T[]) =>
  rows.sort((a, b) => (a.outcome_id < b.outcome_id ? -1 : a.outcome_id > b.outcome_id ? 1 : 0));

async function conversionRows(ruleId: string, target = app): Promise<ConversionRow[]> {
  const rows: ConversionRow[] = await target.server.dataSource.query(
    `SELECT organisation_id, rule_id, outcome_id, tracking_id, user_id, conversion, attributed
       FROM rule_conversion_events WHERE rule_id = ?`,
    [ruleId],
  );
  return byOutcome(rows.map((row) => ({ ...row, attributed: Number(row.attributed) })));
}

async function exposureRows(ruleId: string, target = app): Promise<ExposureRow[]> {
  const rows: ExposureRow[] = await target.server.dataSource.query(
    "SELECT organisation_id, rule_id, outcome_id, tracking_id, user_id FROM rule_exposures WHERE rule_id = ?",
    [ruleId],
  );
  return byOutcome(rows);
}

async function outcomeRows(ruleId: string, target = app) {
  const rows: { organisation_id: string; outcome_id: string; exposures: number | string }[] =
    await target.server.dataSource.query(
      "SELECT organisation_id, outcome_id, exposures FROM rule_outcomes WHERE rule_id = ?",
      [ruleId],
    );
  return byOutcome(rows.map((row) => ({ ...row, exposures: Number(row.exposures) })));
}

/** Rows of every split-test table, to prove a refused request stored nothing at all. */
async function tableCounts(target = app): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (const table of [
    "rule_exposures",
    "rule_conversion_events",
    "rule_converters",
    "rule_outcomes",
    "rule_outcome_daily_stats",
  ]) {
    const [row] = await target.server.dataSource.query(`SELECT COUNT(*) AS n FROM ${table}`);
    counts[table] = Number(row.n);
  }
  return counts;
}

/** Runs `send`, expects `status` with a {"message"} body, and proves nothing was stored. */
async function expectRefused(
  send: () => Promise<RawResponse>,
  status: number,
  message: string | RegExp = /\S/,
  target = app,
) {
  const before = await tableCounts(target);
  const response = await send();
  expect(response.status, response.text).toBe(status);
  expect(response.headers["content-type"]).toMatch(/^application\/json/);
  expect(response.body).toEqual({ message: expect.any(String) });
  expect(response.body.message).toMatch(message);
  expect(await tableCounts(target)).toEqual(before);
  return response;
}

function bodyFor(path: string, ruleId: string, outcomeId: unknown, conversion: unknown = "REGISTERED") {
  return path === CONVERSIONS ? { ruleId, outcomeId, conversion } : { ruleId, outcomeId };
}

/** The rows the endpoint stores for one call: conversion events, or first exposures. */
function storedRows(path: string, ruleId: string, target = app): Promise<(ConversionRow | ExposureRow)[]> {
  return path === CONVERSIONS ? conversionRows(ruleId, target) : exposureRows(ruleId, target);
}

function hs256(claims: Record<string, unknown> = {}, secret = SECRET) {
  return new SignJWT(claims).setProtectedHeader({ alg: "HS256", typ: "JWT" }).sign(new TextEncoder().encode(secret));
}

/** A token the main app accepts: HS256, exp, iss and aud as configured; no sub when null. */
function validToken(sub: string | null) {
  const now = Math.floor(Date.now() / 1000);
  return hs256({ ...(sub === null ? {} : { sub }), iss: ISSUER, aud: AUDIENCE, iat: now, exp: now + 300 });
}

const base64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");

describe("POST /zephr/public/rule-outcomes/v1/conversions", () => {
  it("answers 201 and stores one conversion event per outcome id, for the host's organisation", async () => {
    const trackingId = randomUUID();
    const response = await post(
      CONVERSIONS,
      '{"ruleId":"article-22","outcomeId":"graph/1#1,graph/1#2","conversion":"REGISTERED"}',
      { trackingId },
    );
    expect(response.status, response.text).toBe(201);
    expect(response.text).toBe("");
    const common = {
      organisation_id: acme,
      rule_id: "article-22",
      tracking_id: trackingId,
      user_id: null,
      conversion: "REGISTERED",
      attributed: 0,
    };
    expect(await conversionRows("article-22")).toEqual([
      { ...common, outcome_id: "graph/1#1" },
      { ...common, outcome_id: "graph/1#2" },
    ]);
    expect(await outcomeRows("article-22")).toEqual([
      { organisation_id: acme, outcome_id: "graph/1#1", exposures: 0 },
      { organisation_id: acme, outcome_id: "graph/1#2", exposures: 0 },
    ]);
  });

  it("attributes a conversion after the visitor's exposure, trimming outcome ids around commas", async () => {
    const ruleId = newRuleId();
    const trackingId = randomUUID();
    expect((await post(EXPOSURES, { ruleId, outcomeId: "b" }, { trackingId })).status).toBe(201);
    const response = await post(CONVERSIONS, { ruleId, outcomeId: " a , b ", conversion: "CUSTOMER" }, { trackingId });
    expect(response.status, response.text).toBe(201);
    const rows = await conversionRows(ruleId);
    expect(rows.map((row) => [row.outcome_id, row.conversion, row.attributed])).toEqual([
      ["a", "CUSTOMER", 0],
      ["b", "CUSTOMER", 1],
    ]);
  });

  it("keeps ruleId and conversion exactly as sent: spaces make another rule and another type", async () => {
    const ruleId = newRuleId();
    const trackingId = randomUUID();
    expect((await post(EXPOSURES, { ruleId, outcomeId: "b" }, { trackingId })).status).toBe(201);
    const spaced = `  ${ruleId}\t`;
    const response = await post(
      CONVERSIONS,
      { ruleId: spaced, outcomeId: "b", conversion: " CUSTOMER " },
      { trackingId },
    );
    expect(response.status, response.text).toBe(201);
    expect(await conversionRows(ruleId)).toEqual([]);
    // Not exposed under the spaced rule id: the event is stored, unattributed.
    expect((await conversionRows(spaced)).map((row) => [row.rule_id, row.conversion, row.attributed])).toEqual([
      [spaced, " CUSTOMER ", 0],
    ]);
    expect((await outcomeRows(ruleId)).map((row) => row.exposures)).toEqual([1]);
    expect((await outcomeRows(spaced)).map((row) => row.exposures)).toEqual([0]);
  });
});

describe("POST /zephr/public/rule-outcomes/v1/exposures", () => {
  it("answers 201 and stores one first exposure per outcome id", async () => {
    const ruleId = newRuleId();
    const trackingId = randomUUID();
    const response = await post(EXPOSURES, { ruleId, outcomeId: "graph/1#1,graph/1#2" }, { trackingId });
    expect(response.status, response.text).toBe(201);
    expect(response.text).toBe("");
    const common = { organisation_id: acme, rule_id: ruleId, tracking_id: trackingId, user_id: null };
    expect(await exposureRows(ruleId)).toEqual([
      { ...common, outcome_id: "graph/1#1" },
      { ...common, outcome_id: "graph/1#2" },
    ]);
    expect(await outcomeRows(ruleId)).toEqual([
      { organisation_id: acme, outcome_id: "graph/1#1", exposures: 1 },
      { organisation_id: acme, outcome_id: "graph/1#2", exposures: 1 },
    ]);
  });

  it("counts a visitor exposed three times once, and a second visitor once more", async () => {
    const ruleId = newRuleId();
    const visitor = randomUUID();
    for (let i = 0; i < 3; i++) {
      expect((await post(EXPOSURES, { ruleId, outcomeId: "hero" }, { trackingId: visitor })).status).toBe(201);
    }
    expect(await exposureRows(ruleId)).toHaveLength(1);
    expect(await outcomeRows(ruleId)).toEqual([{ organisation_id: acme, outcome_id: "hero", exposures: 1 }]);

    expect((await post(EXPOSURES, { ruleId, outcomeId: "hero" }, { trackingId: randomUUID() })).status).toBe(201);
    expect((await post(EXPOSURES, { ruleId, outcomeId: "hero" }, { trackingId: visitor })).status).toBe(201);
    expect(await exposureRows(ruleId)).toHaveLength(2);
    expect(await outcomeRows(ruleId)).toEqual([{ organisation_id: acme, outcome_id: "hero", exposures: 2 }]);
    const [daily] = await app.server.dataSource.query(
      "SELECT SUM(exposures) AS exposures FROM rule_outcome_daily_stats WHERE rule_id = ? AND conversion_type = ''",
      [ruleId],
    );
    expect(Number(daily.exposures)).toBe(2);
  });

  it("tells outcome ids, rule ids and tracking ids apart by case", async () => {
    const ruleId = newRuleId();
    for (const [rule, trackingId] of [
      [ruleId, "visitor"],
      [ruleId.toUpperCase(), "visitor"],
      [ruleId, "VISITOR"],
    ]) {
      expect((await post(EXPOSURES, { ruleId: rule, outcomeId: "Hero,hero" }, { trackingId })).status).toBe(201);
    }
    const pairs = (await exposureRows(ruleId)).map((row) => [row.outcome_id, row.tracking_id]);
    expect(pairs.sort((a, b) => (a.join("\u0000") < b.join("\u0000") ? -1 : 1))).toEqual([
      ["Hero", "VISITOR"],
      ["Hero", "visitor"],
      ["hero", "VISITOR"],
      ["hero", "visitor"],
    ]);
    expect(await outcomeRows(ruleId)).toEqual([
      { organisation_id: acme, outcome_id: "Hero", exposures: 2 },
      { organisation_id: acme, outcome_id: "hero", exposures: 2 },
    ]);
    expect((await outcomeRows(ruleId.toUpperCase())).map((row) => row.exposures)).toEqual([1, 1]);
  });

  it("counts concurrent repeats of one visitor once", async () => {
    const ruleId = newRuleId();
    const visitor = randomUUID();
    const responses = await Promise.all(
      Array.from({ length: 5 }, () => post(EXPOSURES, { ruleId, outcomeId: "x,y" }, { trackingId: visitor })),
    );
    expect(responses.map((response) => response.status)).toEqual([201, 201, 201, 201, 201]);
    expect(await exposureRows(ruleId)).toHaveLength(2);
    expect(await outcomeRows(ruleId)).toEqual([
      { organisation_id: acme, outcome_id: "x", exposures: 1 },
      { organisation_id: acme, outcome_id: "y", exposures: 1 },
    ]);
  });
});

for (const { name, path } of ENDPOINTS) {
  describe(`${name}: the body`, () => {
    it("trims outcome ids and stores duplicates once", async () => {
      const ruleId = newRuleId();
      const response = await post(path, bodyFor(path, ruleId, " a, b ,a"));
      expect(response.status, response.text).toBe(201);
      expect((await storedRows(path, ruleId)).map((row) => row.outcome_id)).toEqual(["a", "b"]);
    });

    it("accepts 50 outcome ids, a ruleId and a conversion of 255 characters, and refuses 51 outcome ids", async () => {
      const ruleId = `${newRuleId()}-`.padEnd(255, "r");
      // 50 ids of the maximum length, separated by ", ": the list itself is not capped below that.
      const ids = Array.from({ length: 50 }, (_, i) => `${String(i).padStart(2, "0")}-`.padEnd(255, "o"));
      const response = await post(path, bodyFor(path, ruleId, ids.join(", "), "c".repeat(255)));
      expect(response.status, response.text).toBe(201);
      expect((await storedRows(path, ruleId)).map((row) => row.outcome_id)).toEqual(ids);

      const tooMany = Array.from({ length: 51 }, (_, i) => `o${i}`).join(",");
      await expectRefused(() => post(path, bodyFor(path, newRuleId(), tooMany)), 400, /more than 50 outcomes/);
    });

    for (const contentType of ["application/json", "text/plain", "text/plain;charset=UTF-8", null]) {
      it(`reads JSON sent with Content-Type ${contentType ?? "absent"}`, async () => {
        const ruleId = newRuleId();
        const response = await post(path, bodyFor(path, ruleId, "only"), { contentType });
        expect(response.status, response.text).toBe(201);
        expect((await storedRows(path, ruleId)).map((row) => row.outcome_id)).toEqual(["only"]);
      });
    }

    it("accepts a body of exactly 16 KiB and answers 413 with {message} above it", async () => {
      const ruleId = newRuleId();
      const fill = (size: number) => {
        const body = JSON.stringify({ ...bodyFor(path, ruleId, "padded"), pad: "" });
        return `${body.slice(0, -2)}${"x".repeat(size - body.length)}"}`;
      };
      const exact = fill(16 * 1024);
      expect(exact.length).toBe(16 * 1024);
      expect((await post(path, exact)).status).toBe(201);
      expect(await storedRows(path, ruleId)).toHaveLength(1);
      const response = await expectRefused(() => post(path, fill(16 * 1024 + 1)), 413);
      expect(response.body).toEqual({ message: "Request body too large" });
      await expectRefused(() => post(path, fill(64 * 1024)), 413);
      await expectRefused(() => post(path, fill(20 * 1024), { headers: { "transfer-encoding": "chunked" } }), 413);
    });
  });

  describe(`${name}: 400 with {message}, nothing stored`, () => {
    const trackingCases: [string, string | null][] = [
      ["the cookie missing", null],
      ["an empty cookie", ""],
      ["a cookie of 129 characters", "a".repeat(129)],
      ["a cookie with a space and '!'", "bad id!"],
      ["a cookie with a ';'", "a;b"],
    ];
    for (const [label, trackingId] of trackingCases) {
      it(label, async () => {
        await expectRefused(
          () => post(path, bodyFor(path, newRuleId(), "a"), { trackingId }),
          400,
          /blaize_tracking_id|tracking id/,
        );
      });
    }

    it("accepts a tracking id of 128 letters, digits, '-' and '_'", async () => {
      const ruleId = newRuleId();
      const trackingId = "Az09_-".repeat(22).slice(0, 128);
      expect((await post(path, bodyFor(path, ruleId, "a"), { trackingId })).status).toBe(201);
      expect((await storedRows(path, ruleId)).map((row) => row.tracking_id)).toEqual([trackingId]);
    });

    const ruleId = "rule-refused";
    const long = "x".repeat(256);
    const fieldCases: [string, Record<string, unknown>, RegExp][] = [
      ["ruleId missing", { outcomeId: "a", conversion: "C" }, /ruleId/],
      ["ruleId empty", { ruleId: "", outcomeId: "a", conversion: "C" }, /ruleId/],
      ["ruleId blank", { ruleId: "   ", outcomeId: "a", conversion: "C" }, /ruleId/],
      ["ruleId not a string", { ruleId: 22, outcomeId: "a", conversion: "C" }, /ruleId/],
      ["ruleId null", { ruleId: null, outcomeId: "a", conversion: "C" }, /ruleId/],
      ["ruleId of 256 characters", { ruleId: long, outcomeId: "a", conversion: "C" }, /ruleId/],
      ["outcomeId missing", { ruleId, conversion: "C" }, /outcomeId/],
      ["outcomeId empty", { ruleId, outcomeId: "", conversion: "C" }, /outcomeId/],
      ["outcomeId only commas", { ruleId, outcomeId: " , ,", conversion: "C" }, /outcomeId/],
      ["outcomeId not a string", { ruleId, outcomeId: ["a", "b"], conversion: "C" }, /outcomeId/],
      ["an outcome id of 256 characters", { ruleId, outcomeId: long, conversion: "C" }, /outcome id/],
      ["one of the outcome ids 256 characters", { ruleId, outcomeId: `a,${long},b`, conversion: "C" }, /outcome id/],
    ];
    if (path === CONVERSIONS) {
      fieldCases.push(
        ["conversion missing", { ruleId, outcomeId: "a" }, /conversion/],
        ["conversion empty", { ruleId, outcomeId: "a", conversion: "" }, /conversion/],
        ["conversion not a string", { ruleId, outcomeId: "a", conversion: { type: "C" } }, /conversion/],
        ["conversion of 256 characters", { ruleId, outcomeId: "a", conversion: long }, /conversion/],
      );
    }
    for (const [label, body, message] of fieldCases) {
      it(label, async () => {
        await expectRefused(() => post(path, body), 400, message);
      });
    }

    const bodyCases: [string, string][] = [
      ["malformed JSON", '{"ruleId":"r","outcomeId":'],
      ["a JSON array body", JSON.stringify([bodyFor(path, "r", "a")])],
      ["a JSON string body", '"ruleId"'],
      ["a JSON null body", "null"],
      ["an empty body", ""],
    ];
    for (const [label, body] of bodyCases) {
      it(label, async () => {
        await expectRefused(() => post(path, body), 400);
      });
    }

    it("names the tracking id before the body", async () => {
      await expectRefused(() => post(path, "[", { trackingId: null }), 400, /blaize_tracking_id/);
    });
  });
}

describe("the tenant: the request's host", () => {
  for (const { name, path } of ENDPOINTS) {
    it(`${name}: 404 with {message} for an unregistered host without DEFAULT_ORGANISATION_ID`, async () => {
      await expectRefused(() => post(path, bodyFor(path, newRuleId(), "a"), { host: UNKNOWN_HOST }), 404);
      await expectRefused(() => post(path, bodyFor(path, newRuleId(), "a"), { host: `127.0.0.1:1234` }), 404);
    });

    it(`${name}: 404 comes before a bad token and a missing tracking id`, async () => {
      await expectRefused(
        () => post(path, "[", { host: UNKNOWN_HOST, trackingId: null, headers: { "x-zephr-jwt": "garbage" } }),
        404,
      );
    });

    it(`${name}: an unregistered host goes to DEFAULT_ORGANISATION_ID when it is set`, async () => {
      const ruleId = newRuleId();
      const response = await post(path, bodyFor(path, ruleId, "a"), { target: proxied, host: UNKNOWN_HOST });
      expect(response.status, response.text).toBe(201);
      expect((await storedRows(path, ruleId, proxied)).map((row) => row.organisation_id)).toEqual([DEFAULT_ORG]);
    });

    it(`${name}: matches the host whatever its port and case`, async () => {
      for (const host of ["SHOP.Acme.TEST:8443", "shop.acme.test:80", "Shop.Acme.Test", "shop.acme.test."]) {
        const ruleId = newRuleId();
        const response = await post(path, bodyFor(path, ruleId, "a"), { host });
        expect(response.status, `${host}: ${response.text}`).toBe(201);
        expect((await storedRows(path, ruleId)).map((row) => row.organisation_id)).toEqual([acme]);
      }
    });

    it(`${name}: keeps the same ruleId of two organisations apart`, async () => {
      const ruleId = newRuleId();
      const visitor = randomUUID();
      for (const host of [ACME_HOST, GLOBEX_HOST]) {
        expect((await post(path, bodyFor(path, ruleId, "a"), { host, trackingId: visitor })).status).toBe(201);
      }
      const rows = await storedRows(path, ruleId);
      expect(rows.map((row) => row.organisation_id).sort()).toEqual([acme, globex].sort());
      expect(rows.every((row) => row.tracking_id === visitor && row.outcome_id === "a")).toBe(true);
      const outcomes = await outcomeRows(ruleId);
      expect(outcomes.map((row) => row.organisation_id).sort()).toEqual([acme, globex].sort());
      expect(outcomes.map((row) => row.exposures)).toEqual(path === EXPOSURES ? [1, 1] : [0, 0]);
    });

    it(`${name}: ignores X-Forwarded-Host when TRUST_PROXY is unset`, async () => {
      const ruleId = newRuleId();
      const response = await post(path, bodyFor(path, ruleId, "a"), {
        host: GLOBEX_HOST,
        headers: { "x-forwarded-host": ACME_HOST },
      });
      expect(response.status, response.text).toBe(201);
      expect((await storedRows(path, ruleId)).map((row) => row.organisation_id)).toEqual([globex]);
      await expectRefused(
        () =>
          post(path, bodyFor(path, newRuleId(), "a"), {
            host: UNKNOWN_HOST,
            headers: { "x-forwarded-host": ACME_HOST },
          }),
        404,
      );
    });

    it(`${name}: lets X-Forwarded-Host decide when TRUST_PROXY=true`, async () => {
      const cases: [string, string][] = [
        [GLOBEX_HOST, proxiedGlobex],
        ["NEWS.globex.test:443", proxiedGlobex],
        [UNKNOWN_HOST, DEFAULT_ORG],
      ];
      for (const [forwardedHost, organisationId] of cases) {
        const ruleId = newRuleId();
        const response = await post(path, bodyFor(path, ruleId, "a"), {
          target: proxied,
          host: ACME_HOST,
          headers: { "x-forwarded-host": forwardedHost },
        });
        expect(response.status, response.text).toBe(201);
        expect(
          (await storedRows(path, ruleId, proxied)).map((row) => row.organisation_id),
          forwardedHost,
        ).toEqual([organisationId]);
      }
      const ruleId = newRuleId();
      expect((await post(path, bodyFor(path, ruleId, "a"), { target: proxied, host: ACME_HOST })).status).toBe(201);
      expect((await storedRows(path, ruleId, proxied)).map((row) => row.organisation_id)).toEqual([proxiedAcme]);
    });
  }
});

describe("the user: a JWT through Zephr's transports", () => {
  /** Where a caller presents a token on purpose: a token there must verify. */
  const explicitTransports: [string, (token: string) => Call][] = [
    ["the jwt query parameter", (token) => ({ query: `?jwt=${encodeURIComponent(token)}` })],
    ["X-Blaize-Jwt", (token) => ({ headers: { "x-blaize-jwt": token } })],
    ["X-Zephr-Jwt", (token) => ({ headers: { "x-zephr-jwt": token } })],
    ["Authorization: Bearer", (token) => ({ headers: { authorization: `Bearer ${token}` } })],
  ];
  const cookieTransport: [string, (token: string) => Call] = [
    "the blaize_jwt cookie",
    (token) => ({ cookies: { blaize_jwt: token } }),
  ];
  const transports = [...explicitTransports, cookieTransport];

  for (const { name, path } of ENDPOINTS) {
    for (const [transport, call] of transports) {
      it(`${name}: stores the sub of a valid token sent in ${transport}`, async () => {
        const ruleId = newRuleId();
        const sub = `user-${randomUUID()}`;
        const response = await post(path, bodyFor(path, ruleId, "a,b"), call(await validToken(sub)));
        expect(response.status, response.text).toBe(201);
        expect((await storedRows(path, ruleId)).map((row) => row.user_id)).toEqual([sub, sub]);
      });
    }

    it(`${name}: stores user_id NULL for an anonymous visitor and for a token without sub`, async () => {
      const anonymous = newRuleId();
      expect((await post(path, bodyFor(path, anonymous, "a"))).status).toBe(201);
      expect((await storedRows(path, anonymous)).map((row) => row.user_id)).toEqual([null]);
      const noSub = newRuleId();
      const response = await post(path, bodyFor(path, noSub, "a"), {
        headers: { "x-zephr-jwt": await validToken(null) },
      });
      expect(response.status, response.text).toBe(201);
      expect((await storedRows(path, noSub)).map((row) => row.user_id)).toEqual([null]);
    });
  }

  it("takes the sub of the first transport in Zephr's order when several tokens verify, the cookie last", async () => {
    const ruleId = newRuleId();
    const response = await post(CONVERSIONS, bodyFor(CONVERSIONS, ruleId, "a"), {
      query: `?jwt=${await validToken("from-query")}`,
      headers: { authorization: `Bearer ${await validToken("from-bearer")}` },
      cookies: { blaize_jwt: await validToken("from-cookie") },
    });
    expect(response.status, response.text).toBe(201);
    expect((await conversionRows(ruleId)).map((row) => row.user_id)).toEqual(["from-query"]);
    const cookieOnly = newRuleId();
    const withoutSub = await post(CONVERSIONS, bodyFor(CONVERSIONS, cookieOnly, "a"), {
      headers: { "x-blaize-jwt": await validToken(null) },
      cookies: { blaize_jwt: await validToken("from-cookie") },
    });
    expect(withoutSub.status, withoutSub.text).toBe(201);
    expect((await conversionRows(cookieOnly)).map((row) => row.user_id)).toEqual(["from-cookie"]);
  });

  describe("401 with {message}, nothing stored, for an explicit token that does not verify", () => {
    const now = () => Math.floor(Date.now() / 1000);
    const badTokens: [string, () => Promise<string>][] = [
      [
        "a bad signature (another secret)",
        () => hs256({ sub: "u", iss: ISSUER, aud: AUDIENCE, exp: now() + 300 }, OTHER_SECRET),
      ],
      ["an expired token", () => hs256({ sub: "u", iss: ISSUER, aud: AUDIENCE, exp: now() - 60 })],
      ["a token without exp", () => hs256({ sub: "u", iss: ISSUER, aud: AUDIENCE })],
      ["a wrong issuer", () => hs256({ sub: "u", iss: "https://evil.test/", aud: AUDIENCE, exp: now() + 300 })],
      ["a token without iss", () => hs256({ sub: "u", aud: AUDIENCE, exp: now() + 300 })],
      ["a wrong audience", () => hs256({ sub: "u", iss: ISSUER, aud: "someone-else", exp: now() + 300 })],
      [
        "alg: none",
        async () =>
          `${base64url({ alg: "none", typ: "JWT" })}.${base64url({ sub: "u", iss: ISSUER, aud: AUDIENCE, exp: now() + 300 })}.`,
      ],
      [
        "an RS256 token when only JWT_SECRET is configured",
        async () => {
          const { privateKey } = await generateKeyPair("RS256");
          return new SignJWT({ sub: "u", iss: ISSUER, aud: AUDIENCE, exp: now() + 300 })
            .setProtectedHeader({ alg: "RS256" })
            .sign(privateKey);
        },
      ],
      [
        "an HS512 token signed with the secret",
        () =>
          new SignJWT({ sub: "u", iss: ISSUER, aud: AUDIENCE, exp: now() + 300 })
            .setProtectedHeader({ alg: "HS512" })
            .sign(new TextEncoder().encode(SECRET)),
      ],
      ["a sub of 256 characters", () => validToken("s".repeat(256))],
      ["garbage", async () => "garbage"],
      ["three garbage segments", async () => "a.b.c"],
    ];

    for (const { name, path } of ENDPOINTS) {
      for (const [label, make] of badTokens) {
        it(`${name}: ${label}`, async () => {
          const token = await make();
          await expectRefused(
            () => post(path, bodyFor(path, newRuleId(), "a"), { headers: { "x-zephr-jwt": token } }),
            401,
            /^Invalid token/,
          );
        });
      }
    }

    it("refuses a bad token in every explicit transport", async () => {
      const bad = await hs256({ sub: "u", iss: ISSUER, aud: AUDIENCE, exp: now() + 300 }, OTHER_SECRET);
      for (const [transport, call] of explicitTransports) {
        const response = await expectRefused(() => post(CONVERSIONS, bodyFor(CONVERSIONS, "r", "a"), call(bad)), 401);
        expect(response.body.message, transport).toBe("Invalid token: bad signature");
      }
    });

    it("refuses a valid token presented together with an invalid one", async () => {
      const valid = await validToken("u");
      await expectRefused(
        () =>
          post(CONVERSIONS, bodyFor(CONVERSIONS, newRuleId(), "a"), {
            // The valid one comes first in Zephr's order: the invalid one must still be checked.
            headers: { "x-blaize-jwt": valid, "x-zephr-jwt": "garbage" },
          }),
        401,
      );
    });

    it("refuses a bad explicit token even beside a valid blaize_jwt cookie", async () => {
      const cookie = await validToken("u");
      await expectRefused(
        () =>
          post(CONVERSIONS, bodyFor(CONVERSIONS, newRuleId(), "a"), {
            headers: { authorization: "Bearer garbage" },
            cookies: { blaize_jwt: cookie },
          }),
        401,
      );
    });

    it("answers 401 before a missing tracking id or a bad body", async () => {
      await expectRefused(
        () => post(EXPOSURES, "[", { trackingId: null, headers: { "x-blaize-jwt": "garbage" } }),
        401,
      );
    });
  });

  describe("a blaize_jwt cookie that does not verify: recorded as anonymous, and counted", () => {
    const now = () => Math.floor(Date.now() / 1000);
    const staleCookies: [string, string, () => Promise<string>][] = [
      ["an expired token", "expired", () => hs256({ sub: "u", iss: ISSUER, aud: AUDIENCE, exp: now() - 60 })],
      [
        "a token signed with another key",
        "bad_signature",
        () => hs256({ sub: "u", iss: ISSUER, aud: AUDIENCE, exp: now() + 300 }, OTHER_SECRET),
      ],
      ["a malformed token", "malformed", async () => "not-a-jwt"],
      ["a wrong audience", "claim_rejected", () => hs256({ sub: "u", iss: ISSUER, aud: "x", exp: now() + 300 })],
    ];

    for (const { name, path } of ENDPOINTS) {
      for (const [label, reason, make] of staleCookies) {
        it(`${name}: ${label} (reason ${reason})`, async () => {
          const before = await ignoredCookies(reason);
          const ruleId = newRuleId();
          const response = await post(path, bodyFor(path, ruleId, "a,b"), { cookies: { blaize_jwt: await make() } });
          expect(response.status, response.text).toBe(201);
          expect((await storedRows(path, ruleId)).map((row) => row.user_id)).toEqual([null, null]);
          expect(await ignoredCookies(reason)).toBe(before + 1);
        });
      }
    }

    it("keeps the sub of a valid explicit token beside a stale cookie, and counts the cookie", async () => {
      const before = await ignoredCookies("expired");
      const ruleId = newRuleId();
      const stale = await hs256({ sub: "old", iss: ISSUER, aud: AUDIENCE, exp: now() - 60 });
      const response = await post(CONVERSIONS, bodyFor(CONVERSIONS, ruleId, "a"), {
        headers: { "x-zephr-jwt": await validToken("fresh") },
        cookies: { blaize_jwt: stale },
      });
      expect(response.status, response.text).toBe(201);
      expect((await conversionRows(ruleId)).map((row) => row.user_id)).toEqual(["fresh"]);
      expect(await ignoredCookies("expired")).toBe(before + 1);
    });
  });

  describe("blaize_session: Zephr's opaque session cookie, never read", () => {
    for (const { name, path } of ENDPOINTS) {
      it(`${name}: records the event whatever blaize_session holds, without a user id from it`, async () => {
        const values = [
          "garbage",
          "a.b.c",
          await validToken("from-session"),
          await hs256({ sub: "u", exp: Math.floor(Date.now() / 1000) - 60 }, OTHER_SECRET),
        ];
        for (const value of values) {
          const ruleId = newRuleId();
          const response = await post(path, bodyFor(path, ruleId, "a"), { cookies: { blaize_session: value } });
          expect(response.status, response.text).toBe(201);
          expect((await storedRows(path, ruleId)).map((row) => row.user_id)).toEqual([null]);
        }
      });
    }

    it("does not stand in the way of a valid blaize_jwt cookie", async () => {
      const ruleId = newRuleId();
      const response = await post(CONVERSIONS, bodyFor(CONVERSIONS, ruleId, "a"), {
        cookies: { blaize_session: "opaque-session-id", blaize_jwt: await validToken("from-cookie") },
      });
      expect(response.status, response.text).toBe(201);
      expect((await conversionRows(ruleId)).map((row) => row.user_id)).toEqual(["from-cookie"]);
    });
  });

  describe("neither JWT_SECRET nor JWT_JWKS_URL configured: tokens are ignored", () => {
    for (const { name, path } of ENDPOINTS) {
      it(`${name}: records valid, bad and garbage tokens in every transport as anonymous`, async () => {
        const tokens = [await validToken("u"), await validToken("u").then((t) => `${t}x`), "garbage"];
        const before = await ignoredCookies("malformed", proxied);
        for (const token of tokens) {
          for (const [transport, call] of transports) {
            const ruleId = newRuleId();
            const response = await post(path, bodyFor(path, ruleId, "a"), { target: proxied, ...call(token) });
            expect(response.status, `${transport}: ${response.text}`).toBe(201);
            expect(
              (await storedRows(path, ruleId, proxied)).map((row) => row.user_id),
              transport,
            ).toEqual([null]);
          }
        }
        // Nothing verifies without a key: ignoring a cookie then is no sign of a stale session.
        expect(await ignoredCookies("malformed", proxied)).toBe(before);
      });
    }
  });
});

/** conversions_jwt_cookies_ignored_total{reason} as GET /metrics shows it (0 before the first). */
async function ignoredCookies(reason: string, target = app): Promise<number> {
  const response = await rawRequest(`${target.url}/metrics`);
  expect(response.status).toBe(200);
  const line = response.text
    .split("\n")
    .find((row) => row.startsWith(`conversions_jwt_cookies_ignored_total{reason="${reason}"} `));
  return line === undefined ? 0 : Number(line.split(" ").at(-1));
}

describe("GraphQL twins", () => {
  const RECORD_CONVERSION = `mutation Record($input: RecordRuleConversionInput!) {
    recordRuleConversion(input: $input) { ruleId outcomeIds conversion }
  }`;
  const RECORD_EXPOSURE = `mutation Expose($input: RecordRuleOutcomeExposureInput!) {
    recordRuleOutcomeExposure(input: $input) { ruleId outcomeIds }
  }`;

  function gql(
    query: string,
    variables: Record<string, unknown>,
    options: { target?: TestApp; host?: string; headers?: Record<string, string> } = {},
  ) {
    return rawRequest(`${(options.target ?? app).url}/graphql`, {
      method: "POST",
      headers: { host: options.host ?? ACME_HOST, "content-type": "application/json", ...options.headers },
      body: JSON.stringify({ query, variables }),
    });
  }

  async function expectGraphQLError(send: () => Promise<RawResponse>, status: number, code: string, target = app) {
    const before = await tableCounts(target);
    const response = await send();
    expect(response.status, response.text).toBe(status);
    expect(response.body.data ?? null).toBeNull();
    expect(response.body.errors).toHaveLength(1);
    expect(response.body.errors[0].extensions.code).toBe(code);
    expect(response.body.errors[0].message).toEqual(expect.any(String));
    expect(response.text).not.toMatch(/stacktrace|\.ts:\d/);
    expect(await tableCounts(target)).toEqual(before);
    return response;
  }

  describe("recordRuleConversion", () => {
    it("answers the payload and stores the events with the trackingId argument", async () => {
      const ruleId = newRuleId();
      const trackingId = randomUUID();
      const response = await gql(RECORD_CONVERSION, {
        input: { ruleId, outcomeId: " graph/1#1, graph/1#2 ,graph/1#1", conversion: "REGISTERED", trackingId },
      });
      expect(response.status, response.text).toBe(200);
      expect(response.body).toEqual({
        data: { recordRuleConversion: { ruleId, outcomeIds: ["graph/1#1", "graph/1#2"], conversion: "REGISTERED" } },
      });
      const rows = await conversionRows(ruleId);
      expect(rows.map((row) => [row.organisation_id, row.outcome_id, row.tracking_id, row.user_id])).toEqual([
        [acme, "graph/1#1", trackingId, null],
        [acme, "graph/1#2", trackingId, null],
      ]);
    });

    it("takes the tracking id from the forwarded Cookie header, the argument winning over it", async () => {
      const ruleId = newRuleId();
      const fromCookie = randomUUID();
      const response = await gql(
        RECORD_CONVERSION,
        { input: { ruleId, outcomeId: "a", conversion: "CUSTOMER" } },
        { headers: { cookie: `other=1; blaize_tracking_id=${fromCookie}` } },
      );
      expect(response.status, response.text).toBe(200);
      expect(response.body.data.recordRuleConversion.outcomeIds).toEqual(["a"]);
      const fromArgument = randomUUID();
      const both = await gql(
        RECORD_CONVERSION,
        { input: { ruleId, outcomeId: "b", conversion: "CUSTOMER", trackingId: fromArgument } },
        { headers: { cookie: `blaize_tracking_id=${fromCookie}` } },
      );
      expect(both.status, both.text).toBe(200);
      expect((await conversionRows(ruleId)).map((row) => [row.outcome_id, row.tracking_id])).toEqual([
        ["a", fromCookie],
        ["b", fromArgument],
      ]);
    });

    it("stores the sub of a valid X-Zephr-Jwt", async () => {
      const ruleId = newRuleId();
      const response = await gql(
        RECORD_CONVERSION,
        { input: { ruleId, outcomeId: "a", conversion: "C", trackingId: "t-1" } },
        { headers: { "x-zephr-jwt": await validToken("graph-user") } },
      );
      expect(response.status, response.text).toBe(200);
      expect((await conversionRows(ruleId)).map((row) => row.user_id)).toEqual(["graph-user"]);
    });

    it("records a forwarded stale blaize_jwt cookie or any blaize_session as anonymous, and counts the cookie", async () => {
      const before = await ignoredCookies("expired");
      const expired = await hs256({ sub: "u", iss: ISSUER, aud: AUDIENCE, exp: Math.floor(Date.now() / 1000) - 60 });
      const ruleId = newRuleId();
      for (const [outcomeId, cookie] of [
        ["a", `blaize_tracking_id=t-1; blaize_jwt=${expired}`],
        ["b", "blaize_tracking_id=t-1; blaize_session=garbage"],
      ]) {
        const response = await gql(
          RECORD_CONVERSION,
          { input: { ruleId, outcomeId, conversion: "C" } },
          { headers: { cookie } },
        );
        expect(response.status, response.text).toBe(200);
      }
      expect((await conversionRows(ruleId)).map((row) => [row.outcome_id, row.user_id])).toEqual([
        ["a", null],
        ["b", null],
      ]);
      expect(await ignoredCookies("expired")).toBe(before + 1);
    });

    it("records a valid token as anonymous when no JWT verification is configured", async () => {
      const ruleId = newRuleId();
      const response = await gql(
        RECORD_CONVERSION,
        { input: { ruleId, outcomeId: "a", conversion: "C", trackingId: "t-1" } },
        { target: proxied, headers: { "x-zephr-jwt": await validToken("graph-user"), cookie: "blaize_jwt=garbage" } },
      );
      expect(response.status, response.text).toBe(200);
      expect((await conversionRows(ruleId, proxied)).map((row) => row.user_id)).toEqual([null]);
    });

    it("is BAD_USER_INPUT with HTTP 400 without a tracking id", async () => {
      await expectGraphQLError(
        () => gql(RECORD_CONVERSION, { input: { ruleId: newRuleId(), outcomeId: "a", conversion: "C" } }),
        400,
        "BAD_USER_INPUT",
      );
    });

    it("is BAD_USER_INPUT with HTTP 400 for a malformed tracking id or invalid fields", async () => {
      const inputs = [
        { ruleId: newRuleId(), outcomeId: "a", conversion: "C", trackingId: "bad id!" },
        { ruleId: newRuleId(), outcomeId: "a", conversion: "C", trackingId: "" },
        { ruleId: "", outcomeId: "a", conversion: "C", trackingId: "t" },
        { ruleId: "r".repeat(256), outcomeId: "a", conversion: "C", trackingId: "t" },
        { ruleId: newRuleId(), outcomeId: " , ", conversion: "C", trackingId: "t" },
        { ruleId: newRuleId(), outcomeId: "o".repeat(256), conversion: "C", trackingId: "t" },
        {
          ruleId: newRuleId(),
          outcomeId: Array.from({ length: 51 }, (_, i) => `o${i}`).join(","),
          conversion: "C",
          trackingId: "t",
        },
        { ruleId: newRuleId(), outcomeId: "a", conversion: "", trackingId: "t" },
      ];
      for (const input of inputs) {
        const response = await expectGraphQLError(() => gql(RECORD_CONVERSION, { input }), 400, "BAD_USER_INPUT");
        expect(response.body.errors[0].extensions.issues).toEqual([
          expect.objectContaining({ type: expect.any(String) }),
        ]);
      }
    });

    it("is UNAUTHENTICATED with HTTP 401 for a bad X-Zephr-Jwt", async () => {
      const bad = await hs256(
        { sub: "u", iss: ISSUER, aud: AUDIENCE, exp: Math.floor(Date.now() / 1000) + 300 },
        OTHER_SECRET,
      );
      await expectGraphQLError(
        () =>
          gql(
            RECORD_CONVERSION,
            { input: { ruleId: newRuleId(), outcomeId: "a", conversion: "C", trackingId: "t" } },
            { headers: { "x-zephr-jwt": bad } },
          ),
        401,
        "UNAUTHENTICATED",
      );
    });

    it("is NOT_FOUND with HTTP 404 on an unregistered host without DEFAULT_ORGANISATION_ID", async () => {
      await expectGraphQLError(
        () =>
          gql(
            RECORD_CONVERSION,
            { input: { ruleId: newRuleId(), outcomeId: "a", conversion: "C", trackingId: "t" } },
            { host: UNKNOWN_HOST },
          ),
        404,
        "NOT_FOUND",
      );
    });

    it("records on DEFAULT_ORGANISATION_ID for an unregistered host when it is set", async () => {
      const ruleId = newRuleId();
      const response = await gql(
        RECORD_CONVERSION,
        { input: { ruleId, outcomeId: "a", conversion: "C", trackingId: "t" } },
        { target: proxied, host: UNKNOWN_HOST },
      );
      expect(response.status, response.text).toBe(200);
      expect((await conversionRows(ruleId, proxied)).map((row) => row.organisation_id)).toEqual([DEFAULT_ORG]);
    });
  });

  describe("recordRuleOutcomeExposure", () => {
    it("answers the payload and stores first exposures with the trackingId argument", async () => {
      const ruleId = newRuleId();
      const trackingId = randomUUID();
      const variables = { input: { ruleId, outcomeId: "a, b,a", trackingId } };
      for (let i = 0; i < 2; i++) {
        const response = await gql(RECORD_EXPOSURE, variables);
        expect(response.status, response.text).toBe(200);
        expect(response.body).toEqual({ data: { recordRuleOutcomeExposure: { ruleId, outcomeIds: ["a", "b"] } } });
      }
      expect((await exposureRows(ruleId)).map((row) => [row.organisation_id, row.outcome_id, row.tracking_id])).toEqual(
        [
          [acme, "a", trackingId],
          [acme, "b", trackingId],
        ],
      );
      expect((await outcomeRows(ruleId)).map((row) => row.exposures)).toEqual([1, 1]);
    });

    it("takes the tracking id from the forwarded Cookie header", async () => {
      const ruleId = newRuleId();
      const fromCookie = randomUUID();
      const response = await gql(
        RECORD_EXPOSURE,
        { input: { ruleId, outcomeId: "a" } },
        { headers: { cookie: `blaize_tracking_id=${fromCookie}` } },
      );
      expect(response.status, response.text).toBe(200);
      expect((await exposureRows(ruleId)).map((row) => row.tracking_id)).toEqual([fromCookie]);
    });

    it("records a forwarded malformed blaize_jwt cookie as anonymous", async () => {
      const before = await ignoredCookies("malformed");
      const ruleId = newRuleId();
      const response = await gql(
        RECORD_EXPOSURE,
        { input: { ruleId, outcomeId: "a", trackingId: "t-2" } },
        { headers: { cookie: "blaize_jwt=garbage; blaize_session=opaque" } },
      );
      expect(response.status, response.text).toBe(200);
      expect((await exposureRows(ruleId)).map((row) => row.user_id)).toEqual([null]);
      expect(await ignoredCookies("malformed")).toBe(before + 1);
    });

    it("is BAD_USER_INPUT with HTTP 400 without a tracking id", async () => {
      await expectGraphQLError(
        () => gql(RECORD_EXPOSURE, { input: { ruleId: newRuleId(), outcomeId: "a" } }),
        400,
        "BAD_USER_INPUT",
      );
    });

    it("is UNAUTHENTICATED with HTTP 401 for a bad X-Zephr-Jwt", async () => {
      await expectGraphQLError(
        () =>
          gql(
            RECORD_EXPOSURE,
            { input: { ruleId: newRuleId(), outcomeId: "a", trackingId: "t" } },
            { headers: { "x-zephr-jwt": "garbage" } },
          ),
        401,
        "UNAUTHENTICATED",
      );
    });

    it("is NOT_FOUND with HTTP 404 on an unregistered host without DEFAULT_ORGANISATION_ID", async () => {
      await expectGraphQLError(
        () =>
          gql(
            RECORD_EXPOSURE,
            { input: { ruleId: newRuleId(), outcomeId: "a", trackingId: "t" } },
            { host: UNKNOWN_HOST },
          ),
        404,
        "NOT_FOUND",
      );
    });
  });
});

describe("services.sites.add", () => {
  it("normalizes the host, is idempotent for the same organisation, and the new host resolves", async () => {
    const organisationId = (await createTenant(app)).organisationId;
    const first = await app.server.services.sites.add(organisationId, "WWW.Blog.Example.TEST:8080");
    expect(first).toEqual({ organisationId, host: "www.blog.example.test" });
    const again = await app.server.services.sites.add(organisationId, "www.blog.example.test");
    expect(again).toEqual(first);
    const rows = await app.server.dataSource.query("SELECT organisation_id FROM sites WHERE host = ?", [
      "www.blog.example.test",
    ]);
    expect(rows).toEqual([{ organisation_id: organisationId }]);
    const ruleId = newRuleId();
    expect((await post(EXPOSURES, { ruleId, outcomeId: "a" }, { host: "www.blog.example.test" })).status).toBe(201);
    expect((await exposureRows(ruleId)).map((row) => row.organisation_id)).toEqual([organisationId]);
  });

  it("refuses a host already owned by another organisation and keeps the owner", async () => {
    const intruder = (await createTenant(app)).organisationId;
    await expect(app.server.services.sites.add(intruder, "Shop.Acme.Test")).rejects.toBeInstanceOf(InvalidInput);
    await expect(app.server.services.sites.add(intruder, ACME_HOST)).rejects.toThrow(/another organisation/);
    const rows = await app.server.dataSource.query("SELECT organisation_id FROM sites WHERE host = ?", [ACME_HOST]);
    expect(rows).toEqual([{ organisation_id: acme }]);
    const ruleId = newRuleId();
    expect((await post(EXPOSURES, { ruleId, outcomeId: "a" })).status).toBe(201);
    expect((await exposureRows(ruleId)).map((row) => row.organisation_id)).toEqual([acme]);
  });

  it("refuses what is not a host name", async () => {
    for (const host of ["", "not a host", "bad_host.test", "-lead.test", "a..b"]) {
      await expect(app.server.services.sites.add(acme, host), host).rejects.toBeInstanceOf(InvalidInput);
    }
  });
});
