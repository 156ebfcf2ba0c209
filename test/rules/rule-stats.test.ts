// The assembly of a rule's figures from its outcomes' counts (pure): which outcome is the
// baseline, which figures each outcome gets, and what is left undefined.
import { describe, expect, it } from "vitest";
import { InvalidInput } from "../../src/errors";
import type { RuleStatsFilter } from "../../src/rules/rule.input";
import { computeRuleStats, type OutcomeCounts } from "../../src/rules/rule-stats";
import { probabilityToBeBest, twoProportionPValue, wilsonInterval } from "../../src/rules/statistics";

const filter = (overrides: Partial<RuleStatsFilter> = {}): RuleStatsFilter => ({
  ruleId: "rule",
  conversion: null,
  from: null,
  to: null,
  baselineOutcomeId: null,
  confidenceLevel: 0.95,
  sequentialTuning: 5000,
  pValueAdjustment: "NONE",
  expectedWeights: null,
  srmThreshold: 0.001,
  ...overrides,
});

const counts = (outcomeId: string, exposures: number, converters: number): OutcomeCounts => ({
  outcomeId,
  exposures,
  converters,
  conversions: converters * 2,
  unattributedConversions: 1,
});

const rows = [counts("A", 1000, 50), counts("B", 1000, 80), counts("C", 0, 0)];

describe("computeRuleStats", () => {
  it("compares every outcome with the first when no baseline is named", () => {
    const stats = computeRuleStats(filter(), rows);
    expect(stats.baselineOutcomeId).toBe("A");
    expect(stats.totalExposures).toBe(2000);
    const [a, b, c] = stats.outcomes;
    expect(a).toMatchObject({
      outcomeId: "A",
      conversions: 100,
      unattributedConversions: 1,
      uplift: null,
      pValue: null,
    });
    expect(b.conversionRate).toBeCloseTo(0.08, 15);
    expect(b.uplift).toBeCloseTo(0.6, 12);
    expect(b.pValue).toBe(twoProportionPValue({ successes: 80, trials: 1000 }, { successes: 50, trials: 1000 }));
    expect(b.confidenceInterval).toEqual(wilsonInterval(80, 1000, 0.95));
    expect(c).toMatchObject({ conversionRate: null, confidenceInterval: null, uplift: null, pValue: null });
    const best = probabilityToBeBest(rows.map((row) => ({ successes: row.converters, trials: row.exposures })));
    expect(stats.outcomes.map((outcome) => outcome.probabilityToBeBest)).toEqual(best);
  });

  it("uses the named baseline and its confidence level", () => {
    const stats = computeRuleStats(filter({ baselineOutcomeId: "B", confidenceLevel: 0.9 }), rows);
    expect(stats.baselineOutcomeId).toBe("B");
    expect(stats.outcomes[0].uplift).toBeCloseTo(-0.375, 12);
    expect(stats.outcomes[1].uplift).toBeNull();
    expect(stats.outcomes[0].confidenceInterval).toEqual(wilsonInterval(50, 1000, 0.9));
  });

  it("refuses a baseline that is no outcome of the rule", () => {
    expect(() => computeRuleStats(filter({ baselineOutcomeId: "Z" }), rows)).toThrow(InvalidInput);
  });

  it("answers an empty comparison for a rule without outcomes", () => {
    const stats = computeRuleStats(filter({ baselineOutcomeId: "Z" }), []);
    expect(stats).toMatchObject({
      baselineOutcomeId: null,
      totalExposures: 0,
      sampleRatioMismatchPValue: null,
      outcomes: [],
    });
  });
});
