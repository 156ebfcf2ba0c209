// The posterior quadrature (src/rules/posterior.ts) against the brute-force reference of
// posterior-reference.ts, over seeded random rules and the edges: n = 0, c = 0, c = n, tiny n, a million
// exposures with tiny rates, nearly identical outcomes. Required: probabilityToBeBest and
// chanceToBeatBaseline within 1e-6 absolute, expectedLoss within 1e-6 relative or 1e-9 absolute; the shares
// sum to 1. They agree far closer (within 1e-9): the tighter bounds catch a regression long before a
// requirement fails.
import { describe, expect, it } from "vitest";
import { posteriorComparison } from "../../src/rules/posterior";
import type { Arm } from "../../src/rules/statistics";
import { referencePosteriorFigures } from "./posterior-reference";

const arm = (successes: number, trials: number): Arm => ({ successes, trials });

/** A deterministic generator (an LCG): the same rules on every run. */
function seeded(seed: number) {
  let state = seed;
  return () => {
    state = (state * 1103515245 + 12345) % 2147483648;
    return state / 2147483648;
  };
}

function randomRules(count: number, seed: number): Arm[][] {
  const random = seeded(seed);
  return Array.from({ length: count }, () => {
    const outcomes = 2 + Math.floor(random() * 9);
    const scale = [3, 30, 1000, 100_000, 1_000_000][Math.floor(random() * 5)];
    const rate = random() < 0.3 ? random() * 0.002 : random();
    const arms = Array.from({ length: outcomes }, () => {
      const trials = Math.floor(scale * (0.5 + random()));
      const outcomeRate = Math.min(1, Math.max(0, rate * (1 + 0.05 * (random() - 0.5))));
      return arm(Math.round(trials * outcomeRate), trials);
    });
    if (random() < 0.2) arms.push(arm(0, 0));
    return arms;
  });
}

const EDGES: [string, Arm[]][] = [
  ["no exposures anywhere", [arm(0, 0), arm(0, 0)]],
  ["one exposure each", [arm(0, 1), arm(1, 1), arm(0, 0)]],
  ["none converted against all converted", [arm(0, 10), arm(10, 10)]],
  ["all converted of a million and of ten", [arm(1_000_000, 1_000_000), arm(10, 10), arm(999_999, 1_000_000)]],
  ["tiny rates of a million", [arm(0, 1_000_000), arm(1, 1_000_000), arm(3, 1_000_000), arm(2, 900_000)]],
  ["a million against a handful", [arm(50, 1_000_000), arm(0, 3), arm(1, 2)]],
  ["nearly identical, a million each", Array.from({ length: 8 }, (_, i) => arm(50_000 + (i % 2), 1_000_000))],
  ["nearly identical, small", Array.from({ length: 6 }, (_, i) => arm(3 + (i % 2), 40))],
  ["identical", Array.from({ length: 5 }, () => arm(120, 2400))],
  ["far apart", [arm(1, 1000), arm(900, 1000), arm(500, 1000)]],
  ["twelve in a row", Array.from({ length: 12 }, (_, i) => arm(200 + 3 * i, 10_000))],
];

type Bounds = { absolute: number; relative: number; lossFloor: number };

function expectAgreement(arms: Arm[], ...allBounds: Bounds[]) {
  const actual = posteriorComparison(arms, 0);
  const reference = referencePosteriorFigures(arms, 0);
  for (const bounds of allBounds) expectWithin(actual, reference, bounds);
}

function expectWithin(
  actual: ReturnType<typeof posteriorComparison>,
  reference: ReturnType<typeof referencePosteriorFigures>,
  bounds: Bounds,
) {
  const referenceTotal = reference.probabilityToBeBest.reduce((sum, value) => sum + value, 0);
  expect(Math.abs(referenceTotal - 1)).toBeLessThan(1e-12);
  expect(Math.abs(actual.probabilityToBeBest.reduce((sum, value) => sum + value, 0) - 1)).toBeLessThan(1e-12);
  expect(Math.abs(actual.totalBeforeNormalising - 1)).toBeLessThan(1e-9);
  actual.probabilityToBeBest.forEach((share, index) => {
    expect(Math.abs(share - reference.probabilityToBeBest[index] / referenceTotal)).toBeLessThanOrEqual(
      bounds.absolute,
    );
  });
  actual.chanceToBeatBaseline.forEach((chance, index) => {
    const expected = reference.chanceToBeatBaseline[index];
    if (expected === null) expect(chance).toBeNull();
    else expect(Math.abs((chance as number) - expected)).toBeLessThanOrEqual(bounds.absolute);
  });
  actual.expectedLoss.forEach((loss, index) => {
    const expected = reference.expectedLoss[index];
    if (expected === null) {
      expect(loss).toBeNull();
      return;
    }
    expect(Math.abs((loss as number) - expected)).toBeLessThanOrEqual(
      Math.max(bounds.relative * expected, bounds.lossFloor),
    );
  });
}

const REQUIRED = { absolute: 1e-6, relative: 1e-6, lossFloor: 1e-9 };
const IN_FACT = { absolute: 1e-9, relative: 1e-8, lossFloor: 1e-12 };

describe("posteriorComparison against a brute-force quadrature", () => {
  it.each(EDGES)("%s", (_name, arms) => {
    expectAgreement(arms, REQUIRED, IN_FACT);
  });

  it.each(randomRules(40, 20_260_301).map((arms, index) => [index, arms] as const))(
    "random rule %i",
    (_index, arms) => {
      expectAgreement(arms, REQUIRED);
      expectAgreement(arms, IN_FACT);
    },
  );

  it("gives the same shares with a baseline as without", () => {
    // With a baseline, CDFs are computed on more panels; the shares must not move.
    const arms = [arm(5, 1000), arm(480, 10_000), arm(500, 10_000), arm(0, 0)];
    expect(posteriorComparison(arms, 0).probabilityToBeBest).toEqual(
      posteriorComparison(arms, null).probabilityToBeBest,
    );
  });

  it("gives each of 100 identical arms 1/100, wherever they are", () => {
    for (const [successes, trials] of [
      [0, 0],
      [7, 9],
      [50_000, 1_000_000],
      [999_000, 1_000_000],
    ]) {
      const result = posteriorComparison(
        Array.from({ length: 100 }, () => arm(successes, trials)),
        null,
      );
      expect(Math.abs(result.totalBeforeNormalising - 1)).toBeLessThan(1e-9);
      for (const share of result.probabilityToBeBest) expect(Math.abs(share - 0.01)).toBeLessThan(1e-12);
    }
  });
});
