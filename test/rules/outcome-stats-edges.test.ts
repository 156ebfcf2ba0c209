// The outcome statistics at their edges, through GraphQL and the CSV download: confidence levels
// whose quantile is not finite are input errors, and no figure is ever NaN or Infinity.
import { parse } from "csv-parse/sync";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { OUTCOME_STATS_CSV_COLUMNS } from "../../src/rules/outcome-stats.csv";
import { createTenant, graphql, http, startTestApp, type Tenant, type TestApp } from "../helpers/app";

let app: TestApp;
let tenant: Tenant;
let publicUrl: string; // public calls to localhost belong to the tenant (a registered site)

beforeAll(async () => {
  app = await startTestApp();
  tenant = await createTenant(app);
  await app.server.services.sites.add(tenant.organisationId, "localhost");
  publicUrl = app.url.replace("127.0.0.1", "localhost");
});
afterAll(() => app?.stop());

async function record(path: "exposures" | "conversions", body: Record<string, string>, trackingId: string) {
  const response = await http(`${publicUrl}/zephr/public/rule-outcomes/v1/${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", cookie: `blaize_tracking_id=${trackingId}` },
    body: JSON.stringify(body),
  });
  expect(response.status, response.text).toBe(201);
}

const STATS = `query Stats($ruleId: ID!, $conversion: String, $confidenceLevel: Float) {
  outcomeConversionStats(ruleId: $ruleId, conversion: $conversion, confidenceLevel: $confidenceLevel) {
    confidenceLevel totalExposures sampleRatioMismatchPValue
    outcomes { exposures converters conversions unattributedConversions conversionRate confidenceInterval { lower upper } uplift pValue probabilityToBeBest }
  }
}`;

const stats = (variables: Record<string, unknown>) => graphql(app, STATS, variables, { "x-api-key": tenant.apiKey });

function downloadCsv(ruleId: string, query: Record<string, string> = {}) {
  const search = new URLSearchParams(query).toString();
  return http(`${app.url}/api/v1/rules/${encodeURIComponent(ruleId)}/outcome-stats.csv${search ? `?${search}` : ""}`, {
    headers: { "x-api-key": tenant.apiKey },
  });
}

/** Every number anywhere in a JSON value. */
function numbersIn(value: unknown): unknown[] {
  if (typeof value === "number") return [value];
  if (Array.isArray(value)) return value.flatMap(numbersIn);
  if (value && typeof value === "object") return Object.values(value).flatMap(numbersIn);
  return [];
}

const NUMBER_COLUMNS = OUTCOME_STATS_CSV_COLUMNS.filter(
  (column) => !["ruleId", "conversion", "from", "to", "baselineOutcomeId", "outcomeId"].includes(column),
);

describe("confidence levels at the edges of floating point", () => {
  const rule = "edge-levels";
  beforeAll(async () => {
    // A: 3 of 4 convert; B: 0 of 3; C: all 2 convert; D: conversions only, never exposed.
    for (const [outcome, visitors, converting] of [
      ["A", 4, 3],
      ["B", 3, 0],
      ["C", 2, 2],
    ] as const) {
      for (let visitor = 0; visitor < visitors; visitor++) {
        await record("exposures", { ruleId: rule, outcomeId: outcome }, `${outcome}${visitor}`);
        if (visitor < converting) {
          await record("conversions", { ruleId: rule, outcomeId: outcome, conversion: "BUY" }, `${outcome}${visitor}`);
        }
      }
    }
    await record("conversions", { ruleId: rule, outcomeId: "D", conversion: "BUY" }, "stranger");
  });

  // 1 − (1 − level)/2 rounds to 1 (z = Infinity) or to 0.5 (z = 0): no interval exists.
  const unusable = [0.9999999999999999, 1 - 2 ** -53, 1e-17, 5e-324];

  it("refuses a level whose normal quantile is not finite as BAD_USER_INPUT", async () => {
    for (const confidenceLevel of unusable) {
      const response = await stats({ ruleId: rule, confidenceLevel });
      expect(response.status, String(confidenceLevel)).toBe(400);
      expect(response.body.errors).toHaveLength(1);
      expect(response.body.errors[0].extensions).toMatchObject({ code: "BAD_USER_INPUT", field: "confidenceLevel" });
      expect(response.body.data ?? null).toBeNull();
    }
  });

  it("refuses it on the CSV route as 400 {detail}", async () => {
    for (const confidenceLevel of unusable) {
      const response = await downloadCsv(rule, { confidenceLevel: String(confidenceLevel) });
      expect(response.status, String(confidenceLevel)).toBe(400);
      expect(response.body).toEqual({ detail: expect.stringContaining("confidenceLevel") });
    }
  });

  // The closest usable levels to 1 and 0, and an ordinary one.
  const usable = [0.999999999999999, 2e-16, 0.95];

  it("answers only finite numbers or null in GraphQL for every usable level", async () => {
    for (const confidenceLevel of usable) {
      for (const conversion of [null, "BUY", "NEVER"]) {
        const response = await stats({ ruleId: rule, confidenceLevel, conversion });
        expect(response.body.errors, `${confidenceLevel} ${conversion}`).toBeUndefined();
        const result = response.body.data.outcomeConversionStats;
        expect(result.outcomes).toHaveLength(4);
        for (const value of numbersIn(result)) expect(Number.isFinite(value), String(value)).toBe(true);
        const shares = result.outcomes.map((outcome: { probabilityToBeBest: number }) => outcome.probabilityToBeBest);
        expect(shares.reduce((sum: number, share: number) => sum + share, 0)).toBeCloseTo(1, 9);
      }
    }
    const widest = (await stats({ ruleId: rule, confidenceLevel: 0.999999999999999 })).body.data.outcomeConversionStats;
    const [a, , , d] = widest.outcomes;
    expect(a.confidenceInterval.lower).toBeGreaterThan(0);
    expect(a.confidenceInterval.upper).toBeLessThanOrEqual(1);
    expect(d).toMatchObject({
      exposures: 0,
      conversionRate: null,
      confidenceInterval: null,
      uplift: null,
      pValue: null,
    });
  });

  it("writes only finite numbers or empty cells in the CSV for every usable level", async () => {
    for (const confidenceLevel of usable) {
      for (const conversion of ["", "BUY", "NEVER"]) {
        const response = await downloadCsv(rule, { confidenceLevel: String(confidenceLevel), conversion });
        expect(response.status).toBe(200);
        const records: Record<string, string>[] = parse(response.text, { columns: true });
        expect(records).toHaveLength(4);
        for (const record of records) {
          for (const column of NUMBER_COLUMNS) {
            const cell = record[column];
            if (cell !== "") expect(Number.isFinite(Number(cell)), `${column}=${cell}`).toBe(true);
          }
        }
        expect(Number(records[0].confidenceLevel)).toBe(confidenceLevel);
      }
    }
  });
});
