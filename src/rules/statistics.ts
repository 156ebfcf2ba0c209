// Statistics of split tests, as pure functions (no I/O). Each cites its formula; the special
// functions (erfc, normal quantile, regularised incomplete gamma) come from stdlib. No function
// returns NaN or Infinity: a figure that is undefined for its inputs is null.
import erfc from "@stdlib/math-base-special-erfc";
import gammainc from "@stdlib/math-base-special-gammainc";
import normalQuantile from "@stdlib/stats-base-dists-normal-quantile";

export interface Interval {
  lower: number;
  upper: number;
}

export interface Arm {
  successes: number;
  trials: number;
}

export type PValueAdjustment = "NONE" | "HOLM" | "BENJAMINI_HOCHBERG";

/**
 * Two-sided normal quantile z = Φ⁻¹(1 − α/2), α = 1 − confidenceLevel. Null unless 0 < level < 1
 * and z is finite (0.9999999999999999 rounds 1 − α/2 to 1, whose quantile is infinite).
 */
export function twoSidedNormalQuantile(confidenceLevel: number): number | null {
  if (!(confidenceLevel > 0 && confidenceLevel < 1)) return null;
  const z = normalQuantile(1 - (1 - confidenceLevel) / 2, 0, 1);
  return Number.isFinite(z) ? z : null;
}

/** Whether a confidence level is usable: in (0, 1) with a finite two-sided quantile (for input validation). */
export function normalQuantileFinite(confidenceLevel: number): boolean {
  return twoSidedNormalQuantile(confidenceLevel) !== null;
}

/**
 * Wilson score interval without continuity correction (Wilson 1927):
 * (p + z²/2n ± z·√(p(1−p)/n + z²/4n²)) / (1 + z²/n), z the (1 − α/2) normal quantile.
 * Null when there are no trials or z is not finite.
 */
export function wilsonInterval(successes: number, trials: number, confidenceLevel: number): Interval | null {
  const z = twoSidedNormalQuantile(confidenceLevel);
  if (trials <= 0 || z === null) return null;
  const p = successes / trials;
  const z2 = z * z;
  const denominator = 1 + z2 / trials;
  const center = (p + z2 / (2 * trials)) / denominator;
  const half = (z * Math.sqrt((p * (1 - p)) / trials + z2 / (4 * trials * trials))) / denominator;
  return { lower: Math.max(0, center - half), upper: Math.min(1, center + half) };
}

/**
 * Two-sided pooled two-proportion z-test: z = (p₁ − p₂) / √(p̂(1−p̂)(1/n₁ + 1/n₂)), p̂ = (x₁+x₂)/(n₁+n₂);
 * p-value = 2·(1 − Φ(|z|)) = erfc(|z|/√2) (erfc keeps tiny p-values exact). Null when undefined.
 */
export function twoProportionPValue(a: Arm, b: Arm): number | null {
  if (a.trials <= 0 || b.trials <= 0) return null;
  const pooled = (a.successes + b.successes) / (a.trials + b.trials);
  const standardError = Math.sqrt(pooled * (1 - pooled) * (1 / a.trials + 1 / b.trials));
  if (standardError === 0) return null;
  const z = (a.successes / a.trials - b.successes / b.trials) / standardError;
  return erfc(Math.abs(z) / Math.SQRT2);
}

/** Relative uplift (rate − baseline) / baseline; null when either is undefined or the baseline is 0. */
export function relativeUplift(rate: number | null, baselineRate: number | null): number | null {
  if (rate == null || baselineRate == null || baselineRate === 0) return null;
  return (rate - baselineRate) / baselineRate;
}

/**
 * Newcombe's hybrid score interval for d = p_k − p_b (Newcombe 1998, method 10), from the Wilson
 * intervals [l_b, u_b] and [l_k, u_k] at the same level:
 * [d − √((p_k − l_k)² + (u_b − p_b)²), d + √((u_k − p_k)² + (p_b − l_b)²)]. Null when n = 0 on either side.
 */
export function newcombeDifferenceInterval(baseline: Arm, outcome: Arm, confidenceLevel: number): Interval | null {
  const baselineInterval = wilsonInterval(baseline.successes, baseline.trials, confidenceLevel);
  const outcomeInterval = wilsonInterval(outcome.successes, outcome.trials, confidenceLevel);
  if (baselineInterval === null || outcomeInterval === null) return null;
  const pb = baseline.successes / baseline.trials;
  const pk = outcome.successes / outcome.trials;
  const d = pk - pb;
  return {
    lower: d - Math.hypot(pk - outcomeInterval.lower, baselineInterval.upper - pb),
    upper: d + Math.hypot(outcomeInterval.upper - pk, pb - baselineInterval.lower),
  };
}

/**
 * Katz's log interval of the rate ratio r = p_k / p_b (Katz et al. 1978), minus 1 to read as an uplift:
 * s = √(1/c_k − 1/n_k + 1/c_b − 1/n_b), [r·e^(−z s) − 1, r·e^(z s) − 1]. Null when a side has no trials
 * or no successes.
 */
export function katzUpliftInterval(baseline: Arm, outcome: Arm, confidenceLevel: number): Interval | null {
  const z = twoSidedNormalQuantile(confidenceLevel);
  if (z === null || baseline.trials <= 0 || outcome.trials <= 0) return null;
  if (baseline.successes <= 0 || outcome.successes <= 0) return null;
  const ratio = outcome.successes / outcome.trials / (baseline.successes / baseline.trials);
  const s = Math.sqrt(
    Math.max(0, 1 / outcome.successes - 1 / outcome.trials + 1 / baseline.successes - 1 / baseline.trials),
  );
  // r·e^(±zs) − 1 through expm1 keeps a narrow interval around r = 1 exact.
  return { lower: ratio * Math.expm1(-z * s) + (ratio - 1), upper: ratio * Math.expm1(z * s) + (ratio - 1) };
}

/**
 * The asymptotic confidence sequence of Waudby-Smith et al. (2023, "Time-uniform central limit theory
 * and asymptotic confidence sequences"), as GrowthBook applies it to d = p_k − p_b: with
 * V = p_b(1−p_b)/n_b + p_k(1−p_k)/n_k, N = n_b + n_k and ρ² = (−2 ln α + ln(1 − 2 ln α)) / N*
 * (N* = sequentialTuning, the total sample size at which the sequence is tightest).
 */
function confidenceSequence(baseline: Arm, outcome: Arm, confidenceLevel: number, sequentialTuning: number) {
  if (baseline.trials <= 0 || outcome.trials <= 0) return null;
  if (!(confidenceLevel > 0 && confidenceLevel < 1) || !(sequentialTuning > 0 && Number.isFinite(sequentialTuning))) {
    return null;
  }
  const alpha = 1 - confidenceLevel;
  const pb = baseline.successes / baseline.trials;
  const pk = outcome.successes / outcome.trials;
  const variance = (pb * (1 - pb)) / baseline.trials + (pk * (1 - pk)) / outcome.trials;
  if (!(variance > 0)) return null;
  const logAlpha = Math.log(alpha);
  const rho2 = (-2 * logAlpha + Math.log1p(-2 * logAlpha)) / sequentialTuning;
  const nRho2 = (baseline.trials + outcome.trials) * rho2;
  return { alpha, difference: pk - pb, variance, nRho2 };
}

/**
 * The confidence sequence's interval d ± h, h = √(V · 2(Nρ²+1)/(Nρ²) · ln(√(Nρ²+1)/α)): it holds at every
 * look with probability 1 − α. Null when n = 0 on either side or V = 0.
 */
export function sequentialDifferenceInterval(
  baseline: Arm,
  outcome: Arm,
  confidenceLevel: number,
  sequentialTuning = 5000,
): Interval | null {
  const sequence = confidenceSequence(baseline, outcome, confidenceLevel, sequentialTuning);
  if (sequence === null) return null;
  const { alpha, difference, variance, nRho2 } = sequence;
  const half = Math.sqrt(((variance * 2 * (nRho2 + 1)) / nRho2) * (0.5 * Math.log1p(nRho2) - Math.log(alpha)));
  if (!Number.isFinite(half)) return null;
  return { lower: difference - half, upper: difference + half };
}

/**
 * The always-valid p-value of the same sequence: the α at which the interval's edge reaches 0, ρ kept at
 * its value for the query's level, min(1, √(Nρ²+1) · exp(−d²Nρ² / (2V(Nρ²+1)))). Below α exactly when
 * sequentialDifferenceInterval excludes 0. Null when n = 0 on either side or V = 0.
 */
export function sequentialPValue(
  baseline: Arm,
  outcome: Arm,
  confidenceLevel: number,
  sequentialTuning = 5000,
): number | null {
  const sequence = confidenceSequence(baseline, outcome, confidenceLevel, sequentialTuning);
  if (sequence === null) return null;
  const { difference, variance, nRho2 } = sequence;
  const exponent = 0.5 * Math.log1p(nRho2) - (difference * difference * nRho2) / (2 * variance * (nRho2 + 1));
  return Math.min(1, Math.exp(exponent));
}

/**
 * Multiple-comparison adjustment over the non-null p-values (m of them), in the input's order; nulls stay null.
 * Holm (1979) step-down: sorted ascending, p̃₍ᵢ₎ = max_{j≤i} min(1, (m − j + 1)·p₍ⱼ₎).
 * Benjamini–Hochberg (1995) step-up: p̃₍ᵢ₎ = min_{j≥i} min(1, m·p₍ⱼ₎ / j). NONE returns the values unchanged.
 */
export function adjustPValues(pValues: (number | null)[], method: PValueAdjustment): (number | null)[] {
  if (method === "NONE") return [...pValues];
  const order = pValues
    .map((value, index) => ({ value, index }))
    .filter((entry): entry is { value: number; index: number } => entry.value !== null)
    .sort((left, right) => left.value - right.value || left.index - right.index);
  const m = order.length;
  const adjusted: (number | null)[] = pValues.map(() => null);
  if (method === "HOLM") {
    let running = 0;
    order.forEach(({ value, index }, rank) => {
      running = Math.max(running, Math.min(1, (m - rank) * value));
      adjusted[index] = running;
    });
  } else {
    let running = 1;
    for (let rank = m - 1; rank >= 0; rank--) {
      running = Math.min(running, Math.min(1, (m * order[rank].value) / (rank + 1)));
      adjusted[order[rank].index] = running;
    }
  }
  return adjusted;
}

/**
 * Pearson's chi-square goodness-of-fit p-value of observed counts against expected shares:
 * eₖ = N·wₖ/Σw (an equal split without weights), χ² = Σ (oₖ − eₖ)²/eₖ, df = k − 1,
 * p = Q(df/2, χ²/2) (upper regularised gamma). Null with fewer than two groups, no observations, or
 * weights that are not one positive finite number per group.
 */
export function chiSquarePValue(counts: number[], weights?: number[]): number | null {
  const total = counts.reduce((sum, count) => sum + count, 0);
  if (counts.length < 2 || total <= 0) return null;
  if (weights && (weights.length !== counts.length || !weights.every((w) => w > 0 && Number.isFinite(w)))) {
    return null;
  }
  // Shares relative to the largest weight: Σw of weights near the largest double would overflow.
  const largest = weights ? Math.max(...weights) : 1;
  const shares = counts.map((_, index) => (weights ? weights[index] / largest : 1));
  const shareTotal = shares.reduce((sum, share) => sum + share, 0);
  let statistic = 0;
  for (let index = 0; index < counts.length; index++) {
    const expected = (total * shares[index]) / shareTotal;
    // A share too small for a double expects nothing: an observation there is as unlikely as can be.
    if (expected === 0) {
      if (counts[index] > 0) return 0;
      continue;
    }
    statistic += (counts[index] - expected) ** 2 / expected;
  }
  if (statistic === 0) return 1;
  // Observations where next to none were expected (a share near the smallest double): as unlikely as can be.
  if (statistic === Number.POSITIVE_INFINITY) return 0;
  return gammainc(statistic / 2, (counts.length - 1) / 2, true, true);
}

/** chiSquarePValue against an equal split. */
export function equalSplitChiSquarePValue(counts: number[]): number | null {
  return chiSquarePValue(counts);
}

/**
 * Exposures per outcome for a two-sided test of p₁ = p_b against p₂ = p_b(1 + relativeMde) at the given
 * power (the classic pooled/unpooled normal approximation, e.g. Fleiss et al. 2003, eq. 4.14 without
 * continuity correction): with p̄ = (p₁+p₂)/2, z = Φ⁻¹(1 − α/2), z_β = Φ⁻¹(power),
 * n = ⌈(z·√(2p̄(1−p̄)) + z_β·√(p₁(1−p₁) + p₂(1−p₂)))² / (p₂ − p₁)²⌉.
 * Null when p_b ∉ (0, 1), p₂ ∉ (0, 1), p₂ = p₁, power ∉ (0, 1) or a quantile is not finite.
 */
export function sampleSizePerOutcome(
  baselineRate: number,
  relativeMde: number,
  power: number,
  confidenceLevel: number,
): number | null {
  const z = twoSidedNormalQuantile(confidenceLevel);
  if (z === null || !(power > 0 && power < 1) || !(baselineRate > 0 && baselineRate < 1)) return null;
  const zBeta = normalQuantile(power, 0, 1);
  const p1 = baselineRate;
  const p2 = baselineRate * (1 + relativeMde);
  if (!(p2 > 0 && p2 < 1) || p2 === p1 || !Number.isFinite(zBeta)) return null;
  const mean = (p1 + p2) / 2;
  const root = z * Math.sqrt(2 * mean * (1 - mean)) + zBeta * Math.sqrt(p1 * (1 - p1) + p2 * (1 - p2));
  const n = Math.ceil((root * root) / ((p2 - p1) * (p2 - p1)));
  return Number.isFinite(n) ? n : null;
}

/**
 * Days until every outcome reaches `required` exposures at its own pace so far:
 * ⌈max over outcomes of max(0, n − nₖ) / rₖ⌉ with rₖ = nₖ / daysRunningₖ (daysRunning at least 1).
 * 0 when every outcome has n; null when n is null, there are no outcomes or one has no exposures.
 */
export function daysRemaining(
  required: number | null,
  outcomes: { exposures: number; daysRunning: number }[],
): number | null {
  if (required === null || outcomes.length === 0) return null;
  let days = 0;
  for (const { exposures, daysRunning } of outcomes) {
    if (!(exposures > 0)) return null;
    const missing = Math.max(0, required - exposures);
    days = Math.max(days, (missing * Math.max(1, daysRunning)) / exposures);
  }
  const result = Math.ceil(days);
  return Number.isFinite(result) ? result : null;
}

// The posterior figures (probability to be best, chance to beat the baseline, expected loss) live in posterior.ts.
export { type PosteriorComparison, posteriorComparison, probabilityToBeBest } from "./posterior";
