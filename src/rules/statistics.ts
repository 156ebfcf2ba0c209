// Statistics of split tests, as pure functions (no I/O). Each cites its formula; the special
// functions (erfc, normal quantile, regularised incomplete beta and gamma) come from stdlib.
import erfc from "@stdlib/math-base-special-erfc";
import gammainc from "@stdlib/math-base-special-gammainc";
import betaCdf from "@stdlib/stats-base-dists-beta-cdf";
import betaLogPdf from "@stdlib/stats-base-dists-beta-logpdf";
import betaQuantile from "@stdlib/stats-base-dists-beta-quantile";
import normalQuantile from "@stdlib/stats-base-dists-normal-quantile";

export interface Interval {
  lower: number;
  upper: number;
}

export interface Arm {
  successes: number;
  trials: number;
}

/**
 * Wilson score interval without continuity correction (Wilson 1927):
 * (p + z²/2n ± z·√(p(1−p)/n + z²/4n²)) / (1 + z²/n), z the (1 − α/2) normal quantile.
 * Null when there are no trials.
 */
export function wilsonInterval(successes: number, trials: number, confidenceLevel: number): Interval | null {
  if (trials <= 0) return null;
  const z = normalQuantile(1 - (1 - confidenceLevel) / 2, 0, 1);
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
 * Pearson's chi-square goodness-of-fit p-value of observed counts against an equal split:
 * χ² = Σ (oᵢ − e)²/e, e = N/k, df = k − 1, p = Q(df/2, χ²/2) (upper regularised gamma).
 * Null with fewer than two groups or no observations.
 */
export function equalSplitChiSquarePValue(counts: number[]): number | null {
  const total = counts.reduce((sum, count) => sum + count, 0);
  if (counts.length < 2 || total === 0) return null;
  const expected = total / counts.length;
  const statistic = counts.reduce((sum, count) => sum + (count - expected) ** 2 / expected, 0);
  if (statistic === 0) return 1;
  return gammainc(statistic / 2, (counts.length - 1) / 2, true, true);
}

/**
 * P(arm i has the highest true rate) with independent Beta(1 + successes, 1 + failures) posteriors:
 * ∫ fᵢ(x) Πⱼ≠ᵢ Fⱼ(x) dx, by adaptive Gauss–Kronrod (7/15) quadrature over the interval holding all
 * but 1e-13 of fᵢ's mass: deterministic, and accurate far beyond 1e-6. Normalised to sum to 1.
 */
export function probabilityToBeBest(arms: Arm[]): number[] {
  if (arms.length === 0) return [];
  if (arms.length === 1) return [1];
  const posteriors = arms.map((arm) => ({ alpha: 1 + arm.successes, beta: 1 + arm.trials - arm.successes }));
  const raw = posteriors.map((own, index) => {
    const others = posteriors.filter((_, other) => other !== index);
    const integrand = (x: number) => {
      let value = Math.exp(betaLogPdf(x, own.alpha, own.beta));
      for (const other of others) {
        if (value === 0) return 0;
        value *= betaCdf(x, other.alpha, other.beta);
      }
      return value;
    };
    const from = betaQuantile(1e-13, own.alpha, own.beta);
    const to = betaQuantile(1 - 1e-13, own.alpha, own.beta);
    return adaptiveGaussKronrod(integrand, from, to);
  });
  const total = raw.reduce((sum, value) => sum + value, 0);
  return raw.map((value) => value / total);
}

// QUADPACK's qk15 nodes and weights (Piessens et al. 1983), digits as published.
// biome-ignore-start lint/correctness/noPrecisionLoss: the published constants, rounded to doubles by the parser
const KRONROD_NODES = [
  0.991455371120812639206854697526329, 0.949107912342758524526189684047851, 0.864864423359769072789712788640926,
  0.741531185599394439863864773280788, 0.586087235467691130294144845693013, 0.405845151377397166906606412076961,
  0.207784955007898467600689403773245, 0,
];
const KRONROD_WEIGHTS = [
  0.02293532201052922496373200805897, 0.063092092629978553290700663189204, 0.104790010322250183839876322541518,
  0.140653259715525918745189590510238, 0.16900472663926790282658342659855, 0.190350578064785409913256402421014,
  0.204432940075298892414161999234649, 0.209482141084727828012999174891714,
];
// Gauss weights for the odd-indexed Kronrod nodes 1, 3, 5, 7.
const GAUSS_WEIGHTS = [
  0.129484966168869693270611432679082, 0.27970539148927666790146777142378, 0.381830050505118944950369775488975,
  0.417959183673469387755102040816327,
];
// biome-ignore-end lint/correctness/noPrecisionLoss: end of the constants

function gaussKronrod(f: (x: number) => number, a: number, b: number): { value: number; error: number } {
  const center = (a + b) / 2;
  const halfLength = (b - a) / 2;
  const fCenter = f(center);
  let kronrod = fCenter * KRONROD_WEIGHTS[7];
  let gauss = fCenter * GAUSS_WEIGHTS[3];
  for (let index = 0; index < 7; index++) {
    const offset = halfLength * KRONROD_NODES[index];
    const sum = f(center - offset) + f(center + offset);
    kronrod += KRONROD_WEIGHTS[index] * sum;
    if (index % 2 === 1) gauss += GAUSS_WEIGHTS[(index - 1) / 2] * sum;
  }
  return { value: kronrod * halfLength, error: Math.abs((kronrod - gauss) * halfLength) };
}

/**
 * Globally adaptive quadrature (QUADPACK's qag strategy): keep splitting the sub-interval with the
 * largest error estimate until the total error is below the tolerance or the interval budget is
 * spent. Bounded cost whatever the integrand, unlike naive recursive bisection.
 */
function adaptiveGaussKronrod(f: (x: number) => number, a: number, b: number): number {
  const absoluteTolerance = 1e-12;
  const relativeTolerance = 1e-11;
  const maxIntervals = 400;
  const intervals = [{ a, b, ...gaussKronrod(f, a, b) }];
  for (;;) {
    let value = 0;
    let error = 0;
    let worst = 0;
    intervals.forEach((interval, index) => {
      value += interval.value;
      error += interval.error;
      if (interval.error > intervals[worst].error) worst = index;
    });
    if (error <= Math.max(absoluteTolerance, relativeTolerance * Math.abs(value)) || intervals.length >= maxIntervals) {
      return value;
    }
    const { a: left, b: right } = intervals[worst];
    const middle = (left + right) / 2;
    intervals.splice(
      worst,
      1,
      { a: left, b: middle, ...gaussKronrod(f, left, middle) },
      { a: middle, b: right, ...gaussKronrod(f, middle, right) },
    );
  }
}
