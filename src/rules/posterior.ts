// The Bayesian comparison of a rule's outcomes (pure: no I/O): probability to be best, chance to beat the
// baseline and expected loss under independent Beta posteriors, by one quadrature on nodes every posterior shares.
import type { Arm } from "./statistics";

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
 * Cost O(arms × nodes) (see posteriorGrid): about 0.05 ms of CPU for 10 arms, 1–8 ms for 100 (bench/statistics.js).
 */
export function posteriorComparison(arms: Arm[], baselineIndex: number | null): PosteriorComparison {
  const k = arms.length;
  const chanceToBeatBaseline: (number | null)[] = arms.map(() => null);
  const expectedLoss: (number | null)[] = arms.map(() => null);
  if (k === 0) return { probabilityToBeBest: [], chanceToBeatBaseline, expectedLoss, totalBeforeNormalising: 0 };
  if (k === 1) return { probabilityToBeBest: [1], chanceToBeatBaseline, expectedLoss, totalBeforeNormalising: 1 };
  const baseline =
    baselineIndex !== null && baselineIndex >= 0 && baselineIndex < k && arms[baselineIndex].trials > 0
      ? baselineIndex
      : -1;
  const grid = posteriorGrid(arms, baseline);
  // ∫ fᵢ Πⱼ≠ᵢ Fⱼ: over the segments from where Πⱼ Fⱼ is not negligible to where Σⱼ (1 − Fⱼ) is small, and beyond
  // that, the upper tail 1 − Fᵢ.
  let total = 0;
  for (let index = 0; index < k; index++) total += grid.raw[index] + grid.upperTails[index];
  const probabilityToBeBest = new Array<number>(k);
  for (let index = 0; index < k; index++)
    probabilityToBeBest[index] = (grid.raw[index] + grid.upperTails[index]) / total;
  if (baseline >= 0) {
    const { chance, loss } = baselineComparisons(grid, baseline);
    arms.forEach((arm, index) => {
      if (index === baseline || arm.trials <= 0) return;
      chanceToBeatBaseline[index] = clamp01(chance[index]);
      expectedLoss[index] = Math.max(0, loss[index]);
    });
  }
  return { probabilityToBeBest, chanceToBeatBaseline, expectedLoss, totalBeforeNormalising: total };
}

/** P(arm i has the highest true rate) for every arm: posteriorComparison's probabilityToBeBest. */
export function probabilityToBeBest(arms: Arm[]): number[] {
  return posteriorComparison(arms, null).probabilityToBeBest;
}

const clamp01 = (value: number) => Math.min(1, Math.max(0, value));

// The shared nodes: composite Gauss–Legendre panels of NODES_PER_PANEL nodes. Each posterior covers the range
// where its log-density is within TAIL_LOG of its mode (the mass outside is below 1e-13: a log-concave tail
// beyond t holds at most f(t)/|ℓ'(t)|). A base panel is at most PANEL_WIDTH standard deviations of the
// narrowest posterior whose range it meets; a gap that no range covers gets no panel. On such panels the
// figures, integrals over the nodes of densities and their interpolants' integrals (the CDFs), come within
// about 1e-10 of a quadrature that shares none of this (test/rules/posterior.test.ts). A CDF at one node can be
// off by far more (1e-6 of the panel's mass in the low tail of a skewed posterior): it is never read alone.
const NODES_PER_PANEL = 12; // integrateCdf is written out for 12
const PANEL_WIDTH = 3;
const TAIL_LOG = 30;
// A segment of probabilityToBeBest over which ln Πⱼ Fⱼ rises by more than MAX_RISE (its start; F^99 for 100
// identical arms) is cut at levels of it, so that the pieces rise by about 0.9·MAX_RISE each.
const MAX_RISE = 20;
// A segment of probabilityToBeBest is accepted when its integrands, which add up to (Πⱼ Fⱼ)', integrate to
// Πⱼ Fⱼ(end) − Πⱼ Fⱼ(start) within ACCEPTED_ERROR: both sides come from the same densities, the left through
// the products at the nodes, the right through the masses alone, so a peak of the products that the nodes
// miss (the best of 100 alike arms is far narrower than any one) shows as a difference. (It checks how well
// the nodes resolve the products, not the CDFs' interpolation, which both sides share.) 1e-9, a thousandth of
// what the figures must meet (1e-6): 1e-11 cost a fifth more of a 366-day series for no figure that shows.
const ACCEPTED_ERROR = 1e-9;
// A piece is cut again at most MAX_CUT_DEPTH times, and a panel into MAX_PIECES pieces at most.
const MAX_CUT_DEPTH = 10;
const MAX_PIECES = 48;
// probabilityToBeBest is integrated from where Πⱼ Fⱼ first exceeds e^NEGLIGIBLE_LOG (1e-13): every integrand
// fᵢ Πⱼ≠ᵢ Fⱼ is a share of (Πⱼ Fⱼ)', so below that point together they hold less than Πⱼ Fⱼ there.
const NEGLIGIBLE_LOG = -30;
// ... and up to where T = Σⱼ (1 − Fⱼ) falls below UPPER_TAILS; beyond, arm i gets its whole remaining mass
// 1 − Fᵢ, over by ∫ fᵢ (1 − Πⱼ≠ᵢ Fⱼ) ≤ (1 − Fᵢ)·T there: T² ≤ 1e-12 for all arms together.
const UPPER_TAILS = 1e-6;
// A log-density from the nodes' shared log x and log(1 − x) carries (a−1)·|log m|·ε + (b−1)·|log(1 − m)|·ε of
// rounding (m the mode, ε = 2.2e-16); up to this budget (1e-11 relative) the shared logs serve, beyond it log1p
// of the distance to the mode keeps the density exact.
const SHARED_LOG_BUDGET = 5e4;

interface Posterior {
  alpha: number;
  beta: number;
  mean: number;
  sd: number;
  mode: number;
  logMode: number;
  logModeComplement: number;
  /** Whether the log-density may use the nodes' shared logarithms (see SHARED_LOG_BUDGET). */
  sharedLogs: boolean;
  lower: number;
  upper: number;
  /** The base panels [firstPanel, endPanel) meet [lower, upper]. */
  firstPanel: number;
  endPanel: number;
  /** 1 / the quadrature of the density up to its constant. */
  normaliser: number;
}

/**
 * The quadrature, segment by segment from left to right. A segment is a base panel or a piece of one; an
 * entry is a posterior meeting a segment, with its density and CDF at the segment's nodes. The CDF is only
 * computed where a figure reads it: on the segments of probabilityToBeBest (`best`), and, with a baseline,
 * where the baseline meets the segment and on the baseline's own entries. Its arrays are the workspace's,
 * valid until the next grid is built.
 */
interface PosteriorGrid {
  posteriors: Posterior[];
  segments: Segments;
  /** ∫ fᵢ Πⱼ≠ᵢ Fⱼ over probabilityToBeBest's segments (marked `best`). */
  raw: Float64Array;
  /** 1 − Fᵢ where those segments end (see UPPER_TAILS). */
  upperTails: Float64Array;
}

/**
 * The grid in two sweeps. The first evaluates every density on the base panels (see basePanels) and
 * integrates it, which gives every normaliser and every CDF at the panels' ends, hence where
 * probabilityToBeBest's segments begin (Πⱼ Fⱼ not negligible) and end (Σⱼ (1 − Fⱼ) small). The second writes
 * the segments left to right: the CDFs at the nodes from the densities through the interpolant's integral
 * (CUMULATIVE), and on probabilityToBeBest's segments its integrands, each segment checked (acceptedSegment);
 * a panel that fails is cut into pieces, each evaluated anew and cut again until it passes: where ln Πⱼ Fⱼ
 * rises steeply (the start of the product), at levels of it; else (a peak of the products narrower than any
 * posterior: the best of many alike arms) in halves.
 */
function posteriorGrid(arms: Arm[], baseline: number): PosteriorGrid {
  const posteriors = arms.map(posteriorShape);
  const k = posteriors.length;
  const panels = basePanels(posteriors);
  const panelCount = panels.starts.length;
  const N = NODES_PER_PANEL;
  const space = workspace;

  // Base panels: nodes, and the posteriors meeting each (in the arms' order).
  space.reserveArms(k);
  space.reservePanels(panelCount);
  const { baseNodes, baseWeights, logNodes, logComplements, baseEntryStart } = space;
  for (let panel = 0; panel < panelCount; panel++) {
    placeNodes(panels.starts[panel], panels.ends[panel], baseNodes, baseWeights, panel * N);
    for (let at = panel * N; at < (panel + 1) * N; at++) {
      logNodes[at] = Math.log(baseNodes[at]);
      logComplements[at] = Math.log1p(-baseNodes[at]);
    }
  }
  baseEntryStart.fill(0, 0, panelCount + 1);
  let latestFirst = 0;
  for (const posterior of posteriors) {
    posterior.firstPanel = Math.min(panelCount - 1, countBelow(panels.ends, posterior.lower, true));
    posterior.endPanel = Math.min(
      panelCount,
      Math.max(posterior.firstPanel + 1, countBelow(panels.starts, posterior.upper, false)),
    );
    latestFirst = Math.max(latestFirst, posterior.firstPanel);
    for (let panel = posterior.firstPanel; panel < posterior.endPanel; panel++) baseEntryStart[panel + 1]++;
  }
  let widest = 0;
  for (let panel = 0; panel < panelCount; panel++) {
    widest = Math.max(widest, baseEntryStart[panel + 1]);
    baseEntryStart[panel + 1] += baseEntryStart[panel];
  }
  const baseEntries = baseEntryStart[panelCount];
  space.reserveBaseEntries(baseEntries, widest);
  const { baseEntryPosterior, baseDensity, entryMass, startCdf, fill } = space;
  for (let panel = 0; panel < panelCount; panel++) fill[panel] = baseEntryStart[panel];
  for (let index = 0; index < k; index++) {
    const posterior = posteriors[index];
    for (let panel = posterior.firstPanel; panel < posterior.endPanel; panel++)
      baseEntryPosterior[fill[panel]++] = index;
  }

  // First sweep: densities up to their constants, each panel's mass, and the CDFs at the panels' ends.
  const { masses, running } = space;
  masses.fill(0, 0, k);
  for (let panel = 0; panel < panelCount; panel++) {
    for (let entry = baseEntryStart[panel]; entry < baseEntryStart[panel + 1]; entry++) {
      const index = baseEntryPosterior[entry];
      entryMass[entry] = relativeDensities(
        posteriors[index],
        baseNodes,
        logNodes,
        logComplements,
        baseWeights,
        panel * N,
        baseDensity,
        entry * N,
      );
      masses[index] += entryMass[entry];
    }
  }
  for (let index = 0; index < k; index++) posteriors[index].normaliser = 1 / masses[index];
  // ln Πⱼ Fⱼ at each panel's start and end (−∞ until every posterior has started), and Σⱼ (1 − Fⱼ) at its end.
  const { logProductStart, logProductEnd, tailSums } = space;
  running.fill(0, 0, k);
  let tailSum = k;
  // (The products may underflow to 0 far below e^NEGLIGIBLE_LOG, where only that they are negligible matters.)
  for (let panel = 0; panel < panelCount; panel++) {
    let productStart = 1;
    let productEnd = 1;
    for (let entry = baseEntryStart[panel]; entry < baseEntryStart[panel + 1]; entry++) {
      const index = baseEntryPosterior[entry];
      startCdf[entry] = running[index];
      running[index] = Math.min(1, running[index] + entryMass[entry] * posteriors[index].normaliser);
      tailSum -= running[index] - startCdf[entry];
      productStart *= startCdf[entry];
      productEnd *= running[index];
    }
    tailSums[panel] = tailSum;
    logProductStart[panel] = panel >= latestFirst ? Math.log(productStart) : Number.NEGATIVE_INFINITY;
    logProductEnd[panel] = panel >= latestFirst ? Math.log(productEnd) : Number.NEGATIVE_INFINITY;
  }
  let firstBestPanel = latestFirst;
  while (firstBestPanel < panelCount - 1 && !(logProductEnd[firstBestPanel] > NEGLIGIBLE_LOG)) firstBestPanel++;
  let lastBestPanel = firstBestPanel;
  while (lastBestPanel < panelCount - 1 && !(tailSums[lastBestPanel] <= UPPER_TAILS)) lastBestPanel++;
  const baselineFirst = baseline >= 0 ? posteriors[baseline].firstPanel : panelCount;
  const baselineEnd = baseline >= 0 ? posteriors[baseline].endPanel : panelCount;

  // Second sweep: the segments, left to right, with their normalised densities and, where needed, CDFs; on
  // probabilityToBeBest's, its integrands too (see acceptedSegment), added up in `raw`.
  const out = space.segments;
  out.clear(panelCount + 8, baseEntries + 8 * k);
  const { before, pieceMass, panelRaw, nodeLogs, raw, upperTails } = space;
  raw.fill(0, 0, k);
  running.fill(0, 0, k);
  for (let panel = 0; panel < panelCount; panel++) {
    const from = baseEntryStart[panel];
    const to = baseEntryStart[panel + 1];
    const count = to - from;
    const half = (panels.ends[panel] - panels.starts[panel]) / 2;
    const best = panel >= firstBestPanel && panel <= lastBestPanel;
    // The panel itself first.
    out.reserve(count);
    const panelSegment = out.count;
    for (let node = 0; node < N; node++) {
      out.nodes[panelSegment * N + node] = baseNodes[panel * N + node];
      out.weights[panelSegment * N + node] = baseWeights[panel * N + node];
    }
    // The baseline comparisons read every CDF where the baseline is, and the baseline's everywhere.
    const baselineHere = panel >= baselineFirst && panel < baselineEnd;
    for (let entry = 0; entry < count; entry++) {
      const index = baseEntryPosterior[from + entry];
      const at = out.entries + entry;
      const normaliser = posteriors[index].normaliser;
      out.entryPosterior[at] = index;
      out.mass[at] = entryMass[from + entry] * normaliser;
      for (let node = 0; node < N; node++)
        out.density[at * N + node] = baseDensity[(from + entry) * N + node] * normaliser;
      if (best || baselineHere || index === baseline) {
        integrateCdf(out.density, at * N, 1, startCdf[from + entry], half, out.cdf, at * N);
      }
    }
    if (!best || acceptedSegment(out, count, logProductStart[panel], logProductEnd[panel])) {
      if (best)
        for (let entry = 0; entry < count; entry++) raw[out.entryPosterior[out.entries + entry]] += pieceMass[entry];
      out.close(panel, best, half, count);
    } else {
      // Cut into pieces, each evaluated anew, and cut again until accepted.
      for (let entry = 0; entry < count; entry++) {
        before[entry] = startCdf[from + entry];
        panelRaw[entry] = 0;
      }
      let logBefore = logProductStart[panel];
      const firstPiece = out.count;
      const pending = [panels.starts[panel], panels.ends[panel], 0];
      // The panel itself is evaluated and refused already; each cut makes MAX_PIECES fewer.
      let rejected = true;
      let budget = MAX_PIECES;
      while (pending.length > 0) {
        const depth = pending.pop() as number;
        const end = pending.pop() as number;
        const start = pending.pop() as number;
        out.reserve(count);
        const nodeAt = out.count * N;
        const pieceHalf = (end - start) / 2;
        if (!rejected) evaluatePiece(out, start, end, posteriors, baseEntryPosterior, from, count, before);
        let productAfter = 1;
        for (let entry = 0; entry < count; entry++)
          productAfter *= Math.min(1, before[entry] + out.mass[out.entries + entry]);
        const logAfter = Math.log(productAfter);
        const negligible = logAfter <= NEGLIGIBLE_LOG;
        const forced = depth >= MAX_CUT_DEPTH || budget <= 0;
        const accepted = !rejected && (negligible || forced || acceptedSegment(out, count, logBefore, logAfter));
        rejected = false;
        if (accepted) {
          // acceptedSegment leaves the piece's integrands in pieceMass; a forced piece's are computed here.
          if (forced && !negligible) segmentIntegrands(out, out.count, out.entries, count, pieceMass);
          for (let entry = 0; entry < count; entry++) {
            before[entry] = Math.min(1, before[entry] + out.mass[out.entries + entry]);
            if (!negligible) panelRaw[entry] += pieceMass[entry];
          }
          out.close(panel, !negligible, pieceHalf, count);
          logBefore = logAfter;
          continue;
        }
        // Too steep: cut where the interpolated ln Πⱼ Fⱼ reaches the levels; else (a peak the nodes do not
        // resolve) in halves.
        let cuts: number[];
        if (logAfter - logBefore > MAX_RISE) {
          nodeLogs.fill(1);
          for (let entry = 0; entry < count; entry++) {
            for (let node = 0; node < N; node++) nodeLogs[node] *= out.cdf[(out.entries + entry) * N + node];
          }
          for (let node = 0; node < N; node++) nodeLogs[node] = Math.log(nodeLogs[node]);
          cuts = cutPoints(start, end, out.nodes, nodeAt, logBefore, logAfter, nodeLogs);
          if (cuts.length === 0) cuts = [start + pieceHalf];
        } else {
          cuts = [start + pieceHalf];
        }
        budget -= cuts.length;
        pending.push(cuts[cuts.length - 1], end, depth + 1);
        for (let cut = cuts.length - 1; cut > 0; cut--) pending.push(cuts[cut - 1], cuts[cut], depth + 1);
        pending.push(start, cuts[0], depth + 1);
      }
      // The pieces' masses add up to the panel's up to rounding; scaled to it, every CDF still ends at 1.
      if (reconciledPieces(out, firstPiece, count, from, startCdf, entryMass, posteriors, baseEntryPosterior)) {
        for (let segment = firstPiece; segment < out.count; segment++) {
          if (out.best[segment] === 0) continue;
          segmentIntegrands(out, segment, out.entryStart[segment], count, pieceMass);
          for (let entry = 0; entry < count; entry++) raw[baseEntryPosterior[from + entry]] += pieceMass[entry];
        }
      } else {
        for (let entry = 0; entry < count; entry++) raw[baseEntryPosterior[from + entry]] += panelRaw[entry];
      }
    }
    for (let entry = from; entry < to; entry++) {
      const index = baseEntryPosterior[entry];
      running[index] = Math.min(1, startCdf[entry] + entryMass[entry] * posteriors[index].normaliser);
    }
    if (panel === lastBestPanel) for (let index = 0; index < k; index++) upperTails[index] = 1 - running[index];
  }
  return { posteriors, segments: out, upperTails, raw };
}

/**
 * A piece [start, end] of a panel as the segment being written: its nodes, and for the panel's `count` entries
 * from `from` their normalised densities, masses and CDFs (from `before`, each entry's CDF at `start`).
 */
function evaluatePiece(
  out: Segments,
  start: number,
  end: number,
  posteriors: Posterior[],
  entryPosterior: Int32Array,
  from: number,
  count: number,
  before: Float64Array,
): void {
  const N = NODES_PER_PANEL;
  const nodeAt = out.count * N;
  const { pieceLogNodes, pieceLogComplements } = workspace;
  placeNodes(start, end, out.nodes, out.weights, nodeAt);
  for (let node = 0; node < N; node++) {
    pieceLogNodes[node] = Math.log(out.nodes[nodeAt + node]);
    pieceLogComplements[node] = Math.log1p(-out.nodes[nodeAt + node]);
  }
  for (let entry = 0; entry < count; entry++) {
    const index = entryPosterior[from + entry];
    const posterior = posteriors[index];
    const at = out.entries + entry;
    out.entryPosterior[at] = index;
    const relativeMass = relativeDensities(
      posterior,
      out.nodes,
      pieceLogNodes,
      pieceLogComplements,
      out.weights,
      nodeAt,
      out.density,
      at * N,
      -nodeAt,
    );
    out.mass[at] = relativeMass * posterior.normaliser;
    for (let node = 0; node < N; node++) out.density[at * N + node] *= posterior.normaliser;
    integrateCdf(out.density, at * N, 1, before[entry], (end - start) / 2, out.cdf, at * N);
  }
}

/**
 * Whether the segment being written (its `count` entries' densities and CDFs set) integrates
 * probabilityToBeBest well: ln Πⱼ Fⱼ rises by at most MAX_RISE over it, and its integrands fᵢ Πⱼ≠ᵢ Fⱼ, which
 * add up to (Πⱼ Fⱼ)', integrate to Πⱼ Fⱼ(end) − Πⱼ Fⱼ(start) from the masses (its exact integral up to their
 * accuracy) within ACCEPTED_ERROR. The integrals, in entry order, are left in the workspace's pieceMass.
 */
function acceptedSegment(out: Segments, count: number, logStart: number, logEnd: number): boolean {
  if (!(logEnd - logStart <= MAX_RISE)) return false;
  const total = segmentIntegrands(out, out.count, out.entries, count, workspace.pieceMass);
  return Math.abs(total - (Math.exp(logEnd) - Math.exp(logStart))) <= ACCEPTED_ERROR;
}

/** ∫ fᵢ Πⱼ≠ᵢ Fⱼ over one segment for each of its `count` entries from `first` into `into`; their sum. */
function segmentIntegrands(out: Segments, segment: number, first: number, count: number, into: Float64Array): number {
  const N = NODES_PER_PANEL;
  const { density, cdf, weights } = out;
  const { prefix, suffix } = workspace;
  into.fill(0, 0, count);
  let total = 0;
  for (let node = 0; node < N; node++) {
    prefix[0] = 1;
    for (let c = 0; c < count; c++) prefix[c + 1] = prefix[c] * cdf[(first + c) * N + node];
    if (prefix[count] === 0) {
      // Two CDFs are 0 at this node (underflow far in a tail): every product is 0.
      let zeros = 0;
      for (let c = 0; c < count && zeros < 2; c++) if (cdf[(first + c) * N + node] === 0) zeros++;
      if (zeros >= 2) continue;
    }
    suffix[count] = 1;
    for (let c = count - 1; c >= 0; c--) suffix[c] = suffix[c + 1] * cdf[(first + c) * N + node];
    const weight = weights[segment * N + node];
    for (let c = 0; c < count; c++) {
      const value = weight * density[(first + c) * N + node] * prefix[c] * suffix[c + 1];
      into[c] += value;
      total += value;
    }
  }
  return total;
}

/**
 * A panel's pieces, once all accepted: where an entry's pieces do not hold the panel's mass to 1e-13 (rounding
 * of nodes near 0 or 1 under a very narrow posterior), its densities scaled so that they do and its CDFs
 * integrated again from the panel's start. Whether any was.
 */
function reconciledPieces(
  out: Segments,
  firstPiece: number,
  count: number,
  from: number,
  startCdf: Float64Array,
  entryMass: Float64Array,
  posteriors: Posterior[],
  entryPosterior: Int32Array,
): boolean {
  const N = NODES_PER_PANEL;
  let changed = false;
  for (let entry = 0; entry < count; entry++) {
    let pieces = 0;
    for (let segment = firstPiece; segment < out.count; segment++) pieces += out.mass[out.entryStart[segment] + entry];
    const scale = (entryMass[from + entry] * posteriors[entryPosterior[from + entry]].normaliser) / pieces;
    if (!(Math.abs(scale - 1) > 1e-13)) continue;
    changed = true;
    let before = startCdf[from + entry];
    for (let segment = firstPiece; segment < out.count; segment++) {
      const at = out.entryStart[segment] + entry;
      out.mass[at] *= scale;
      for (let node = 0; node < N; node++) out.density[at * N + node] *= scale;
      integrateCdf(out.density, at * N, 1, before, out.halfWidth[segment], out.cdf, at * N);
      before = Math.min(1, before + out.mass[at]);
    }
  }
  return changed;
}

/** The segments and their entries (see PosteriorGrid), in arrays that grow and are kept between grids. */
class Segments {
  count = 0;
  entries = 0;
  nodes = new Float64Array(0);
  weights = new Float64Array(0);
  basePanel = new Int32Array(0);
  best = new Uint8Array(0);
  halfWidth = new Float64Array(0);
  entryStart = new Int32Array(1);
  entryPosterior = new Int32Array(0);
  mass = new Float64Array(0);
  density = new Float64Array(0);
  cdf = new Float64Array(0);

  /** Empty, with room for about this many segments and entries. */
  clear(segments: number, entries: number): void {
    this.count = 0;
    this.entries = 0;
    this.growSegments(segments);
    this.growEntries(entries);
  }

  /** Room for one more segment of `entries` entries. */
  reserve(entries: number): void {
    if (this.count + 1 > this.basePanel.length) this.growSegments(2 * (this.count + 1));
    if (this.entries + entries > this.entryPosterior.length) this.growEntries(2 * (this.entries + entries));
  }

  /** The segment being written is complete, with `entries` entries from this.entries. */
  close(basePanel: number, best: boolean, halfWidth: number, entries: number): void {
    this.basePanel[this.count] = basePanel;
    this.best[this.count] = best ? 1 : 0;
    this.halfWidth[this.count] = halfWidth;
    this.entries += entries;
    this.count++;
    this.entryStart[this.count] = this.entries;
  }

  private growSegments(size: number): void {
    if (size <= this.basePanel.length) return;
    this.nodes = grown(this.nodes, size * NODES_PER_PANEL);
    this.weights = grown(this.weights, size * NODES_PER_PANEL);
    this.basePanel = grown(this.basePanel, size);
    this.best = grown(this.best, size);
    this.halfWidth = grown(this.halfWidth, size);
    this.entryStart = grown(this.entryStart, size + 1);
  }

  private growEntries(size: number): void {
    if (size <= this.entryPosterior.length) return;
    this.entryPosterior = grown(this.entryPosterior, size);
    this.mass = grown(this.mass, size);
    this.density = grown(this.density, size * NODES_PER_PANEL);
    this.cdf = grown(this.cdf, size * NODES_PER_PANEL);
  }
}

/** The grid's working arrays, kept between calls (a grid is built and read synchronously, one at a time). */
class Workspace {
  segments = new Segments();
  // Per arm.
  masses = new Float64Array(0);
  running = new Float64Array(0);
  before = new Float64Array(0);
  pieceMass = new Float64Array(0);
  panelRaw = new Float64Array(0);
  upperTails = new Float64Array(0);
  raw = new Float64Array(0);
  prefix = new Float64Array(0);
  suffix = new Float64Array(0);
  chance = new Float64Array(0);
  loss = new Float64Array(0);
  entryOf = new Int32Array(0);
  // Per base panel.
  baseNodes = new Float64Array(0);
  baseWeights = new Float64Array(0);
  logNodes = new Float64Array(0);
  logComplements = new Float64Array(0);
  baseEntryStart = new Int32Array(0);
  fill = new Int32Array(0);
  logProductStart = new Float64Array(0);
  logProductEnd = new Float64Array(0);
  tailSums = new Float64Array(0);
  // Per base entry.
  baseEntryPosterior = new Int32Array(0);
  baseDensity = new Float64Array(0);
  entryMass = new Float64Array(0);
  startCdf = new Float64Array(0);
  // Per piece.
  pieceLogNodes = new Float64Array(NODES_PER_PANEL);
  pieceLogComplements = new Float64Array(NODES_PER_PANEL);
  nodeLogs = new Float64Array(NODES_PER_PANEL);
  cutXs = new Float64Array(NODES_PER_PANEL + 2);
  cutLogs = new Float64Array(NODES_PER_PANEL + 2);

  reserveArms(k: number): void {
    if (this.masses.length >= k + 1) return;
    const size = 2 * (k + 1);
    for (const name of ARM_ARRAYS) this[name] = new Float64Array(size);
    this.entryOf = new Int32Array(size);
  }

  reservePanels(panels: number): void {
    if (this.fill.length >= panels + 1) return;
    const size = 2 * (panels + 1);
    this.baseNodes = new Float64Array(size * NODES_PER_PANEL);
    this.baseWeights = new Float64Array(size * NODES_PER_PANEL);
    this.logNodes = new Float64Array(size * NODES_PER_PANEL);
    this.logComplements = new Float64Array(size * NODES_PER_PANEL);
    this.baseEntryStart = new Int32Array(size + 1);
    this.fill = new Int32Array(size + 1);
    this.logProductStart = new Float64Array(size);
    this.logProductEnd = new Float64Array(size);
    this.tailSums = new Float64Array(size);
  }

  /** Room for the base entries, `widest` of them on one panel. */
  reserveBaseEntries(entries: number, widest: number): void {
    if (this.baseEntryPosterior.length < entries) {
      const size = 2 * entries;
      this.baseEntryPosterior = new Int32Array(size);
      this.baseDensity = new Float64Array(size * NODES_PER_PANEL);
      this.entryMass = new Float64Array(size);
      this.startCdf = new Float64Array(size);
    }
    if (this.before.length < widest) {
      this.before = new Float64Array(2 * widest);
      this.pieceMass = new Float64Array(2 * widest);
      this.panelRaw = new Float64Array(2 * widest);
    }
  }
}

const ARM_ARRAYS = [
  "masses",
  "running",
  "upperTails",
  "raw",
  "prefix",
  "suffix",
  "chance",
  "loss",
] as const satisfies readonly (keyof Workspace)[];

const workspace = new Workspace();

function grown<T extends Float64Array | Int32Array | Uint8Array>(array: T, size: number): T {
  const bigger = new (array.constructor as new (size: number) => T)(size);
  bigger.set(array);
  return bigger;
}

/** Gauss–Legendre nodes and weights of [start, end] into nodes/weights from `at`. */
function placeNodes(start: number, end: number, nodes: Float64Array, weights: Float64Array, at: number): void {
  const half = (end - start) / 2;
  const center = start + half;
  for (let node = 0; node < NODES_PER_PANEL; node++) {
    nodes[at + node] = center + half * LEGENDRE.nodes[node];
    weights[at + node] = half * LEGENDRE.weights[node];
  }
}

/**
 * A posterior's density relative to its mode, f(x)/f(m), at the nodes from `at` into `out` from `outAt`, and
 * its quadrature over them. The shared logs are indexed from at + logShift (a piece's own logs start at 0).
 */
function relativeDensities(
  posterior: Posterior,
  nodes: Float64Array,
  logNodes: Float64Array,
  logComplements: Float64Array,
  weights: Float64Array,
  at: number,
  out: Float64Array,
  outAt: number,
  logShift = 0,
): number {
  const a = posterior.alpha - 1;
  const b = posterior.beta - 1;
  let mass = 0;
  if (posterior.sharedLogs) {
    const { logMode, logModeComplement } = posterior;
    for (let node = 0; node < NODES_PER_PANEL; node++) {
      const logAt = at + node + logShift;
      let log = 0;
      if (a > 0) log += a * (logNodes[logAt] - logMode);
      if (b > 0) log += b * (logComplements[logAt] - logModeComplement);
      const value = Math.exp(log);
      out[outAt + node] = value;
      mass += weights[at + node] * value;
    }
  } else {
    const { mode } = posterior;
    for (let node = 0; node < NODES_PER_PANEL; node++) {
      const distance = nodes[at + node] - mode;
      let log = 0;
      if (a > 0) log += a * Math.log1p(distance / mode);
      if (b > 0) log += b * Math.log1p(-distance / (1 - mode));
      const value = Math.exp(log);
      out[outAt + node] = value;
      mass += weights[at + node] * value;
    }
  }
  return mass;
}

/**
 * The CDF at a segment's nodes into cdf from cdfAt: the CDF at its start plus the integral of the interpolant of
 * scale × the densities from densityAt up to each node (half the segment's width times the CUMULATIVE row).
 * Written out for NODES_PER_PANEL = 12: the densities stay in registers (three to five times the loop's speed).
 */
function integrateCdf(
  density: Float64Array,
  densityAt: number,
  scale: number,
  before: number,
  half: number,
  cdf: Float64Array,
  cdfAt: number,
): void {
  const factor = half * scale;
  const c = CUMULATIVE;
  const d0 = density[densityAt];
  const d1 = density[densityAt + 1];
  const d2 = density[densityAt + 2];
  const d3 = density[densityAt + 3];
  const d4 = density[densityAt + 4];
  const d5 = density[densityAt + 5];
  const d6 = density[densityAt + 6];
  const d7 = density[densityAt + 7];
  const d8 = density[densityAt + 8];
  const d9 = density[densityAt + 9];
  const d10 = density[densityAt + 10];
  const d11 = density[densityAt + 11];
  for (let i = 0, row = 0; i < 12; i++, row += 12) {
    const partial =
      c[row] * d0 +
      c[row + 1] * d1 +
      c[row + 2] * d2 +
      c[row + 3] * d3 +
      c[row + 4] * d4 +
      c[row + 5] * d5 +
      c[row + 6] * d6 +
      c[row + 7] * d7 +
      c[row + 8] * d8 +
      c[row + 9] * d9 +
      c[row + 10] * d10 +
      c[row + 11] * d11;
    cdf[cdfAt + i] = clamp01(before + factor * partial);
  }
}

/**
 * Where a steep piece is cut: the points where L = ln Πⱼ Fⱼ (concave and increasing: each Fⱼ is log-concave)
 * reaches levels that divide [L(start), L(end)] into equal rises of at most 0.9·MAX_RISE, or, when L(start) is
 * negligible, [NEGLIGIBLE_LOG − 2, L(end)], with a cut at that lowest level too (L from its values at the ends
 * and nodes, linearly between), ascending. The chords of a concave L lie under it, so a cut may fall right of
 * its level: the pieces are checked, and cut again, by their exact rise.
 */
function cutPoints(
  start: number,
  end: number,
  nodes: Float64Array,
  at: number,
  logStart: number,
  logEnd: number,
  nodeLogs: Float64Array,
): number[] {
  const n = NODES_PER_PANEL;
  const { cutXs: xs, cutLogs: logs } = workspace;
  xs[0] = start;
  xs[n + 1] = end;
  logs[0] = Math.max(-1e4, logStart);
  logs[n + 1] = Math.max(-1e4, logEnd);
  for (let node = 0; node < n; node++) {
    xs[node + 1] = nodes[at + node];
    logs[node + 1] = Math.max(-1e4, nodeLogs[node]);
  }
  const top = logs[n + 1];
  const negligibleStart = logs[0] < NEGLIGIBLE_LOG - 2;
  const bottom = negligibleStart ? NEGLIGIBLE_LOG - 2 : logs[0];
  const pieces = Math.max(1, Math.ceil((top - bottom) / (0.9 * MAX_RISE)));
  const cuts: number[] = [];
  let segment = n + 1;
  for (let piece = 1; piece <= pieces; piece++) {
    if (piece === pieces && !negligibleStart) break;
    const level = top - ((top - bottom) * piece) / pieces;
    while (segment > 0 && logs[segment - 1] > level) segment--;
    if (segment === 0) break;
    const fraction = (level - logs[segment - 1]) / (logs[segment] - logs[segment - 1]);
    const cut = xs[segment - 1] + fraction * (xs[segment] - xs[segment - 1]);
    if (cut > start && cut < end && (cuts.length === 0 || cut < cuts[cuts.length - 1])) cuts.push(cut);
  }
  return cuts.reverse();
}

/** Panels from left to right, each at most PANEL_WIDTH standard deviations of the narrowest range it meets. */
function basePanels(posteriors: Posterior[]): { starts: number[]; ends: number[] } {
  const k = posteriors.length;
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

/** A Beta(1 + successes, 1 + failures) posterior's parameters and range; its panels are set later. */
function posteriorShape(arm: Arm): Posterior {
  const trials = Math.max(0, arm.trials);
  const successes = Math.min(trials, Math.max(0, arm.successes));
  const alpha = 1 + successes;
  const beta = 1 + trials - successes;
  const sum = alpha + beta;
  const mode = sum > 2 ? (alpha - 1) / (sum - 2) : 0.5;
  const logMode = Math.log(mode);
  const logModeComplement = Math.log1p(-mode);
  const rounding = (alpha > 1 ? (alpha - 1) * Math.abs(logMode) : 0) + (beta > 1 ? (beta - 1) * -logModeComplement : 0);
  const posterior: Posterior = {
    alpha,
    beta,
    mean: alpha / sum,
    sd: Math.sqrt((alpha * beta) / (sum * sum * (sum + 1))),
    mode,
    logMode,
    logModeComplement,
    sharedLogs: rounding <= SHARED_LOG_BUDGET,
    lower: 0,
    upper: 1,
    firstPanel: 0,
    endPanel: 0,
    normaliser: 1,
  };
  if (alpha > 1) posterior.lower = tailEnd(posterior, -1);
  if (beta > 1) posterior.upper = tailEnd(posterior, 1);
  return posterior;
}

/**
 * log(f(x)/f(mode)) = (a−1)·log(x/m) + (b−1)·log((1−x)/(1−m)): near the mode through log1p of the distance to
 * it (exact for large a, b), far from it (x < m/2, or 1 − x < (1 − m)/2) through log of the ratio.
 */
function logDensityRelativeToMode({ alpha, beta, mode }: Posterior, x: number): number {
  const distance = x - mode;
  let log = 0;
  if (alpha > 1) log += (alpha - 1) * (x < mode / 2 ? Math.log(x / mode) : Math.log1p(distance / mode));
  if (beta > 1) {
    const complement = 1 - mode;
    log += (beta - 1) * (1 - x < complement / 2 ? Math.log((1 - x) / complement) : Math.log1p(-distance / complement));
  }
  return log;
}

/**
 * Where the log-density, concave for a, b ≥ 1, falls to −TAIL_LOG on one side of the mode: by Newton's method
 * in u = ln x below the mode and in v = ln(1 − x) above it (the log-density stays concave in them, and near an
 * edge, where it goes as a·u or b·v, they make it nearly linear), from where a normal of the mode's curvature
 * would have fallen so far, aimed half a unit past the root. On a concave function an iterate past the root
 * stays past it, and one short of it steps past: the first past it by less than one unit of log-density is a
 * safe (wide enough) end.
 */
function tailEnd(posterior: Posterior, direction: 1 | -1): number {
  const { alpha, beta, mode } = posterior;
  const a = alpha - 1;
  const b = beta - 1;
  const edge = direction > 0 ? 1 : 0;
  const curvature = (a > 0 ? a / (mode * mode) : 0) + (b > 0 ? b / ((1 - mode) * (1 - mode)) : 0);
  let x = mode + direction * Math.min(Math.sqrt((2 * TAIL_LOG) / curvature), Math.abs(edge - mode) / 2);
  for (let iteration = 0; iteration < 30; iteration++) {
    const gap = logDensityRelativeToMode(posterior, x) + TAIL_LOG;
    if (gap <= 0 && gap > -1) return x;
    // Newton's step in u (below the mode) or v (above it), aimed half a unit past the root so as to land past it.
    const aim = gap + 0.5;
    const step = direction < 0 ? -aim / (a - (b * x) / (1 - x)) : -aim / (b - (a * (1 - x)) / x);
    if (direction < 0) x *= Math.exp(step);
    else x = 1 - (1 - x) * Math.exp(step);
    // So close to the edge that a double cannot tell them apart: the edge is the end.
    if (!(x > 0 && x < 1)) return edge;
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

/**
 * chanceToBeatBaseline ∫ fₖ F_b over k's segments and expectedLoss ∫ f_b Gₖ over b's (see posteriorComparison
 * for Gₖ), for every k, in one pass over the segments. In the workspace's `chance` and `loss`.
 */
function baselineComparisons(grid: PosteriorGrid, baseline: number): { chance: Float64Array; loss: Float64Array } {
  const { posteriors } = grid;
  const { nodes, weights, basePanel, entryStart, entryPosterior, density, cdf } = grid.segments;
  const k = posteriors.length;
  const N = NODES_PER_PANEL;
  const { chance, loss, entryOf } = workspace;
  chance.fill(0, 0, k);
  loss.fill(0, 0, k);
  entryOf.fill(-1, 0, k);
  const b = posteriors[baseline];
  for (let segment = 0; segment < grid.segments.count; segment++) {
    const first = entryStart[segment];
    const end = entryStart[segment + 1];
    for (let entry = first; entry < end; entry++) entryOf[entryPosterior[entry]] = entry;
    const panel = basePanel[segment];
    const own = entryOf[baseline];
    // P(θₖ > θ_b): F_b is 0 before b's range and 1 after it.
    for (let entry = first; entry < end; entry++) {
      const index = entryPosterior[entry];
      if (index === baseline) continue;
      let sum = 0;
      for (let node = 0; node < N; node++) {
        const below = own >= 0 ? cdf[own * N + node] : panel < b.firstPanel ? 0 : 1;
        sum += weights[segment * N + node] * density[entry * N + node] * below;
      }
      chance[index] += sum;
    }
    // E[max(θ_b − θₖ, 0)] over b's segments: Gₖ is 0 before k's range and x − μₖ after it.
    if (own >= 0) {
      for (let index = 0; index < k; index++) {
        if (index === baseline) continue;
        const outcome = posteriors[index];
        if (panel < outcome.firstPanel) continue;
        const at = entryOf[index];
        const scale = 1 / (outcome.alpha + outcome.beta);
        let sum = 0;
        for (let node = 0; node < N; node++) {
          const x = nodes[segment * N + node];
          const integratedCdf =
            at >= 0
              ? (x - outcome.mean) * cdf[at * N + node] + x * (1 - x) * density[at * N + node] * scale
              : x - outcome.mean;
          sum += weights[segment * N + node] * density[own * N + node] * integratedCdf;
        }
        loss[index] += sum;
      }
    }
    for (let entry = first; entry < end; entry++) entryOf[entryPosterior[entry]] = -1;
  }
  return { chance, loss };
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
  return { nodes: Float64Array.from(nodes), weights: Float64Array.from(weights), cumulative };
}

const LEGENDRE = gaussLegendre(NODES_PER_PANEL);
const CUMULATIVE = Float64Array.from(LEGENDRE.cumulative.flat());
