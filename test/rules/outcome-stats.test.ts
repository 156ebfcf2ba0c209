// outcomeConversionStats, rules and the CSV download, end to end: events recorded through the
// public endpoints on chosen days, then read back as aggregates by the organisation.
import { parse } from "csv-parse/sync";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  equalSplitChiSquarePValue,
  probabilityToBeBest,
  twoProportionPValue,
  wilsonInterval,
} from "../../src/rules/statistics";
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

let app: TestApp;
let acme: Tenant; // public calls to 127.0.0.1 belong to it (DEFAULT_ORGANISATION_ID)
let globex: Tenant; // public calls to localhost belong to it (registered site)
let now = new Date(); // when the app's clock says an event happens

const STATS = `query Stats($ruleId: ID!, $conversion: String, $from: String, $to: String, $baselineOutcomeId: String, $confidenceLevel: Float) {
  outcomeConversionStats(ruleId: $ruleId, conversion: $conversion, from: $from, to: $to, baselineOutcomeId: $baselineOutcomeId, confidenceLevel: $confidenceLevel) {
    ruleId conversion totalExposures sampleRatioMismatchPValue baselineOutcomeId crossoverVisitors
    outcomes { outcomeId exposures converters conversions unattributedConversions conversionRate confidenceInterval { lower upper } uplift pValue probabilityToBeBest }
  }
}`;

beforeAll(async () => {
  // The default organisation must exist before the app is configured with it.
  const bootstrap = await startTestApp();
  acme = await createTenant(bootstrap);
  await bootstrap.server.close();
  app = await startTestApp({ DEFAULT_ORGANISATION_ID: acme.organisationId }, bootstrap.database, { clock: () => now });
  globex = await createTenant(app);
  await app.server.services.sites.add(globex.organisationId, "localhost");
});
afterAll(() => app?.stop());

async function send(
  path: "exposures" | "conversions",
  body: Record<string, string>,
  trackingId: string,
  at: string,
  base = app.url,
) {
  now = new Date(at);
  const response = await http(`${base}/zephr/public/rule-outcomes/v1/${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", cookie: `blaize_tracking_id=${trackingId}` },
    body: JSON.stringify(body),
  });
  expect(response.status).toBe(201);
}
const expose = (ruleId: string, outcomeId: string, visitor: string, at: string, base?: string) =>
  send("exposures", { ruleId, outcomeId }, visitor, at, base);
const convert = (ruleId: string, outcomeId: string, conversion: string, visitor: string, at: string, base?: string) =>
  send("conversions", { ruleId, outcomeId, conversion }, visitor, at, base);

function stats(variables: Record<string, unknown>, key = acme.apiKey) {
  return graphql(app, STATS, variables, { "x-api-key": key });
}

describe("outcomeConversionStats", () => {
  const rule = "article-22";
  beforeAll(async () => {
    // Outcome A: ten visitors exposed on 1 March.
    for (let index = 1; index <= 10; index++) await expose(rule, "A", `a${index}`, "2026-03-01T10:00:00Z");
    await expose(rule, "A", "a1", "2026-03-02T10:00:00Z"); // a repeat: changes nothing
    await convert(rule, "A", "REGISTERED", "a1", "2026-03-01T11:00:00Z");
    await convert(rule, "A", "REGISTERED", "a1", "2026-03-03T11:00:00Z"); // second event of a converter
    await convert(rule, "A", "REGISTERED", "a2", "2026-03-05T11:00:00Z"); // days later: still attributed
    await convert(rule, "A", "CUSTOMER", "a3", "2026-03-01T12:00:00Z");
    // Outcome B: eight visitors exposed on 2 March.
    for (let index = 1; index <= 8; index++) await expose(rule, "B", `b${index}`, "2026-03-02T09:00:00Z");
    // b1 converts on A and B at once (comma-separated): B is attributed, A is not (never exposed).
    await convert(rule, "A,B", "REGISTERED", "b1", "2026-03-02T10:00:00Z");
    await convert(rule, "B", "REGISTERED", "b2", "2026-03-02T10:00:00Z");
    await convert(rule, "B", "CUSTOMER", "b3", "2026-03-04T10:00:00Z");
    // A conversion before the exposure: unattributed, and the later exposure does not change that.
    await convert(rule, "B", "REGISTERED", "late", "2026-03-01T08:00:00Z");
    await expose(rule, "B", "late", "2026-03-02T09:30:00Z");
    // A visitor never exposed to B.
    await convert(rule, "B", "REGISTERED", "stranger", "2026-03-03T08:00:00Z");
    // Same rule id in another organisation: must never leak into acme's numbers.
    await expose(rule, "A", "g1", "2026-03-01T10:00:00Z", app.url.replace("127.0.0.1", "localhost"));
    await convert(rule, "A", "REGISTERED", "g1", "2026-03-01T10:30:00Z", app.url.replace("127.0.0.1", "localhost"));
  });

  it("counts exposures, converters, conversions and unattributed events by their definitions", async () => {
    const response = await stats({ ruleId: rule });
    expect(response.body.errors).toBeUndefined();
    const result = response.body.data.outcomeConversionStats;
    expect(result.totalExposures).toBe(19);
    const [a, b] = result.outcomes;
    expect(a).toMatchObject({
      outcomeId: "A",
      exposures: 10,
      converters: 3,
      conversions: 4,
      unattributedConversions: 1,
    });
    expect(b).toMatchObject({
      outcomeId: "B",
      exposures: 9,
      converters: 3,
      conversions: 3,
      unattributedConversions: 2,
    });
  });

  it("filters by conversion type", async () => {
    const registered = (await stats({ ruleId: rule, conversion: "REGISTERED" })).body.data.outcomeConversionStats;
    expect(registered.conversion).toBe("REGISTERED");
    expect(
      registered.outcomes.map((o: any) => [
        o.outcomeId,
        o.exposures,
        o.converters,
        o.conversions,
        o.unattributedConversions,
      ]),
    ).toEqual([
      ["A", 10, 2, 3, 1],
      ["B", 9, 2, 2, 2],
    ]);
    const customer = (await stats({ ruleId: rule, conversion: "CUSTOMER" })).body.data.outcomeConversionStats;
    expect(customer.outcomes.map((o: any) => [o.converters, o.conversions, o.unattributedConversions])).toEqual([
      [1, 1, 0],
      [1, 1, 0],
    ]);
    const unknown = (await stats({ ruleId: rule, conversion: "registered" })).body.data.outcomeConversionStats;
    expect(unknown.outcomes.map((o: any) => o.converters)).toEqual([0, 0]);
  });

  it("takes the cohort by first-exposure day, and unattributed events by their own day", async () => {
    const firstDay = (await stats({ ruleId: rule, from: "2026-03-01", to: "2026-03-01" })).body.data
      .outcomeConversionStats;
    expect(
      firstDay.outcomes.map((o: any) => [o.exposures, o.converters, o.conversions, o.unattributedConversions]),
    ).toEqual([
      [10, 3, 4, 0], // a2's conversion on 5 March still counts: the cohort is 1 March
      [0, 0, 0, 1], // "late" converted on 1 March before any exposure
    ]);
    const later = (await stats({ ruleId: rule, from: "2026-03-02" })).body.data.outcomeConversionStats;
    expect(later.outcomes.map((o: any) => [o.exposures, o.converters, o.unattributedConversions])).toEqual([
      [0, 0, 1], // b1's conversion on A, 2 March
      [9, 3, 1], // "stranger" on 3 March; "late" (1 March) is outside
    ]);
    expect(later.totalExposures).toBe(9);
  });

  it("derives the statistics from the counts (formulas checked against references in statistics.test.ts)", async () => {
    const result = (await stats({ ruleId: rule, confidenceLevel: 0.9 })).body.data.outcomeConversionStats;
    const [a, b] = result.outcomes;
    expect(a.conversionRate).toBeCloseTo(3 / 10, 15);
    expect(b.conversionRate).toBeCloseTo(3 / 9, 15);
    expect(a.confidenceInterval).toEqual(wilsonInterval(3, 10, 0.9));
    expect(b.confidenceInterval).toEqual(wilsonInterval(3, 9, 0.9));
    expect(result.baselineOutcomeId).toBe("A");
    expect(a.uplift).toBeNull();
    expect(a.pValue).toBeNull();
    expect(b.uplift).toBeCloseTo((3 / 9 - 3 / 10) / (3 / 10), 12);
    expect(b.pValue).toBe(twoProportionPValue({ successes: 3, trials: 9 }, { successes: 3, trials: 10 }));
    const best = probabilityToBeBest([
      { successes: 3, trials: 10 },
      { successes: 3, trials: 9 },
    ]);
    expect([a.probabilityToBeBest, b.probabilityToBeBest]).toEqual(best);
    expect(a.probabilityToBeBest + b.probabilityToBeBest).toBeCloseTo(1, 12);
    expect(result.sampleRatioMismatchPValue).toBe(equalSplitChiSquarePValue([10, 9]));

    // confidenceLevel: Float = 0.95 — omitted or null, the default applies.
    const defaulted = (await stats({ ruleId: rule, confidenceLevel: null })).body.data.outcomeConversionStats;
    expect(defaulted.outcomes[0].confidenceInterval).toEqual(wilsonInterval(3, 10, 0.95));

    const againstB = (await stats({ ruleId: rule, baselineOutcomeId: "B" })).body.data.outcomeConversionStats;
    expect(againstB.outcomes[1].uplift).toBeNull();
    expect(againstB.outcomes[0].uplift).toBeCloseTo((3 / 10 - 3 / 9) / (3 / 9), 12);
  });

  it("rejects bad filters as BAD_USER_INPUT with HTTP 400", async () => {
    for (const variables of [
      { from: "2026-3-1" },
      { from: "2026-02-30" },
      { to: "yesterday" },
      { from: "2026-03-05", to: "2026-03-01" },
      { confidenceLevel: 1 },
      { confidenceLevel: 0 },
      { baselineOutcomeId: "Z" },
    ]) {
      const response = await stats({ ruleId: rule, ...variables });
      expect(response.status).toBe(400);
      expect(response.body.errors[0].extensions.code).toBe("BAD_USER_INPUT");
    }
  });

  it("is for the rule's own organisation only", async () => {
    const other = (await stats({ ruleId: rule }, globex.apiKey)).body.data.outcomeConversionStats;
    expect(other.outcomes).toEqual([
      expect.objectContaining({
        outcomeId: "A",
        exposures: 1,
        converters: 1,
        conversions: 1,
        unattributedConversions: 0,
      }),
    ]);
    const stranger = await createTenant(app);
    const none = (await stats({ ruleId: rule }, stranger.apiKey)).body.data.outcomeConversionStats;
    expect(none).toMatchObject({ totalExposures: 0, outcomes: [], sampleRatioMismatchPValue: null });
    const anonymous = await graphql(app, STATS, { ruleId: rule });
    expect(anonymous.status).toBe(401);
    expect(anonymous.body.errors[0].extensions.code).toBe("UNAUTHENTICATED");
  });

  it("lists the organisation's rules with outcomes, exposures and last activity", async () => {
    await expose("another-rule", "x", "a1", "2026-03-09T00:00:00Z");
    const query = `query($first: Int, $after: String) { rules(first: $first, after: $after) { edges { cursor node { ruleId outcomeIds exposures lastActivityAt } } pageInfo { hasNextPage endCursor } } }`;
    const first = (await graphql(app, query, { first: 1 }, { "x-api-key": acme.apiKey })).body.data.rules;
    expect(first.edges.map((edge: any) => edge.node)).toEqual([
      { ruleId: "another-rule", outcomeIds: ["x"], exposures: 1, lastActivityAt: "2026-03-09T00:00:00.000Z" },
    ]);
    expect(first.pageInfo.hasNextPage).toBe(true);
    const second = (
      await graphql(app, query, { first: 5, after: first.pageInfo.endCursor }, { "x-api-key": acme.apiKey })
    ).body.data.rules;
    expect(second.edges.map((edge: any) => edge.node)).toEqual([
      { ruleId: "article-22", outcomeIds: ["A", "B"], exposures: 19, lastActivityAt: "2026-03-05T11:00:00.000Z" },
    ]);
    expect(second.pageInfo.hasNextPage).toBe(false);
    const theirs = (await graphql(app, query, {}, { "x-api-key": globex.apiKey })).body.data.rules;
    expect(theirs.edges.map((edge: any) => edge.node.ruleId)).toEqual(["article-22"]);
    expect(theirs.edges[0].node.exposures).toBe(1);
  });
});

describe("GET /api/v1/rules/:ruleId/outcome-stats.csv", () => {
  const rule = "csv-rule";
  beforeAll(async () => {
    // Outcome ids cannot hold commas (the list separator); quotes must survive the CSV quoting.
    for (const outcome of ["=cmd|' /C calc'!A0", "+plain", "-minus", "@at", 'normal "quoted"']) {
      await expose(rule, outcome, "v1", "2026-04-01T00:00:00Z");
    }
  });

  function download(query = "", key = acme.apiKey) {
    return fetch(`${app.url}/api/v1/rules/${encodeURIComponent(rule)}/outcome-stats.csv${query}`, {
      headers: key ? { "x-api-key": key } : {},
    });
  }

  it("is RFC 4180 CSV with a header and one row per outcome, matching the GraphQL numbers", async () => {
    await convert(rule, "+plain", "CUSTOMER", "v1", "2026-04-02T00:00:00Z");
    const response = await download("?conversion=CUSTOMER&from=2026-04-01&to=2026-04-30&confidenceLevel=0.99");
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("text/csv; charset=utf-8");
    expect(response.headers.get("content-disposition")).toMatch(
      /^attachment; filename="outcome-stats_csv-rule_CUSTOMER_2026-04-01_2026-04-30\.csv"/,
    );
    const text = await response.text();
    expect(text.endsWith("\r\n")).toBe(true);
    const records: Record<string, string>[] = parse(text, { columns: true });
    const graph = (
      await stats({ ruleId: rule, conversion: "CUSTOMER", from: "2026-04-01", to: "2026-04-30", confidenceLevel: 0.99 })
    ).body.data.outcomeConversionStats;
    expect(records).toHaveLength(graph.outcomes.length);
    records.forEach((record, index) => {
      const outcome = graph.outcomes[index];
      expect(Number(record.exposures)).toBe(outcome.exposures);
      expect(Number(record.converters)).toBe(outcome.converters);
      expect(record.conversionRate === "" ? null : Number(record.conversionRate)).toBe(outcome.conversionRate);
      expect(Number(record.confidenceIntervalUpper)).toBe(outcome.confidenceInterval.upper);
      expect(Number(record.probabilityToBeBest)).toBe(outcome.probabilityToBeBest);
      expect(record.pValue === "" ? null : Number(record.pValue)).toBe(outcome.pValue);
      expect(record.confidenceLevel).toBe("0.99");
      expect(record.conversion).toBe("CUSTOMER");
    });
  });

  it("neutralises cells a spreadsheet would run as formulas, and keeps negative numbers numeric", async () => {
    const records: Record<string, string>[] = parse(await (await download()).text(), { columns: true });
    const ids = records.map((record) => record.outcomeId);
    expect(ids).toEqual(["'+plain", "'-minus", "'=cmd|' /C calc'!A0", "'@at", 'normal "quoted"']);
    for (const record of records) {
      for (const [column, cell] of Object.entries(record)) {
        // Numbers we computed (a negative uplift) stay numbers; text cells never start a formula.
        if (Number.isNaN(Number(cell))) expect(cell, column).not.toMatch(/^[=+\-@\t\r]/);
      }
    }
  });

  it("answers 401 without a key, 400 for bad filters, and nothing of another organisation", async () => {
    expect((await download("", "")).status).toBe(401);
    const bad = await download("?from=2026-13-01");
    expect(bad.status).toBe(400);
    expect(await bad.json()).toEqual({ detail: expect.stringContaining("from") });
    const stranger = await createTenant(app);
    const theirs = parse(await (await download("", stranger.apiKey)).text(), { columns: true });
    expect(theirs).toEqual([]);
  });
});

describe("two instances on one database", () => {
  let second: RunningServer;
  beforeAll(async () => {
    second = await startSecondInstance(app, { DEFAULT_ORGANISATION_ID: acme.organisationId });
  });
  afterAll(() => second?.close());

  it("keep the counts exact when both record the same visitors at once", async () => {
    const rule = "concurrent-rule";
    const requests: Promise<Response>[] = [];
    for (let visitor = 0; visitor < 40; visitor++) {
      for (const base of [app.url, second.url, app.url]) {
        const headers = { "content-type": "application/json", cookie: `blaize_tracking_id=c${visitor}` };
        requests.push(
          fetch(`${base}/zephr/public/rule-outcomes/v1/exposures`, {
            method: "POST",
            headers,
            body: JSON.stringify({ ruleId: rule, outcomeId: visitor % 2 ? "A,B" : "A" }),
          }),
        );
        if (visitor % 3 === 0) {
          requests.push(
            fetch(`${base}/zephr/public/rule-outcomes/v1/conversions`, {
              method: "POST",
              headers,
              body: JSON.stringify({ ruleId: rule, outcomeId: "A,B", conversion: "CUSTOMER" }),
            }),
          );
        }
      }
    }
    const statuses = (await Promise.all(requests)).map((response) => response.status);
    expect(new Set(statuses)).toEqual(new Set([201]));

    // The counters must equal what the raw rows say, however the two instances interleaved.
    const db = app.server.dataSource;
    const truth = async (sql: string) => Number((await db.query(sql, [acme.organisationId, rule]))[0].n);
    const result = (await stats({ ruleId: rule, conversion: "CUSTOMER" })).body.data.outcomeConversionStats;
    const a = result.outcomes.find((o: any) => o.outcomeId === "A");
    expect(a.exposures).toBe(40);
    expect(result.totalExposures).toBe(60);
    expect(a.exposures).toBe(
      await truth(
        "SELECT COUNT(*) AS n FROM rule_exposures WHERE organisation_id = ? AND rule_id = ? AND outcome_id = 'A'",
      ),
    );
    expect(a.converters).toBe(
      await truth(
        "SELECT COUNT(DISTINCT tracking_id) AS n FROM rule_conversion_events WHERE organisation_id = ? AND rule_id = ? AND outcome_id = 'A' AND attributed = 1",
      ),
    );
    expect(a.conversions).toBe(
      await truth(
        "SELECT COUNT(*) AS n FROM rule_conversion_events WHERE organisation_id = ? AND rule_id = ? AND outcome_id = 'A' AND attributed = 1",
      ),
    );
    expect(a.conversions + a.unattributedConversions).toBe(14 * 3);
    // The odd visitors saw A and B: each is one crossover, however many instances recorded it.
    expect(result.crossoverVisitors).toBe(20);
    expect(result.crossoverVisitors).toBe(
      await truth(
        "SELECT COUNT(*) AS n FROM (SELECT tracking_id FROM rule_exposures WHERE organisation_id = ? AND rule_id = ? GROUP BY tracking_id HAVING COUNT(*) >= 2) t",
      ),
    );
  });
});
