// The outcome statistics at their edges, through GraphQL and the CSV download: confidence levels
// whose quantile is not finite are input errors, no figure is ever NaN or Infinity, hostile text
// never reaches a spreadsheet as a formula, and every valid rule id works in the CSV's path.
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

// sampleRatioMismatch is the one boolean: the text true or false, or an empty cell.
const NUMBER_COLUMNS = OUTCOME_STATS_CSV_COLUMNS.filter(
  (column) =>
    !["ruleId", "conversion", "from", "to", "baselineOutcomeId", "outcomeId", "sampleRatioMismatch"].includes(column),
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
          expect(["true", "false", ""]).toContain(record.sampleRatioMismatch);
        }
        expect(Number(records[0].confidenceLevel)).toBe(confidenceLevel);
      }
    }
  });
});

interface Field {
  value: string;
  quoted: boolean;
}

/** The CSV read by a real parser, with whether each field was quoted. */
function parseFields(text: string): Field[][] {
  const cast = (value: string, context: { quoting: boolean }) => ({ value, quoted: context.quoting });
  return parse(text, { cast }) as unknown as Field[][];
}

const TEXT_COLUMNS = ["ruleId", "conversion", "from", "to", "baselineOutcomeId", "outcomeId"];
// What a spreadsheet could run: a trigger at the start, or right after a separator or line break.
const FORMULA_AFTER_ANY_SEPARATOR = /(?:^|[,;\t\r\n])[=+\-@\t\r\uFF1D\uFF0B\uFF0D\uFF20]/;

describe("CSV fields are always safe", () => {
  // Each hostile text (as recorded) and the field the CSV must hold for it: a ' before every
  // trigger at the start or after a separator, nothing else changed. Outcome ids hold no comma
  // (they are split on commas); rule ids and conversion types do.
  const rule = '=1+1,x;=2+2\n@SUM(A1)\r-3\t+4 say "hi"';
  const ruleField = `'=1+1,x;'=2+2\n'@SUM(A1)\r'-3\t'+4 say "hi"`;
  const conversion = "BUY,=1+1;@x\r\n-y";
  const conversionField = "BUY,'=1+1;'@x\r\n'-y";
  const outcomes: [string, string][] = [
    ["=cmd|' /C calc'!A0", "'=cmd|' /C calc'!A0"],
    ["ok;=1+1", "ok;'=1+1"],
    ["ok\n+2", "ok\n'+2"],
    ["ok\r\n-3", "ok\r\n'-3"],
    ["ok;\t@4", "ok;'\t'@4"],
    ["x\t=y", "x\t'=y"],
    ["-6", "'-6"],
    ["\uFF1DSUM(1)", "'\uFF1DSUM(1)"],
    ['plain "quoted"', 'plain "quoted"'],
  ];

  beforeAll(async () => {
    for (const [index, [outcome]] of outcomes.entries()) {
      await record("exposures", { ruleId: rule, outcomeId: outcome }, `hostile-${index}`);
      await record("exposures", { ruleId: rule, outcomeId: outcome }, `hostile-${index}-b`);
      if (index % 2 === 0)
        await record("conversions", { ruleId: rule, outcomeId: outcome, conversion }, `hostile-${index}`);
    }
  });

  it("quotes every text field, neutralises formulas after any separator, and keeps numbers bare", async () => {
    const response = await downloadCsv(rule, { conversion, baselineOutcomeId: "ok;=1+1" });
    expect(response.status).toBe(200);
    const [header, ...rows] = parseFields(response.text);
    expect(header).toEqual(OUTCOME_STATS_CSV_COLUMNS.map((value) => ({ value, quoted: true })));
    expect(rows).toHaveLength(outcomes.length);
    const expected = new Map(outcomes.map(([, field]) => [field, false]));
    for (const row of rows) {
      const record = Object.fromEntries(OUTCOME_STATS_CSV_COLUMNS.map((column, index) => [column, row[index]]));
      expect(record.ruleId.value).toBe(ruleField);
      expect(record.conversion.value).toBe(conversionField);
      expect(record.baselineOutcomeId.value).toBe("ok;'=1+1");
      expect(expected.has(record.outcomeId.value), JSON.stringify(record.outcomeId.value)).toBe(true);
      expected.set(record.outcomeId.value, true);
      for (const column of TEXT_COLUMNS) {
        expect(record[column].quoted, column).toBe(true);
        expect(record[column].value, column).not.toMatch(FORMULA_AFTER_ANY_SEPARATOR);
      }
      for (const column of NUMBER_COLUMNS) {
        const { value, quoted } = record[column];
        expect(quoted, column).toBe(false);
        if (value !== "") expect(Number.isFinite(Number(value)), `${column}=${value}`).toBe(true);
      }
      expect(Number(record.exposures.value)).toBe(2);
      expect(record.sampleRatioMismatch).toEqual({ value: "false", quoted: true });
    }
    expect([...expected.values()].every(Boolean)).toBe(true);
    // Converters were counted under the hostile conversion type: the numbers are real ones.
    const converted = rows.filter((row) => row[OUTCOME_STATS_CSV_COLUMNS.indexOf("converters")].value === "1");
    expect(converted).toHaveLength(Math.ceil(outcomes.length / 2));
  });

  it("serves every valid rule id, however long, and answers longer ones 400 {detail}", async () => {
    const valid = [
      "r".repeat(101),
      "r".repeat(255),
      "é".repeat(255),
      "€".repeat(255), // 9 characters each when percent-encoded
      `${"😀".repeat(127)}x`, // 255 UTF-16 code units, 12 characters per emoji encoded
      `${"/?#%&".repeat(51)}`, // characters with a meaning in a URL
    ];
    for (const ruleId of valid) {
      await record("exposures", { ruleId, outcomeId: "A" }, "long-rule-visitor");
      const response = await downloadCsv(ruleId);
      expect(response.status, `${ruleId.length} ${ruleId.slice(0, 5)}`).toBe(200);
      const [, row] = parseFields(response.text);
      expect(row[0].value).toBe(ruleId.replace(/^[=+\-@]/, "'$&"));
      expect(row[OUTCOME_STATS_CSV_COLUMNS.indexOf("exposures")].value).toBe("1");
    }
    for (const ruleId of ["r".repeat(256), "€".repeat(256), "😀".repeat(1000), "r".repeat(5000)]) {
      const response = await downloadCsv(ruleId);
      expect(response.status, `${ruleId.length} ${ruleId.slice(0, 5)}`).toBe(400);
      expect(response.body).toEqual({ detail: "ruleId: ruleId must be at most 255 characters" });
    }
    // A path that does not decode (a cut percent-escape): 400 {detail} too, not the router's own shape.
    const malformed = await http(`${app.url}/api/v1/rules/%E0%A4%A/outcome-stats.csv`, {
      headers: { "x-api-key": tenant.apiKey },
    });
    expect([malformed.status, malformed.body]).toEqual([
      400,
      { detail: "The URL's path is not valid percent-encoded UTF-8" },
    ]);
  });
});
