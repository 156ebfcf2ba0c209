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
  const weightTotal = weights ? weights.reduce((sum, w) => sum + w, 0) : counts.length;
  const statistic = counts.reduce((sum, count, index) => {
    const expected = (total * (weights ? weights[index] : 1)) / weightTotal;
    return sum + (count - expected) ** 2 / expected;
  }, 0);
  if (statistic === 0) return 1;
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

export interface PosteriorComparison {
  /** P(arm i has the highest true rate), for every arm; sums to 1. */
  probabilityToBeBest: number[];
  /** P(θₖ > θ_b); null for the baseline itself and when n = 0 on either side. */
  chanceToBeatBaseline: (number | null)[];
  /** E[max(θ_b − θₖ, 0)], the rate expected to be lost by choosing k; null as chanceToBeatBaseline. */
  expectedLoss: (number | null)[];
  /** Σ of probabilityToBeBest before normalising: 1 up to the quadrature's error (a check for tests). */
  totalBeforeNormalising: number;
}

/**
 * All posterior figures of the arms, with independent Beta(1 + successes, 1 + failures) posteriors
 * (densities fᵢ, CDFs Fᵢ), from one evaluation of every fᵢ and Fᵢ on one shared set of nodes:
 * - probabilityToBeBest: ∫ fᵢ(x) Πⱼ≠ᵢ Fⱼ(x) dx, the products Πⱼ≠ᵢ from prefix and suffix products;
 * - chanceToBeatBaseline: P(θₖ > θ_b) = ∫ fₖ(x) F_b(x) dx;
 * - expectedLoss: E[max(θ_b − θₖ, 0)] = ∫ f_b(x) Gₖ(x) dx with Gₖ(x) = ∫₀ˣ Fₖ = (x − μₖ)Fₖ(x) + x(1−x)fₖ(x)/(aₖ+bₖ)
 *   (integration by parts with y·f_{a,b}(y) = μ·f_{a+1,b}(y) and I_x(a+1,b) = I_x(a,b) − x^a(1−x)^b/(a·B(a,b))).
 * Cost O(arms × nodes): see posteriorGrid.
 */
export function posteriorComparison(arms: Arm[], baselineIndex: number | null): PosteriorComparison {
  const k = arms.length;
  const chanceToBeatBaseline: (number | null)[] = arms.map(() => null);
  const expectedLoss: (number | null)[] = arms.map(() => null);
  if (k === 0) return { probabilityToBeBest: [], chanceToBeatBaseline, expectedLoss, totalBeforeNormalising: 0 };
  const grid = posteriorGrid(arms);
  const raw = probabilitiesToBeBest(grid);
  const total = raw.reduce((sum, value) => sum + value, 0);
  const probabilityToBeBest = raw.map((value) => value / total);
  const b = baselineIndex;
  if (b !== null && b >= 0 && b < k && arms[b].trials > 0) {
    arms.forEach((arm, index) => {
      if (index === b || arm.trials <= 0) return;
      chanceToBeatBaseline[index] = clamp01(integrateDensityTimesCdf(grid, index, b));
      expectedLoss[index] = Math.max(0, integrateExpectedLoss(grid, b, index));
    });
  }
  return { probabilityToBeBest, chanceToBeatBaseline, expectedLoss, totalBeforeNormalising: total };
}

/** P(arm i has the highest true rate) for every arm: posteriorComparison's probabilityToBeBest. */
export function probabilityToBeBest(arms: Arm[]): number[] {
  return posteriorComparison(arms, null).probabilityToBeBest;
}

const clamp01 = (value: number) => Math.min(1, Math.max(0, value));

// The shared nodes: composite Gauss–Legendre panels of NODES_PER_PANEL nodes. Each posterior covers the
// range where its log-density is within TAIL_LOG of its mode (the mass outside is below 1e-17: a
// log-concave tail beyond t holds at most f(t)/|ℓ'(t)|). A panel is at most PANEL_WIDTH standard
// deviations of the narrowest posterior whose range it meets, so every density and CDF is a smooth
// function resolved to near rounding error on every panel; a gap that no range covers gets no panel.
const NODES_PER_PANEL = 12;
const PANEL_WIDTH = 2;
const TAIL_LOG = 40;
const MAX_RISE = 6;
// Up to this a + b, log-densities use the nodes' shared log x and log(1 − x): their rounding then moves a
// density by less than 1e-11 relative. Beyond, log1p of the distance to the mode keeps them exact.
const SHARED_LOG_LIMIT = 1e4;

interface Posterior {
  alpha: number;
  beta: number;
  mean: number;
  sd: number;
  mode: number;
  logMode: number;
  logModeComplement: number;
  lower: number;
  upper: number;
  /** Panels [firstPanel, endPanel) meet [lower, upper]; offset = firstPanel · NODES_PER_PANEL. */
  firstPanel: number;
  endPanel: number;
  offset: number;
  /** Density and CDF on the nodes of those panels (F = 0 before them, 1 after them). */
  density: Float64Array;
  cdf: Float64Array;
  /** The CDF at the end of each of those panels. */
  panelEndCdf: Float64Array;
  /** 1 / the quadrature of the density up to its constant. */
  normaliser: number;
}

interface PosteriorGrid {
  posteriors: Posterior[];
  /** Node positions and quadrature weights, panel after panel. */
  nodes: Float64Array;
  weights: Float64Array;
  /** The posteriors whose range meets each panel. */
  panelArms: number[][];
}

/**
 * The grid in two passes: panels sized by the posteriors, then, where every posterior has started, panels
 * cut further where the CDF of the maximum, Πⱼ Fⱼ, rises steeply: it is far sharper than any one posterior
 * when many arms are alike (F^99 for 100 identical arms), and it multiplies every probabilityToBeBest integrand.
 */
function posteriorGrid(arms: Arm[]): PosteriorGrid {
  const posteriors = arms.map(posteriorShape);
  const base = basePanels(posteriors);
  const grid = gridOn(posteriors, base.starts, base.ends);
  const fromPanel = Math.max(...posteriors.map((posterior) => posterior.firstPanel));
  const refined = refinedPanels(grid, base.starts, base.ends, fromPanel);
  if (refined.starts.length === base.starts.length) return grid;
  return gridOn(posteriors, refined.starts, refined.ends, fromPanel);
}

/** Panels from left to right, each at most PANEL_WIDTH standard deviations of the narrowest range it meets. */
function basePanels(posteriors: Posterior[]): { starts: number[]; ends: number[] } {
  const k = posteriors.length;

  // Panels from left to right; the posteriors in order of their range's start.
  const order = posteriors.map((_, index) => index).sort((i, j) => posteriors[i].lower - posteriors[j].lower);
  const last = Math.max(...posteriors.map((posterior) => posterior.upper));
  const panelStarts: number[] = [];
  const panelEnds: number[] = [];
  const active: number[] = [];
  let next = 0;
  let x = posteriors[order[0]].lower;
  while (x < last) {
    while (next < k && posteriors[order[next]].lower <= x) active.push(order[next++]);
    let kept = 0;
    let width = Number.POSITIVE_INFINITY;
    for (const index of active) {
      if (posteriors[index].upper <= x) continue;
      active[kept++] = index;
      width = Math.min(width, posteriors[index].sd * PANEL_WIDTH);
    }
    active.length = kept;
    if (kept === 0) {
      if (next === k) break;
      x = posteriors[order[next]].lower;
      continue;
    }
    // A narrower posterior whose range starts inside the panel: end the panel where it starts, or at its width.
    for (let later = next; later < k && posteriors[order[later]].lower < x + width; later++) {
      const posterior = posteriors[order[later]];
      if (posterior.sd * PANEL_WIDTH < width) width = Math.max(posterior.lower - x, posterior.sd * PANEL_WIDTH);
    }
    const end = Math.min(last, x + width);
    if (!(end > x)) break;
    panelStarts.push(x);
    panelEnds.push(end);
    x = end;
  }
  return { starts: panelStarts, ends: panelEnds };
}

/**
 * Where every posterior has started, cut each panel at the points where L = ln Πⱼ Fⱼ (concave and increasing:
 * each Fⱼ is log-concave) reaches L(end) − c·MAX_RISE, c = 1, 2, …, down to L(end) − 60, so that Πⱼ Fⱼ rises
 * by at most e^MAX_RISE on each piece that matters (L from its values at the nodes and ends, linearly between).
 */
function refinedPanels(
  grid: PosteriorGrid,
  starts: number[],
  ends: number[],
  firstPanel: number,
): { starts: number[]; ends: number[] } {
  const { posteriors, nodes, panelArms } = grid;
  const refinedStarts = starts.slice(0, firstPanel);
  const refinedEnds = ends.slice(0, firstPanel);
  const xs = new Float64Array(NODES_PER_PANEL + 2);
  const logs = new Float64Array(NODES_PER_PANEL + 2);
  for (let panel = firstPanel; panel < starts.length; panel++) {
    const meeting = panelArms[panel];
    let atStart = 1;
    let atEnd = 1;
    xs[0] = starts[panel];
    xs[NODES_PER_PANEL + 1] = ends[panel];
    for (let node = 0; node < NODES_PER_PANEL; node++) {
      const at = panel * NODES_PER_PANEL + node;
      let product = 1;
      for (const index of meeting) product *= posteriors[index].cdf[at - posteriors[index].offset];
      xs[node + 1] = nodes[at];
      logs[node + 1] = Math.max(-1e4, Math.log(product));
    }
    for (const index of meeting) {
      const posterior = posteriors[index];
      const local = panel - posterior.firstPanel;
      atStart *= local === 0 ? 0 : posterior.panelEndCdf[local - 1];
      atEnd *= posterior.panelEndCdf[local];
    }
    logs[0] = Math.max(-1e4, Math.log(atStart));
    logs[NODES_PER_PANEL + 1] = Math.max(-1e4, Math.log(atEnd));
    const top = logs[NODES_PER_PANEL + 1];
    const cuts: number[] = [];
    if (top > -60 && top - logs[0] > MAX_RISE) {
      let segment = NODES_PER_PANEL + 1;
      for (let level = top - MAX_RISE; level > Math.max(logs[0], top - 60); level -= MAX_RISE) {
        while (segment > 0 && logs[segment - 1] > level) segment--;
        if (segment === 0) break;
        const fraction = (level - logs[segment - 1]) / (logs[segment] - logs[segment - 1]);
        const cut = xs[segment - 1] + fraction * (xs[segment] - xs[segment - 1]);
        if (cut > xs[0] && cut < xs[NODES_PER_PANEL + 1] && (cuts.length === 0 || cut < cuts[cuts.length - 1])) {
          cuts.push(cut);
        }
      }
    }
    let from = starts[panel];
    for (const cut of cuts.reverse()) {
      refinedStarts.push(from);
      refinedEnds.push(cut);
      from = cut;
    }
    refinedStarts.push(from);
    refinedEnds.push(ends[panel]);
  }
  return { starts: refinedStarts, ends: refinedEnds };
}

/**
 * Nodes, weights, and every posterior's density and CDF on the given panels. With keptPanels, the panels
 * before it are those of the posteriors' current grid: their values are kept, and so is each normaliser.
 */
function gridOn(posteriors: Posterior[], panelStarts: number[], panelEnds: number[], keptPanels = 0): PosteriorGrid {
  const panelCount = panelStarts.length;
  const size = panelCount * NODES_PER_PANEL;
  const nodes = new Float64Array(size);
  const weights = new Float64Array(size);
  const logNodes = new Float64Array(size);
  const logComplements = new Float64Array(size);
  const halfWidths = new Float64Array(panelCount);
  for (let panel = 0; panel < panelCount; panel++) {
    const half = (panelEnds[panel] - panelStarts[panel]) / 2;
    const center = panelStarts[panel] + half;
    halfWidths[panel] = half;
    for (let node = 0; node < NODES_PER_PANEL; node++) {
      const at = panel * NODES_PER_PANEL + node;
      nodes[at] = center + half * LEGENDRE.nodes[node];
      weights[at] = half * LEGENDRE.weights[node];
      logNodes[at] = Math.log(nodes[at]);
      logComplements[at] = Math.log1p(-nodes[at]);
    }
  }

  const panelArms: number[][] = panelStarts.map(() => []);
  posteriors.forEach((posterior, index) => {
    posterior.firstPanel = countBelow(panelEnds, posterior.lower, true);
    posterior.endPanel = Math.max(posterior.firstPanel + 1, countBelow(panelStarts, posterior.upper, false));
    posterior.offset = posterior.firstPanel * NODES_PER_PANEL;
    for (let panel = posterior.firstPanel; panel < posterior.endPanel; panel++) panelArms[panel].push(index);
    const length = (posterior.endPanel - posterior.firstPanel) * NODES_PER_PANEL;
    const density = new Float64Array(length);
    const cdf = new Float64Array(length);
    const panelEndCdf = new Float64Array(length / NODES_PER_PANEL);
    const kept = Math.max(0, Math.min(keptPanels, posterior.endPanel) - posterior.firstPanel) * NODES_PER_PANEL;
    if (kept > 0) {
      density.set(posterior.density.subarray(0, kept));
      cdf.set(posterior.cdf.subarray(0, kept));
      panelEndCdf.set(posterior.panelEndCdf.subarray(0, kept / NODES_PER_PANEL));
    }
    // The density up to its constant, normalised by its own quadrature so that each CDF ends at 1 exactly.
    const a = posterior.alpha - 1;
    const b = posterior.beta - 1;
    const shared = posterior.alpha + posterior.beta <= SHARED_LOG_LIMIT;
    let mass = 0;
    for (let node = kept; node < length; node++) {
      const at = posterior.offset + node;
      let log = 0;
      if (shared) {
        if (a > 0) log += a * (logNodes[at] - posterior.logMode);
        if (b > 0) log += b * (logComplements[at] - posterior.logModeComplement);
      } else {
        const distance = nodes[at] - posterior.mode;
        if (a > 0) log += a * Math.log1p(distance / posterior.mode);
        if (b > 0) log += b * Math.log1p(-distance / (1 - posterior.mode));
      }
      density[node] = Math.exp(log);
      mass += weights[at] * density[node];
    }
    if (keptPanels === 0) posterior.normaliser = 1 / mass;
    for (let node = kept; node < length; node++) density[node] *= posterior.normaliser;
    // The CDF at each node: the panels before, plus the integral of this panel's interpolant up to the node.
    let before = kept > 0 ? panelEndCdf[kept / NODES_PER_PANEL - 1] : 0;
    for (let start = kept; start < length; start += NODES_PER_PANEL) {
      const half = halfWidths[posterior.firstPanel + start / NODES_PER_PANEL];
      let panelMass = 0;
      for (let i = 0; i < NODES_PER_PANEL; i++) {
        let partial = 0;
        for (let j = 0; j < NODES_PER_PANEL; j++) partial += CUMULATIVE[i * NODES_PER_PANEL + j] * density[start + j];
        cdf[start + i] = clamp01(before + half * partial);
        panelMass += LEGENDRE.weights[i] * density[start + i];
      }
      before += half * panelMass;
      panelEndCdf[start / NODES_PER_PANEL] = clamp01(before);
    }
    posterior.density = density;
    posterior.cdf = cdf;
    posterior.panelEndCdf = panelEndCdf;
  });
  return { posteriors, nodes, weights, panelArms };
}

/** A Beta(1 + successes, 1 + failures) posterior's parameters and range; its grid fields are set later. */
function posteriorShape(arm: Arm): Posterior {
  const trials = Math.max(0, arm.trials);
  const successes = Math.min(trials, Math.max(0, arm.successes));
  const alpha = 1 + successes;
  const beta = 1 + trials - successes;
  const sum = alpha + beta;
  const mode = sum > 2 ? (alpha - 1) / (sum - 2) : 0.5;
  const posterior: Posterior = {
    alpha,
    beta,
    mean: alpha / sum,
    sd: Math.sqrt((alpha * beta) / (sum * sum * (sum + 1))),
    mode,
    logMode: Math.log(mode),
    logModeComplement: Math.log1p(-mode),
    lower: 0,
    upper: 1,
    firstPanel: 0,
    endPanel: 0,
    offset: 0,
    density: new Float64Array(0),
    cdf: new Float64Array(0),
    panelEndCdf: new Float64Array(0),
    normaliser: 1,
  };
  if (alpha > 1) posterior.lower = tailEnd(posterior, -1);
  if (beta > 1) posterior.upper = tailEnd(posterior, 1);
  return posterior;
}

/** log(f(x)/f(mode)) = (a−1)·log(x/m) + (b−1)·log((1−x)/(1−m)), through log1p (exact for large a, b). */
function logDensityRelativeToMode({ alpha, beta, mode }: Posterior, x: number): number {
  const distance = x - mode;
  let log = 0;
  if (alpha > 1) log += (alpha - 1) * Math.log1p(distance / mode);
  if (beta > 1) log += (beta - 1) * Math.log1p(-distance / (1 - mode));
  return log;
}

/**
 * Where the log-density, concave for a, b ≥ 1, falls to −TAIL_LOG on one side of the mode. Newton's method
 * on a concave function, started on the inside, steps to the outside of the root and then stays outside:
 * every iterate is a safe (wide enough) end, and a few make it close.
 */
function tailEnd(posterior: Posterior, direction: 1 | -1): number {
  const { alpha, beta, mode, sd } = posterior;
  const edge = direction > 0 ? 1 : 0;
  const slope = (x: number) => (alpha - 1) / x - (beta - 1) / (1 - x);
  let x = mode + direction * Math.min(sd, Math.abs(edge - mode) / 2);
  for (let iteration = 0; iteration < 20; iteration++) {
    const gap = logDensityRelativeToMode(posterior, x) + TAIL_LOG;
    const next = x - gap / slope(x);
    // Past the edge: halve the way to it instead (the log-density tends to −∞ there).
    const bounded = direction * (next - edge) >= 0 ? (x + edge) / 2 : next;
    if (gap <= 0 && Math.abs(bounded - x) <= 1e-3 * sd) return bounded;
    x = bounded;
  }
  return logDensityRelativeToMode(posterior, x) + TAIL_LOG <= 0 ? x : edge;
}

/** How many of the ascending values are below the value (or at most the value). */
function countBelow(ascending: number[], value: number, orEqual: boolean): number {
  let low = 0;
  let high = ascending.length;
  while (low < high) {
    const middle = (low + high) >> 1;
    if (ascending[middle] < value || (orEqual && ascending[middle] === value)) low = middle + 1;
    else high = middle;
  }
  return low;
}

/** ∫ fᵢ Πⱼ≠ᵢ Fⱼ for every i, on the panels where every posterior has started (Fⱼ = 0 before its range). */
function probabilitiesToBeBest(grid: PosteriorGrid): number[] {
  const { posteriors, weights, panelArms } = grid;
  const k = posteriors.length;
  const raw = new Array<number>(k).fill(0);
  if (k === 1) {
    raw[0] = 1;
    return raw;
  }
  const firstPanel = Math.max(...posteriors.map((posterior) => posterior.firstPanel));
  const prefix = new Float64Array(k + 1);
  const suffix = new Float64Array(k + 1);
  for (let panel = firstPanel; panel < panelArms.length; panel++) {
    // A posterior whose range ended before this panel has F = 1 and f = 0 here: only those meeting it count.
    const meeting = panelArms[panel];
    const count = meeting.length;
    for (let node = 0; node < NODES_PER_PANEL; node++) {
      const at = panel * NODES_PER_PANEL + node;
      prefix[0] = 1;
      for (let c = 0; c < count; c++) {
        const posterior = posteriors[meeting[c]];
        prefix[c + 1] = prefix[c] * posterior.cdf[at - posterior.offset];
      }
      if (prefix[count] === 0 && prefix[count - 1] === 0) {
        // Two CDFs are 0 at this node (underflow far in a tail): every product is 0.
        let zeros = 0;
        for (let c = 0; c < count && zeros < 2; c++)
          if (posteriors[meeting[c]].cdf[at - posteriors[meeting[c]].offset] === 0) zeros++;
        if (zeros >= 2) continue;
      }
      suffix[count] = 1;
      for (let c = count - 1; c >= 0; c--) {
        const posterior = posteriors[meeting[c]];
        suffix[c] = suffix[c + 1] * posterior.cdf[at - posterior.offset];
      }
      for (let c = 0; c < count; c++) {
        const posterior = posteriors[meeting[c]];
        raw[meeting[c]] += weights[at] * posterior.density[at - posterior.offset] * prefix[c] * suffix[c + 1];
      }
    }
  }
  return raw;
}

/** A posterior's CDF at a node of the grid: 0 before its panels, 1 after them. */
function cdfAt(posterior: Posterior, panel: number, at: number): number {
  if (panel < posterior.firstPanel) return 0;
  if (panel >= posterior.endPanel) return 1;
  return posterior.cdf[at - posterior.offset];
}

/** ∫ fᵢ Fⱼ = P(θᵢ > θⱼ), over i's panels. */
function integrateDensityTimesCdf(grid: PosteriorGrid, i: number, j: number): number {
  const own = grid.posteriors[i];
  const other = grid.posteriors[j];
  let sum = 0;
  for (let panel = own.firstPanel; panel < own.endPanel; panel++) {
    for (let node = 0; node < NODES_PER_PANEL; node++) {
      const at = panel * NODES_PER_PANEL + node;
      sum += grid.weights[at] * own.density[at - own.offset] * cdfAt(other, panel, at);
    }
  }
  return sum;
}

/** ∫ f_b G_k = E[max(θ_b − θ_k, 0)], over b's panels (see posteriorComparison for G_k). */
function integrateExpectedLoss(grid: PosteriorGrid, b: number, k: number): number {
  const baseline = grid.posteriors[b];
  const outcome = grid.posteriors[k];
  const scale = 1 / (outcome.alpha + outcome.beta);
  let sum = 0;
  for (let panel = Math.max(baseline.firstPanel, outcome.firstPanel); panel < baseline.endPanel; panel++) {
    for (let node = 0; node < NODES_PER_PANEL; node++) {
      const at = panel * NODES_PER_PANEL + node;
      const x = grid.nodes[at];
      let integratedCdf = x - outcome.mean;
      if (panel < outcome.endPanel) {
        const local = at - outcome.offset;
        integratedCdf = (x - outcome.mean) * outcome.cdf[local] + x * (1 - x) * outcome.density[local] * scale;
      }
      sum += grid.weights[at] * baseline.density[at - baseline.offset] * integratedCdf;
    }
  }
  return sum;
}

/**
 * Gauss–Legendre nodes and weights on [−1, 1] (roots of P_n by Newton's method from Chebyshev guesses, as in
 * Numerical Recipes' gauleg), and the matrix of the interpolant's indefinite integrals: row i gives
 * ∫₋₁^{xᵢ} p(t) dt = Σⱼ cumulative[i][j]·f(xⱼ) for the polynomial p through the nodes, from its Legendre
 * expansion p = Σₙ cₙPₙ, cₙ = (2n+1)/2·Σⱼ wⱼPₙ(xⱼ)f(xⱼ), and ∫₋₁ˣ Pₙ = (Pₙ₊₁(x) − Pₙ₋₁(x))/(2n+1), ∫₋₁ˣ P₀ = x + 1.
 */
function gaussLegendre(n: number) {
  const legendre = (x: number, degree: number) => {
    const values = [1, x];
    for (let m = 2; m <= degree; m++) values.push(((2 * m - 1) * x * values[m - 1] - (m - 1) * values[m - 2]) / m);
    return values;
  };
  const nodes: number[] = [];
  const weights: number[] = [];
  for (let i = 0; i < n; i++) {
    let x = Math.cos((Math.PI * (i + 0.75)) / (n + 0.5));
    let derivative = 1;
    for (let iteration = 0; iteration < 100; iteration++) {
      const values = legendre(x, n);
      derivative = (n * (x * values[n] - values[n - 1])) / (x * x - 1);
      const step = values[n] / derivative;
      x -= step;
      if (Math.abs(step) <= 1e-15) break;
    }
    const values = legendre(x, n);
    derivative = (n * (x * values[n] - values[n - 1])) / (x * x - 1);
    nodes.push(-x);
    weights.push(2 / ((1 - x * x) * derivative * derivative));
  }
  const atNodes = nodes.map((x) => legendre(x, n));
  const cumulative = nodes.map((x) => {
    const p = legendre(x, n);
    const integrals = p
      .slice(0, n)
      .map((_, degree) => (degree === 0 ? x + 1 : (p[degree + 1] - p[degree - 1]) / (2 * degree + 1)));
    return nodes.map((_, j) =>
      integrals.reduce(
        (sum, integral, degree) => sum + ((2 * degree + 1) / 2) * weights[j] * atNodes[j][degree] * integral,
        0,
      ),
    );
  });
  return { nodes, weights, cumulative };
}

const LEGENDRE = gaussLegendre(NODES_PER_PANEL);
const CUMULATIVE = Float64Array.from(LEGENDRE.cumulative.flat());
