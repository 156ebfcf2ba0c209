// The analytics of issue 11 end to end: a rule built through the public endpoints on chosen days
// (crossovers, repeats, conversions days after exposure), then every new figure of
// outcomeConversionStats, outcomeConversionSeries and the CSV compared with values computed here,
// independently: the counts from a ledger of the events sent, the figures from those counts by
// hand (closed forms) or with the statistics functions (themselves checked in statistics.test.ts).
import normalQuantile from "@stdlib/stats-base-dists-normal-quantile";
import { parse } from "csv-parse/sync";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { OUTCOME_SERIES_CSV_COLUMNS } from "../../src/rules/outcome-stats.csv";
import {
  type Arm,
  adjustPValues,
  katzUpliftInterval,
  newcombeDifferenceInterval,
  posteriorComparison,
  probabilityToBeBest,
  sequentialDifferenceInterval,
  sequentialPValue,
  twoProportionPValue,
  wilsonInterval,
} from "../../src/rules/statistics";
import { createTenant, graphql, http, startTestApp, type Tenant, type TestApp } from "../helpers/app";

let app: TestApp;
let acme: Tenant;
let now = new Date();
const RULE = "analytics-rule";
const TODAY = "2026-03-10";

type Ledger = { visitor: string; outcomeId: string; at: string; conversion?: string }[];
const ledger: Ledger = [];

beforeAll(async () => {
  const bootstrap = await startTestApp();
  acme = await createTenant(bootstrap);
  await bootstrap.server.close();
  app = await startTestApp({ DEFAULT_ORGANISATION_ID: acme.organisationId }, bootstrap.database, { clock: () => now });
});
afterAll(() => app?.stop());

let minute = 0;
/** Sends one event at `day` (UTC), a minute after the previous one of that day, and notes it in the ledger. */
async function send(visitor: string, outcomeId: string, day: string, conversion?: string) {
  minute++;
  const at = `${day}T10:${String(Math.floor(minute / 60) % 60).padStart(2, "0")}:${String(minute % 60).padStart(2, "0")}Z`;
  now = new Date(at);
  const response = await http(`${app.url}/zephr/public/rule-outcomes/v1/${conversion ? "conversions" : "exposures"}`, {
    method: "POST",
    headers: { "content-type": "application/json", cookie: `blaize_tracking_id=${visitor}` },
    body: JSON.stringify({ ruleId: RULE, outcomeId, conversion }),
  });
  expect(response.status).toBe(201);
  for (const id of outcomeId.split(",")) ledger.push({ visitor, outcomeId: id, at, conversion });
}

const day = (at: string) => at.slice(0, 10);

/** The counts by their definitions, read from the ledger: cohort first exposed in [from, asOf], conversions recorded through `through`. */
function countsFromLedger(outcomeId: string, from: string, asOf: string, through = "9999-12-31") {
  const first = new Map<string, string>();
  for (const event of ledger) {
    if (event.outcomeId !== outcomeId || event.conversion) continue;
    if (!first.has(event.visitor)) first.set(event.visitor, event.at);
  }
  const cohort = [...first].filter(([, at]) => day(at) >= from && day(at) <= asOf);
  let converters = 0;
  let conversions = 0;
  for (const [visitor, exposedAt] of cohort) {
    const attributed = ledger.filter(
      (event) =>
        event.conversion &&
        event.outcomeId === outcomeId &&
        event.visitor === visitor &&
        event.at >= exposedAt &&
        day(event.at) <= through,
    );
    if (attributed.length > 0) converters++;
    conversions += attributed.length;
  }
  return { exposures: cohort.length, converters, conversions };
}

const STATS = `query($ruleId: ID!, $from: String, $to: String, $confidenceLevel: Float, $sequentialTuning: Int,
    $pValueAdjustment: PValueAdjustment, $expectedWeights: [OutcomeWeightInput!], $srmThreshold: Float,
    $relativeMde: Float!, $power: Float, $baselineOutcomeId: String) {
  outcomeConversionStats(ruleId: $ruleId, from: $from, to: $to, confidenceLevel: $confidenceLevel, sequentialTuning: $sequentialTuning,
      pValueAdjustment: $pValueAdjustment, expectedWeights: $expectedWeights, srmThreshold: $srmThreshold, baselineOutcomeId: $baselineOutcomeId) {
    totalExposures sampleRatioMismatchPValue sampleRatioMismatch crossoverVisitors baselineOutcomeId
    outcomes { outcomeId exposures converters conversions conversionRate pValue probabilityToBeBest
      difference differenceInterval { lower upper } upliftInterval { lower upper } chanceToBeatBaseline expectedLoss
      sequentialDifferenceInterval { lower upper } sequentialPValue adjustedPValue adjustedSequentialPValue
      sampleSize(relativeMde: $relativeMde, power: $power) { exposuresPerOutcome daysRemaining } }
  }
}`;

const SERIES = `query($ruleId: ID!, $from: String, $to: String, $confidenceLevel: Float, $sequentialTuning: Int, $baselineOutcomeId: String) {
  outcomeConversionSeries(ruleId: $ruleId, from: $from, to: $to, confidenceLevel: $confidenceLevel, sequentialTuning: $sequentialTuning, baselineOutcomeId: $baselineOutcomeId) {
    ruleId from to confidenceLevel sequentialTuning baselineOutcomeId
    days { day outcomes { outcomeId exposures converters conversions conversionRate confidenceInterval { lower upper }
      uplift pValue sequentialPValue probabilityToBeBest } }
  }
}`;

async function query(text: string, variables: Record<string, unknown>) {
  return graphql(app, text, { ruleId: RULE, relativeMde: 0.5, ...variables }, { "x-api-key": acme.apiKey });
}
async function stats(variables: Record<string, unknown> = {}) {
  const response = await query(STATS, variables);
  expect(response.body.errors).toBeUndefined();
  return response.body.data.outcomeConversionStats;
}
async function series(variables: Record<string, unknown> = {}) {
  const response = await query(SERIES, variables);
  expect(response.body.errors).toBeUndefined();
  return response.body.data.outcomeConversionSeries;
}

const DAYS = ["2026-03-01", "2026-03-02", "2026-03-03", "2026-03-04"];

beforeAll(async () => {
  // A: 20 exposed on day 1, 10 on day 2; B: 15 and 15; C: 10 on day 2.
  for (let i = 1; i <= 20; i++) await send(`a${i}`, "A", DAYS[0]);
  for (let i = 1; i <= 15; i++) await send(`b${i}`, "B", DAYS[0]);
  // Crossovers: x1 and x2 see A and B on day 1 (one request); x3 sees A, B and C (counted once).
  await send("x1", "A,B", DAYS[0]);
  await send("x2", "A", DAYS[0]);
  await send("x2", "B", DAYS[0]);
  await send("x3", "A", DAYS[0]);
  await send("a1", "A", DAYS[1]); // a repeat: no exposure, no crossover
  for (let i = 21; i <= 30; i++) await send(`a${i}`, "A", DAYS[1]);
  for (let i = 16; i <= 30; i++) await send(`b${i}`, "B", DAYS[1]);
  for (let i = 1; i <= 10; i++) await send(`c${i}`, "C", DAYS[1]);
  await send("x3", "B,C", DAYS[1]);
  // Conversions, some days after the exposure; a3 twice; a stranger's is unattributed.
  await send("a1", "A", DAYS[0], "REGISTERED");
  await send("b1", "B", DAYS[0], "REGISTERED");
  await send("b2", "B", DAYS[0], "REGISTERED");
  await send("x1", "A,B", DAYS[0], "REGISTERED");
  await send("a2", "A", DAYS[1], "REGISTERED");
  await send("a21", "A", DAYS[1], "REGISTERED");
  await send("b3", "B", DAYS[1], "REGISTERED");
  await send("b16", "B", DAYS[1], "REGISTERED");
  await send("b17", "B", DAYS[1], "REGISTERED");
  await send("a3", "A", DAYS[2], "REGISTERED");
  await send("b4", "B", DAYS[2], "REGISTERED");
  await send("b18", "B", DAYS[2], "REGISTERED");
  await send("c1", "C", DAYS[2], "REGISTERED");
  await send("stranger", "C", DAYS[2], "REGISTERED");
  await send("a3", "A", DAYS[3], "REGISTERED");
  await send("a22", "A", DAYS[3], "REGISTERED");
  await send("b19", "B", DAYS[3], "REGISTERED");
  await send("b20", "B", DAYS[3], "REGISTERED");
  await send("b5", "B", DAYS[3], "REGISTERED");
  now = new Date(`${TODAY}T12:00:00Z`);
});

const arm = (counts: { exposures: number; converters: number }): Arm => ({
  successes: counts.converters,
  trials: counts.exposures,
});

describe("outcomeConversionStats: the new figures", () => {
  it("counts crossovers exactly: visitors exposed to two or more outcomes, all time", async () => {
    const result = await stats();
    expect(result.crossoverVisitors).toBe(3);
    // All time, whatever the window.
    expect((await stats({ from: DAYS[3] })).crossoverVisitors).toBe(3);
  });

  it("gives every figure as computed from the counts", async () => {
    const result = await stats({ confidenceLevel: 0.9, sequentialTuning: 2000, pValueAdjustment: "HOLM" });
    const counts = ["A", "B", "C"].map((id) => countsFromLedger(id, "0000-01-01", "9999-12-31"));
    expect(counts.map((c) => c.exposures)).toEqual([33, 33, 11]);
    expect(result.outcomes.map((o: any) => [o.exposures, o.converters, o.conversions])).toEqual(
      counts.map((c) => [c.exposures, c.converters, c.conversions]),
    );
    const arms = counts.map(arm);
    const [a, b, c] = result.outcomes;
    const rates = counts.map((count) => count.converters / count.exposures);
    const z = normalQuantile(0.95, 0, 1);

    // The baseline gets none of the comparisons.
    for (const field of [
      "difference",
      "differenceInterval",
      "upliftInterval",
      "chanceToBeatBaseline",
      "expectedLoss",
      "sequentialDifferenceInterval",
      "sequentialPValue",
      "adjustedPValue",
      "adjustedSequentialPValue",
      "sampleSize",
    ]) {
      expect(a[field], field).toBeNull();
    }

    for (const [index, outcome] of [
      [1, b],
      [2, c],
    ] as const) {
      const pk = rates[index];
      const pb = rates[0];
      const d = pk - pb;
      expect(outcome.difference).toBeCloseTo(d, 14);
      // Newcombe by hand from the two Wilson intervals.
      const wb = wilsonInterval(arms[0].successes, arms[0].trials, 0.9) as { lower: number; upper: number };
      const wk = wilsonInterval(arms[index].successes, arms[index].trials, 0.9) as { lower: number; upper: number };
      expect(outcome.differenceInterval.lower).toBeCloseTo(
        d - Math.sqrt((pk - wk.lower) ** 2 + (wb.upper - pb) ** 2),
        12,
      );
      expect(outcome.differenceInterval.upper).toBeCloseTo(
        d + Math.sqrt((wk.upper - pk) ** 2 + (pb - wb.lower) ** 2),
        12,
      );
      expect(outcome.differenceInterval).toEqual(newcombeDifferenceInterval(arms[0], arms[index], 0.9));
      // Katz by hand.
      const [ck, nk, cb, nb] = [arms[index].successes, arms[index].trials, arms[0].successes, arms[0].trials];
      const s = Math.sqrt(1 / ck - 1 / nk + 1 / cb - 1 / nb);
      expect(outcome.upliftInterval.lower).toBeCloseTo((pk / pb) * Math.exp(-z * s) - 1, 12);
      expect(outcome.upliftInterval.upper).toBeCloseTo((pk / pb) * Math.exp(z * s) - 1, 12);
      expect(outcome.upliftInterval).toEqual(katzUpliftInterval(arms[0], arms[index], 0.9));
      // The confidence sequence by hand (α = 0.1, N* = 2000).
      const alpha = 0.1;
      const v = (pb * (1 - pb)) / nb + (pk * (1 - pk)) / nk;
      const nRho2 = ((nb + nk) * (-2 * Math.log(alpha) + Math.log(1 - 2 * Math.log(alpha)))) / 2000;
      const h = Math.sqrt(((v * 2 * (nRho2 + 1)) / nRho2) * Math.log(Math.sqrt(nRho2 + 1) / alpha));
      expect(outcome.sequentialDifferenceInterval.lower).toBeCloseTo(d - h, 12);
      expect(outcome.sequentialDifferenceInterval.upper).toBeCloseTo(d + h, 12);
      expect(outcome.sequentialDifferenceInterval).toEqual(
        sequentialDifferenceInterval(arms[0], arms[index], 0.9, 2000),
      );
      const p = Math.min(1, Math.sqrt(nRho2 + 1) * Math.exp((-d * d * nRho2) / (2 * v * (nRho2 + 1))));
      expect(outcome.sequentialPValue).toBeCloseTo(p, 12);
      expect(outcome.sequentialPValue).toBe(sequentialPValue(arms[0], arms[index], 0.9, 2000));
    }
    // Posterior figures: the one-pass quadrature, checked against references in statistics.test.ts.
    const posterior = posteriorComparison(arms, 0);
    expect([b.chanceToBeatBaseline, c.chanceToBeatBaseline]).toEqual(posterior.chanceToBeatBaseline.slice(1));
    expect([b.expectedLoss, c.expectedLoss]).toEqual(posterior.expectedLoss.slice(1));
    expect(result.outcomes.map((o: any) => o.probabilityToBeBest)).toEqual(probabilityToBeBest(arms));

    // Holm over the two p-values, by hand: the smaller doubled, the larger at least that.
    const pValues = [b.pValue, c.pValue];
    expect(pValues).toEqual([1, 2].map((i) => twoProportionPValue(arms[i], arms[0])));
    const [low, high] = [...pValues].sort((x, y) => x - y);
    const holm = new Map([
      [low, Math.min(1, 2 * low)],
      [high, Math.max(Math.min(1, 2 * low), Math.min(1, high))],
    ]);
    expect(b.adjustedPValue).toBeCloseTo(holm.get(b.pValue) as number, 14);
    expect(c.adjustedPValue).toBeCloseTo(holm.get(c.pValue) as number, 14);
    expect([b.adjustedSequentialPValue, c.adjustedSequentialPValue]).toEqual(
      adjustPValues([b.sequentialPValue, c.sequentialPValue], "HOLM"),
    );
    const bh = (await stats({ pValueAdjustment: "BENJAMINI_HOCHBERG" })).outcomes;
    const raw = [bh[1].pValue, bh[2].pValue];
    const [lo, hi] = [...raw].sort((x, y) => x - y);
    const bhOf = (value: number) => (value === hi ? Math.min(1, hi) : Math.min(Math.min(1, 2 * lo), Math.min(1, hi)));
    expect(bh[1].adjustedPValue).toBeCloseTo(bhOf(raw[0]), 14);
    expect(bh[2].adjustedPValue).toBeCloseTo(bhOf(raw[1]), 14);
    const none = (await stats({})).outcomes;
    expect(none.map((o: any) => o.adjustedPValue)).toEqual(none.map((o: any) => o.pValue));
  });

  it("tests the split against the expected weights (chi-square with df = 2 is exp(−χ²/2))", async () => {
    const chi = (observed: number[], weights: number[]) => {
      const total = observed.reduce((x, y) => x + y, 0);
      const sum = weights.reduce((x, y) => x + y, 0);
      return observed.reduce(
        (acc, o, i) => acc + (o - (total * weights[i]) / sum) ** 2 / ((total * weights[i]) / sum),
        0,
      );
    };
    const observed = [33, 33, 11];
    const equal = await stats();
    expect(equal.sampleRatioMismatchPValue).toBeCloseTo(Math.exp(-chi(observed, [1, 1, 1]) / 2), 14);
    expect(equal.sampleRatioMismatchPValue).toBeGreaterThan(0.001);
    expect(equal.sampleRatioMismatch).toBe(false); // srmThreshold = 0.001
    expect((await stats({ srmThreshold: 0.01 })).sampleRatioMismatch).toBe(true);
    const weights = [
      { outcomeId: "C", weight: 1 },
      { outcomeId: "A", weight: 3 },
      { outcomeId: "B", weight: 3 },
    ];
    const configured = await stats({ expectedWeights: weights });
    expect(configured.sampleRatioMismatchPValue).toBeCloseTo(Math.exp(-chi(observed, [3, 3, 1]) / 2), 14);
    expect(configured.sampleRatioMismatchPValue).toBe(1);
    expect(configured.sampleRatioMismatch).toBe(false);
    const skewedWeights = weights.map((w) => ({ ...w, weight: w.outcomeId === "C" ? 2 : 3 }));
    const skewed = await stats({ expectedWeights: skewedWeights });
    const p = Math.exp(-chi(observed, [3, 3, 2]) / 2);
    expect(skewed.sampleRatioMismatchPValue).toBeCloseTo(p, 14);
    expect((await stats({ expectedWeights: skewedWeights, srmThreshold: p * 1.01 })).sampleRatioMismatch).toBe(true);
    expect((await stats({ srmThreshold: 0.5, expectedWeights: weights })).sampleRatioMismatch).toBe(false);
  });

  it("sizes the test from the baseline rate, and the days left from each outcome's pace", async () => {
    const result = await stats({ relativeMde: 0.5, power: 0.9 });
    const counts = ["A", "B", "C"].map((id) => countsFromLedger(id, "0000-01-01", "9999-12-31"));
    const p1 = counts[0].converters / counts[0].exposures;
    const p2 = p1 * 1.5;
    const mean = (p1 + p2) / 2;
    const z = normalQuantile(0.975, 0, 1);
    const zBeta = normalQuantile(0.9, 0, 1);
    const n = Math.ceil(
      (z * Math.sqrt(2 * mean * (1 - mean)) + zBeta * Math.sqrt(p1 * (1 - p1) + p2 * (1 - p2))) ** 2 / (p2 - p1) ** 2,
    );
    // First exposures: A and B on 1 March, C on 2 March; today is 10 March (10 and 9 days, both ends counted).
    const running = [10, 10, 9];
    const days = Math.ceil(
      Math.max(...counts.map((count, i) => Math.max(0, n - count.exposures) / (count.exposures / running[i]))),
    );
    for (const outcome of result.outcomes.slice(1)) {
      expect(outcome.sampleSize).toEqual({ exposuresPerOutcome: n, daysRemaining: days });
    }
    // power defaults to 0.8; a rate that cannot grow by the MDE (p₂ ≥ 1) has no size.
    const defaulted = (await stats({ relativeMde: 0.5 })).outcomes[1].sampleSize.exposuresPerOutcome;
    expect(defaulted).toBeLessThan(n);
    expect((await stats({ relativeMde: 1 / p1 })).outcomes[1].sampleSize).toEqual({
      exposuresPerOutcome: null,
      daysRemaining: null,
    });
    // A tiny MDE needs more than a GraphQL Int holds: null, never an error or a wrong number.
    expect((await stats({ relativeMde: 1e-6 })).outcomes[1].sampleSize.exposuresPerOutcome).toBeNull();
  });

  it("refuses bad arguments as BAD_USER_INPUT with HTTP 400", async () => {
    const weights = (overrides: { outcomeId: string; weight: number }[]) => ({ expectedWeights: overrides });
    for (const variables of [
      { sequentialTuning: 0 },
      { sequentialTuning: 1_000_000_001 },
      { pValueAdjustment: "BONFERRONI" },
      { srmThreshold: 0 },
      { srmThreshold: 1 },
      weights([
        { outcomeId: "A", weight: 1 },
        { outcomeId: "B", weight: 1 },
      ]),
      weights([
        { outcomeId: "A", weight: 1 },
        { outcomeId: "B", weight: 1 },
        { outcomeId: "C", weight: 0 },
      ]),
      weights([
        { outcomeId: "A", weight: 1 },
        { outcomeId: "B", weight: 1 },
        { outcomeId: "C", weight: -1 },
      ]),
      weights([
        { outcomeId: "A", weight: 1 },
        { outcomeId: "B", weight: 1 },
        { outcomeId: "C", weight: 1 },
        { outcomeId: "Z", weight: 1 },
      ]),
      weights([
        { outcomeId: "A", weight: 1 },
        { outcomeId: "A", weight: 1 },
        { outcomeId: "B", weight: 1 },
        { outcomeId: "C", weight: 1 },
      ]),
      { relativeMde: 0 },
      { relativeMde: -0.1 },
      { power: 0 },
      { power: 1 },
    ]) {
      const response = await query(STATS, variables);
      expect(response.status, JSON.stringify(variables)).toBe(400);
      expect(response.body.errors[0].extensions.code, JSON.stringify(variables)).toBe("BAD_USER_INPUT");
    }
    expect((await stats({ sequentialTuning: 1_000_000_000 })).outcomes).toHaveLength(3);
    expect((await stats({ sequentialTuning: 1 })).outcomes).toHaveLength(3);
  });
});

describe("outcomeConversionSeries", () => {
  it("gives each day's figures as they stood at its end", async () => {
    const result = await series({ to: DAYS[3], confidenceLevel: 0.9, sequentialTuning: 1000 });
    expect(result).toMatchObject({ from: DAYS[0], to: DAYS[3], baselineOutcomeId: "A", sequentialTuning: 1000 });
    expect(result.days.map((d: any) => d.day)).toEqual(DAYS);
    for (const { day: asOf, outcomes } of result.days) {
      const counts = ["A", "B", "C"].map((id) => countsFromLedger(id, DAYS[0], asOf, asOf));
      expect(
        outcomes.map((o: any) => [o.outcomeId, o.exposures, o.converters, o.conversions]),
        asOf,
      ).toEqual(counts.map((c, i) => [["A", "B", "C"][i], c.exposures, c.converters, c.conversions]));
      const arms = counts.map(arm);
      const best = probabilityToBeBest(arms);
      outcomes.forEach((outcome: any, i: number) => {
        expect(outcome.conversionRate).toBe(arms[i].trials > 0 ? arms[i].successes / arms[i].trials : null);
        expect(outcome.confidenceInterval).toEqual(wilsonInterval(arms[i].successes, arms[i].trials, 0.9));
        expect(outcome.probabilityToBeBest).toBe(best[i]);
        if (i === 0) {
          expect([outcome.uplift, outcome.pValue, outcome.sequentialPValue]).toEqual([null, null, null]);
          return;
        }
        const rate = arms[i].trials > 0 ? arms[i].successes / arms[i].trials : null;
        const baseRate = arms[0].successes / arms[0].trials;
        expect(outcome.uplift).toEqual(rate === null ? null : (rate - baseRate) / baseRate);
        expect(outcome.pValue).toEqual(twoProportionPValue(arms[i], arms[0]));
        expect(outcome.sequentialPValue).toEqual(sequentialPValue(arms[0], arms[i], 0.9, 1000));
      });
    }
    // Day 1: C had no exposure yet.
    expect(result.days[0].outcomes[2]).toMatchObject({ exposures: 0, conversionRate: null, pValue: null });
  });

  it("ends with the stats of the same window when no conversion of the cohort came after `to`", async () => {
    const last = (await series({ to: DAYS[3] })).days.at(-1).outcomes;
    const all = (await stats({ from: DAYS[0], to: DAYS[3] })).outcomes;
    for (const [index, outcome] of last.entries()) {
      const stat = all[index];
      for (const field of ["outcomeId", "exposures", "converters", "conversions", "conversionRate", "pValue"]) {
        expect(outcome[field], field).toEqual(stat[field]);
      }
      expect(outcome.sequentialPValue).toEqual(stat.sequentialPValue);
      expect(outcome.probabilityToBeBest).toEqual(stat.probabilityToBeBest);
    }
    // With `to` on day 3, day 4's conversions of the cohort are not in the series, but are in the stats.
    const early = (await series({ to: DAYS[2] })).days.at(-1).outcomes;
    const window = (await stats({ from: DAYS[0], to: DAYS[2] })).outcomes;
    expect(early.map((o: any) => o.exposures)).toEqual(window.map((o: any) => o.exposures));
    expect(early.map((o: any) => o.converters)).toEqual(
      ["A", "B", "C"].map((id) => countsFromLedger(id, DAYS[0], DAYS[2], DAYS[2]).converters),
    );
    expect(early[1].converters).toBeLessThan(window[1].converters);
  });

  it("answers alike without probabilityToBeBest, selected or not through a fragment (its passes left out)", async () => {
    const full = await series({ to: DAYS[3] });
    const figures =
      "outcomeId exposures converters conversions conversionRate confidenceInterval { lower upper } uplift pValue sequentialPValue";
    const documents = [
      `query($ruleId: ID!, $to: String) { outcomeConversionSeries(ruleId: $ruleId, to: $to) { days { day outcomes { ${figures} } } } }`,
      `query($ruleId: ID!, $to: String) { outcomeConversionSeries(ruleId: $ruleId, to: $to) { days { day outcomes { ...Figures } } } }
       fragment Figures on OutcomeDayStats { ${figures} }`,
    ];
    for (const document of documents) {
      const response = await query(document, { to: DAYS[3] });
      expect(response.body.errors).toBeUndefined();
      expect(response.body.data.outcomeConversionSeries.days).toEqual(
        full.days.map((day: any) => ({
          day: day.day,
          outcomes: day.outcomes.map(({ probabilityToBeBest, ...rest }: any) => rest),
        })),
      );
    }
    const best = await query(
      `query($ruleId: ID!, $to: String) { outcomeConversionSeries(ruleId: $ruleId, to: $to) { days { outcomes { ...Best } } } }
       fragment Best on OutcomeDayStats { best: probabilityToBeBest }`,
      { to: DAYS[3] },
    );
    expect(best.body.data.outcomeConversionSeries.days.map((day: any) => day.outcomes.map((o: any) => o.best))).toEqual(
      full.days.map((day: any) => day.outcomes.map((o: any) => o.probabilityToBeBest)),
    );
  });

  it("starts the cohort at `from` and defaults `to` to today", async () => {
    const result = await series({ from: DAYS[1] });
    expect(result.to).toBe(TODAY);
    expect(result.days).toHaveLength(9);
    const last = result.days.at(-1).outcomes;
    expect(last.map((o: any) => [o.exposures, o.converters, o.conversions])).toEqual(
      ["A", "B", "C"].map((id) => {
        const c = countsFromLedger(id, DAYS[1], TODAY, TODAY);
        return [c.exposures, c.converters, c.conversions];
      }),
    );
    // A rule without exposures has no days; another organisation sees nothing.
    expect((await series({ ruleId: "no-such-rule" })).days).toEqual([]);
    const stranger = await createTenant(app);
    const theirs = await graphql(app, SERIES, { ruleId: RULE }, { "x-api-key": stranger.apiKey });
    expect(theirs.body.data.outcomeConversionSeries.days).toEqual([]);
  });

  it("covers at most 366 days, and refuses bad arguments as BAD_USER_INPUT", async () => {
    expect((await series({ from: "2025-03-10", to: "2026-03-10" })).days).toHaveLength(366);
    for (const variables of [
      { from: "2025-03-09", to: "2026-03-10" }, // 367 days
      { to: "2027-03-02" }, // from the first exposure (1 March 2026): 367 days
      { from: "2026-03-05", to: "2026-03-01" },
      { from: "2026-03-11" }, // after today
      { from: "2026-02-30" },
      { baselineOutcomeId: "Z" },
      { sequentialTuning: 0 },
      { confidenceLevel: 1 },
    ]) {
      const response = await query(SERIES, variables);
      expect(response.status, JSON.stringify(variables)).toBe(400);
      expect(response.body.errors[0].extensions.code, JSON.stringify(variables)).toBe("BAD_USER_INPUT");
    }
    expect((await series({ to: "2027-02-28" })).days).toHaveLength(365);
  });
});

describe("the CSV", () => {
  const download = (search: string) =>
    http(`${app.url}/api/v1/rules/${RULE}/outcome-stats.csv?${search}`, { headers: { "x-api-key": acme.apiKey } });

  it("with interval=day has one row per (day, outcome), the day before the outcome's columns", async () => {
    const response = await download(`interval=day&to=${DAYS[3]}&confidenceLevel=0.9&sequentialTuning=1000`);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-disposition")).toMatch(/filename="outcome-series_analytics-rule_/);
    const rows: string[][] = parse(response.text);
    expect(rows[0]).toEqual([...OUTCOME_SERIES_CSV_COLUMNS]);
    expect(rows[0].indexOf("day")).toBeLessThan(rows[0].indexOf("outcomeId"));
    const records: Record<string, string>[] = parse(response.text, { columns: true });
    const graph = await series({ to: DAYS[3], confidenceLevel: 0.9, sequentialTuning: 1000 });
    const expected = graph.days.flatMap((d: any) => d.outcomes.map((o: any) => ({ day: d.day, ...o })));
    expect(records).toHaveLength(expected.length);
    const number = (cell: string) => (cell === "" ? null : Number(cell));
    records.forEach((record, index) => {
      const outcome = expected[index];
      expect(record.day).toBe(outcome.day);
      expect(record.outcomeId).toBe(outcome.outcomeId);
      expect(record.sequentialTuning).toBe("1000");
      for (const field of [
        "exposures",
        "converters",
        "conversions",
        "conversionRate",
        "uplift",
        "pValue",
        "sequentialPValue",
        "probabilityToBeBest",
      ]) {
        expect(number(record[field]), `${record.day} ${field}`).toBe(outcome[field]);
      }
      expect(number(record.confidenceIntervalLower)).toBe(outcome.confidenceInterval?.lower ?? null);
    });
  });

  it("with the default interval=all carries the new columns", async () => {
    const response = await download(
      "pValueAdjustment=HOLM&expectedWeights=A:3,B:3,C:1&relativeMde=0.5&power=0.9&sequentialTuning=2000",
    );
    expect(response.status).toBe(200);
    const records: Record<string, string>[] = parse(response.text, { columns: true });
    const graph = await stats({
      pValueAdjustment: "HOLM",
      expectedWeights: [
        { outcomeId: "A", weight: 3 },
        { outcomeId: "B", weight: 3 },
        { outcomeId: "C", weight: 1 },
      ],
      relativeMde: 0.5,
      power: 0.9,
      sequentialTuning: 2000,
    });
    const number = (cell: string) => (cell === "" ? null : Number(cell));
    records.forEach((record, index) => {
      const outcome = graph.outcomes[index];
      expect(record.sampleRatioMismatch).toBe("false");
      expect(Number(record.sampleRatioMismatchPValue)).toBe(graph.sampleRatioMismatchPValue);
      expect(Number(record.crossoverVisitors)).toBe(3);
      for (const field of [
        "difference",
        "chanceToBeatBaseline",
        "expectedLoss",
        "sequentialPValue",
        "adjustedPValue",
        "adjustedSequentialPValue",
      ]) {
        expect(number(record[field]), field).toBe(outcome[field]);
      }
      for (const interval of ["differenceInterval", "upliftInterval", "sequentialDifferenceInterval"]) {
        expect(number(record[`${interval}Lower`]), interval).toBe(outcome[interval]?.lower ?? null);
        expect(number(record[`${interval}Upper`]), interval).toBe(outcome[interval]?.upper ?? null);
      }
      expect(number(record.sampleSizeExposuresPerOutcome)).toBe(outcome.sampleSize?.exposuresPerOutcome ?? null);
      expect(number(record.sampleSizeDaysRemaining)).toBe(outcome.sampleSize?.daysRemaining ?? null);
    });
    // Without relativeMde the sample-size cells are empty.
    const plain: Record<string, string>[] = parse((await download("")).text, { columns: true });
    expect(plain.map((record) => record.sampleSizeExposuresPerOutcome)).toEqual(["", "", ""]);
  });

  it("answers 400 {detail} for bad parameters", async () => {
    for (const search of [
      "interval=week",
      "sequentialTuning=0",
      "sequentialTuning=1.5",
      "pValueAdjustment=holm",
      "expectedWeights=A:1,B:1",
      "expectedWeights=A:1,B:1,C:x",
      "srmThreshold=1",
      "relativeMde=0",
      "relativeMde=0.1&power=1",
      "interval=day&from=2025-01-01&to=2026-03-01",
    ]) {
      const response = await download(search);
      expect(response.status, search).toBe(400);
      expect(response.body, search).toEqual({ detail: expect.any(String) });
    }
  });
});
