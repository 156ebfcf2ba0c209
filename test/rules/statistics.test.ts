// The statistics against reference values computed independently, in Python:
// - Wilson bounds and the pooled z-test with mpmath at 30 digits (quantile z = √2·erfinv(level));
// - chi-square p-values with scipy.stats.chisquare;
// - probability to be best with scipy.integrate.quad over scipy.stats.beta pdf × cdfs (epsrel 1e-12),
//   and with mpmath.quad at 30 digits for the two-arm case.
import { describe, expect, it } from "vitest";
import {
  equalSplitChiSquarePValue,
  probabilityToBeBest,
  relativeUplift,
  twoProportionPValue,
  wilsonInterval,
} from "../../src/rules/statistics";

const arm = (successes: number, trials: number) => ({ successes, trials });

describe("wilsonInterval", () => {
  it.each([
    [50, 1000, 0.95, 0.0381302623927488, 0.0653138202442508],
    [80, 1000, 0.95, 0.0647480380983639, 0.0984664390295024],
    [0, 10, 0.9, 0, 0.212941970083407],
    [10, 10, 0.99, 0.601145906695092, 1],
  ])("%i of %i at %f", (successes, trials, level, lower, upper) => {
    const interval = wilsonInterval(successes, trials, level);
    expect(interval?.lower).toBeCloseTo(lower, 12);
    expect(interval?.upper).toBeCloseTo(upper, 12);
  });

  it("is undefined without trials", () => {
    expect(wilsonInterval(0, 0, 0.95)).toBeNull();
  });
});

describe("twoProportionPValue", () => {
  it("matches the pooled two-sided z-test", () => {
    expect(twoProportionPValue(arm(80, 1000), arm(50, 1000))).toBeCloseTo(0.00650659748363783, 14);
    expect(twoProportionPValue(arm(50, 1000), arm(80, 1000))).toBeCloseTo(0.00650659748363783, 14);
    expect(twoProportionPValue(arm(3, 7), arm(1, 9))).toBeCloseTo(0.14572853320204, 13);
  });

  it("is undefined without trials or without variance", () => {
    expect(twoProportionPValue(arm(0, 0), arm(1, 10))).toBeNull();
    expect(twoProportionPValue(arm(0, 10), arm(0, 20))).toBeNull();
    expect(twoProportionPValue(arm(10, 10), arm(20, 20))).toBeNull();
  });
});

describe("relativeUplift", () => {
  it("is relative to the baseline, undefined at a zero or missing baseline", () => {
    expect(relativeUplift(0.08, 0.05)).toBeCloseTo(0.6, 12);
    expect(relativeUplift(0.04, 0.05)).toBeCloseTo(-0.2, 12);
    expect(relativeUplift(0.04, 0)).toBeNull();
    expect(relativeUplift(null, 0.05)).toBeNull();
  });
});

describe("equalSplitChiSquarePValue", () => {
  it("matches scipy.stats.chisquare", () => {
    expect(equalSplitChiSquarePValue([1000, 1100])).toBeCloseTo(0.029096331741252267, 14);
    expect(equalSplitChiSquarePValue([7, 9, 2])).toBeCloseTo(0.11455884399268772, 14);
    expect(equalSplitChiSquarePValue([5000, 5000, 5300])).toBeCloseTo(0.0027882170400494247, 14);
    expect(equalSplitChiSquarePValue([40, 40])).toBe(1);
  });

  it("is undefined for fewer than two groups or no data", () => {
    expect(equalSplitChiSquarePValue([10])).toBeNull();
    expect(equalSplitChiSquarePValue([0, 0])).toBeNull();
  });
});

describe("probabilityToBeBest", () => {
  it.each([
    [
      [arm(50, 1000), arm(80, 1000)],
      [0.0032535734523768, 0.996746426547623],
    ],
    [
      [arm(5000, 100000), arm(5100, 100000), arm(4900, 100000)],
      [0.1503114153515107, 0.8379890379906967, 0.011699546657757862],
    ],
    [
      [arm(1, 3), arm(2, 4), arm(0, 0)],
      [0.2, 0.369047619047619, 0.430952380952381],
    ],
    [
      [arm(0, 0), arm(10, 10), arm(0, 10), arm(123456, 10000000)],
      [0.08333327169979825, 0.9166659886978803, 7.396022955660375e-7, 1.6022268351506824e-24],
    ],
  ])("case %#", (arms, expected) => {
    const probabilities = probabilityToBeBest(arms);
    probabilities.forEach((probability, index) => {
      expect(Math.abs(probability - expected[index])).toBeLessThan(1e-9);
    });
    expect(probabilities.reduce((sum, value) => sum + value, 0)).toBeCloseTo(1, 12);
  });

  it("splits evenly between identical arms and gives a lone arm 1", () => {
    expect(probabilityToBeBest([arm(3, 10), arm(3, 10), arm(3, 10)]).map((p) => p.toFixed(9))).toEqual([
      "0.333333333",
      "0.333333333",
      "0.333333333",
    ]);
    expect(probabilityToBeBest([arm(3, 10)])).toEqual([1]);
    expect(probabilityToBeBest([])).toEqual([]);
  });

  it("is deterministic", () => {
    const arms = [arm(120, 2400), arm(131, 2390), arm(118, 2410)];
    expect(probabilityToBeBest(arms)).toEqual(probabilityToBeBest(arms));
  });
});
