// The guard of the figures' assembly: whatever the formulas give at their numerical edges, no
// figure is NaN or Infinity. The formulas are replaced by ones that give only such values.
import { describe, expect, it, vi } from "vitest";
import { computeRuleStats, type OutcomeCounts, sampleSizeFor } from "../../src/rules/rule-stats";

vi.mock("../../src/rules/statistics", () => {
  const nanInterval = () => ({ lower: Number.NaN, upper: Number.POSITIVE_INFINITY });
  return {
    wilsonInterval: nanInterval,
    newcombeDifferenceInterval: nanInterval,
    katzUpliftInterval: nanInterval,
    sequentialDifferenceInterval: nanInterval,
    twoProportionPValue: () => Number.NaN,
    sequentialPValue: () => Number.POSITIVE_INFINITY,
    relativeUplift: () => Number.NEGATIVE_INFINITY,
    chiSquarePValue: () => Number.NaN,
    adjustPValues: (values: unknown[]) => values.map(() => Number.NaN),
    sampleSizePerOutcome: () => Number.POSITIVE_INFINITY,
    daysRemaining: () => Number.POSITIVE_INFINITY,
    posteriorComparison: (arms: unknown[]) => ({
      probabilityToBeBest: arms.map((_, index) => (index === 0 ? Number.NaN : 0.5)),
      chanceToBeatBaseline: arms.map(() => Number.NaN),
      expectedLoss: arms.map(() => Number.POSITIVE_INFINITY),
      totalBeforeNormalising: Number.NaN,
    }),
  };
});

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
      {
        ruleId: "r",
        conversion: null,
        from: null,
        to: null,
        baselineOutcomeId: null,
        confidenceLevel: 0.95,
        sequentialTuning: 5000,
        pValueAdjustment: "HOLM",
        expectedWeights: null,
        srmThreshold: 0.001,
      },
      [counts("A", 10, 2), counts("B", 10, 3), counts("C", 10, 4)],
    );
    expect(stats.sampleRatioMismatchPValue).toBeNull();
    expect(stats.sampleRatioMismatch).toBeNull();
    for (const outcome of stats.outcomes) {
      expect(outcome).toMatchObject({
        confidenceInterval: null,
        uplift: null,
        pValue: null,
        difference: { A: null, B: 0.3 - 0.2, C: 0.4 - 0.2 }[outcome.outcomeId],
        differenceInterval: null,
        upliftInterval: null,
        chanceToBeatBaseline: null,
        expectedLoss: null,
        sequentialDifferenceInterval: null,
        sequentialPValue: null,
        adjustedPValue: null,
        adjustedSequentialPValue: null,
      });
      expect(outcome.probabilityToBeBest).toBe(1 / 3);
      if (outcome.sampleSizePlan) {
        expect(sampleSizeFor(outcome.sampleSizePlan, { relativeMde: 0.1, power: 0.8 })).toEqual({
          exposuresPerOutcome: null,
          daysRemaining: null,
        });
      }
    }
    expect(stats.outcomes.map((outcome) => outcome.conversionRate)).toEqual([0.2, 0.3, 0.4]);
  });
});
