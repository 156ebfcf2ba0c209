// Why the sequential p-value exists: an experimenter who looks every day and stops at the first
// "significant" fixed-horizon p-value declares a winner in A/A tests far more often than 5%, while the
// confidence sequence's p-value stays below 5% however often it is looked at. A deterministic simulation.
import { describe, expect, it } from "vitest";
import { sequentialPValue, twoProportionPValue } from "../../src/rules/statistics";

const EXPERIMENTS = 2000;
const LOOKS = 20;
const VISITORS_PER_LOOK = 250; // per arm, so N = 500 at the first look and 10,000 at the last
const RATE = 0.1; // the same true conversion rate in both arms: every rejection is a false positive
const ALPHA = 0.05;

/** mulberry32, a small seeded PRNG (uniform in [0, 1)), so the test gives the same rates on every run. */
function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe("peeking at A/A experiments", () => {
  it("inflates the fixed p-value's false positives, not the sequential p-value's", () => {
    const random = mulberry32(20231);
    let fixedRejections = 0;
    let sequentialRejections = 0;
    for (let experiment = 0; experiment < EXPERIMENTS; experiment++) {
      const baseline = { successes: 0, trials: 0 };
      const outcome = { successes: 0, trials: 0 };
      let fixedRejected = false;
      let sequentialRejected = false;
      for (let look = 0; look < LOOKS; look++) {
        for (let visitor = 0; visitor < VISITORS_PER_LOOK; visitor++) {
          if (random() < RATE) baseline.successes++;
          if (random() < RATE) outcome.successes++;
        }
        baseline.trials += VISITORS_PER_LOOK;
        outcome.trials += VISITORS_PER_LOOK;
        fixedRejected ||= (twoProportionPValue(outcome, baseline) ?? 1) < ALPHA;
        sequentialRejected ||= (sequentialPValue(baseline, outcome, 1 - ALPHA) ?? 1) < ALPHA;
        if (fixedRejected && sequentialRejected) break;
      }
      if (fixedRejected) fixedRejections++;
      if (sequentialRejected) sequentialRejections++;
    }
    const fixedRate = fixedRejections / EXPERIMENTS;
    const sequentialRate = sequentialRejections / EXPERIMENTS;
    console.log(
      `A/A, ${EXPERIMENTS} experiments x ${LOOKS} looks: stopped at the first p < ${ALPHA} in ` +
        `${(100 * fixedRate).toFixed(1)}% (fixed pValue), ${(100 * sequentialRate).toFixed(1)}% (sequentialPValue)`,
    );
    expect(fixedRate).toBeGreaterThan(0.15);
    expect(sequentialRate).toBeLessThanOrEqual(ALPHA);
  });
});
