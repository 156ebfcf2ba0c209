// The guard of the figures' assembly: whatever the formulas give at their numerical edges, no
// figure is NaN or Infinity. The formulas are replaced by ones that give only such values.
import { describe, expect, it, vi } from "vitest";
import { computeRuleStats, type OutcomeCounts } from "../../src/rules/rule-stats";

vi.mock("../../src/rules/statistics", () => ({
  wilsonInterval: () => ({ lower: Number.NaN, upper: Number.POSITIVE_INFINITY }),
  twoProportionPValue: () => Number.NaN,
  relativeUplift: () => Number.NEGATIVE_INFINITY,
  equalSplitChiSquarePValue: () => Number.NaN,
  probabilityToBeBest: (arms: unknown[]) => arms.map((_, index) => (index === 0 ? Number.NaN : 0.5)),
}));

const counts = (outcomeId: string, exposures: number, converters: number): OutcomeCounts => ({
  outcomeId,
  exposures,
  converters,
  conversions: converters,
  unattributedConversions: 0,
});

describe("computeRuleStats with formulas that give non-finite numbers", () => {
  it("turns every nullable figure into null and shares the probability to be best equally", () => {
    const stats = computeRuleStats(
      { ruleId: "r", conversion: null, from: null, to: null, baselineOutcomeId: null, confidenceLevel: 0.95 },
      [counts("A", 10, 2), counts("B", 10, 3), counts("C", 10, 4)],
    );
    expect(stats.sampleRatioMismatchPValue).toBeNull();
    for (const outcome of stats.outcomes) {
      expect(outcome).toMatchObject({ confidenceInterval: null, uplift: null, pValue: null });
      expect(outcome.probabilityToBeBest).toBe(1 / 3);
    }
    expect(stats.outcomes.map((outcome) => outcome.conversionRate)).toEqual([0.2, 0.3, 0.4]);
  });
});
