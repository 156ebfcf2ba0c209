// A brute-force reference for the posterior figures of src/rules/posterior.ts, sharing none of its code or
// layout: every Beta posterior cut at its mean ± 0.25, 0.5, …, 8 standard deviations and beyond, in longer steps,
// to 300 (and at 0 and 1), the union of those points splitting [0, 1]; 10-node Gauss–Legendre on every piece; each CDF at a node as the
// masses of the pieces before it plus a 10-node Gauss–Legendre integral from the piece's start to the node
// (no interpolant), and E[max(θ_b − θₖ, 0)] = ∫ f_b(x)·(x·Fₖ(x) − ∫₀ˣ y fₖ(y) dy) dx, by parts, instead of
// posterior.ts's Beta-function identity; in 1 − θ when a posterior sits near 1. Densities are normalised by
// their own quadrature. Slow (about pieces × 10 × arms × 10 exponentials): for tests with up to a dozen arms.
import type { Arm } from "../../src/rules/statistics";

const ORDER = 10;
const GAUSS = gaussLegendre(ORDER);
// Cuts at the mean ± z standard deviations: z by 0.25 up to 8, then by steps 10 % longer each, up to 300 (the
// tail of an exponential-like posterior, Beta(1, n), still holds e^(−15) beyond 14 standard deviations).
const OFFSETS = (() => {
  const offsets = [0];
  for (let z = 0.25, step = 0.25; z <= 300; z += step) {
    offsets.push(z, -z);
    if (z >= 8) step *= 1.1;
  }
  return offsets;
})();

interface Beta {
  a: number;
  b: number;
  mode: number;
  logNormaliser: number;
}

export interface ReferenceFigures {
  probabilityToBeBest: number[];
  chanceToBeatBaseline: (number | null)[];
  expectedLoss: (number | null)[];
}

export function referencePosteriorFigures(arms: Arm[], baselineIndex: number): ReferenceFigures {
  // Doubles are densest near 0: when a posterior sits near 1, in y = 1 − θ (θ ~ Beta(a, b) is y ~ Beta(b, a)),
  // where the highest θ is the lowest y, P(θₖ > θ_b) = P(yₖ < y_b) and max(θ_b − θₖ, 0) = max(yₖ − y_b, 0).
  const reflected = arms.some(({ successes, trials }) => (1 + successes) / (2 + trials) > 0.5);
  const betas = arms.map(({ successes, trials }) => {
    const a = 1 + (reflected ? trials - successes : successes);
    const b = 1 + (reflected ? successes : trials - successes);
    return { a, b, mode: a + b > 2 ? (a - 1) / (a + b - 2) : 0.5, logNormaliser: 0 };
  });
  const points = new Set<number>([0, 1]);
  for (const { a, b } of betas) {
    const mean = a / (a + b);
    const sd = Math.sqrt((a * b) / ((a + b) ** 2 * (a + b + 1)));
    for (const z of OFFSETS) {
      const x = mean + z * sd;
      if (x > 0 && x < 1) points.add(x);
    }
  }
  const cuts = [...points].sort((left, right) => left - right);
  const xs: number[] = [];
  const ws: number[] = [];
  const pieceOf: number[] = [];
  for (let piece = 0; piece + 1 < cuts.length; piece++) {
    for (const [x, w] of gaussOn(cuts[piece], cuts[piece + 1])) {
      xs.push(x);
      ws.push(w);
      pieceOf.push(piece);
    }
  }
  // Normalisers by quadrature, then per arm: density, CDF and ∫₀ˣ y f(y) dy at every node.
  for (const beta of betas) {
    let mass = 0;
    xs.forEach((x, at) => {
      mass += ws[at] * Math.exp(logRelativeDensity(beta, x));
    });
    beta.logNormaliser = -Math.log(mass);
  }
  const density = betas.map((beta) => xs.map((x) => Math.exp(logRelativeDensity(beta, x) + beta.logNormaliser)));
  const cumulative = (beta: Beta, moment: 0 | 1) => {
    const pieceMass = cuts.slice(1).map((end, piece) => integral(beta, cuts[piece], end, moment));
    const before: number[] = [0];
    for (const mass of pieceMass) before.push(before[before.length - 1] + mass);
    return xs.map((x, at) => before[pieceOf[at]] + integral(beta, cuts[pieceOf[at]], x, moment));
  };
  const cdf = betas.map((beta) => cumulative(beta, 0));

  // ∫ fᵢ Πⱼ≠ᵢ Fⱼ, reflected ∫ fᵢ Πⱼ≠ᵢ (1 − Fⱼ).
  const below = (j: number, at: number) => (reflected ? 1 - cdf[j][at] : cdf[j][at]);
  const probabilityToBeBest = betas.map((_, i) => {
    let sum = 0;
    xs.forEach((_x, at) => {
      let product = ws[at] * density[i][at];
      betas.forEach((_other, j) => {
        if (j !== i) product *= below(j, at);
      });
      sum += product;
    });
    return sum;
  });
  const chanceToBeatBaseline: (number | null)[] = arms.map(() => null);
  const expectedLoss: (number | null)[] = arms.map(() => null);
  const baseline = baselineIndex;
  if (arms[baseline].trials > 0) {
    betas.forEach((_beta, k) => {
      if (k === baseline || arms[k].trials <= 0) return;
      // Reflected: P(yₖ < y_b) = ∫ fₖ (1 − F_b) and E[max(yₖ − y_b, 0)] = ∫ fₖ(y)·(y·F_b(y) − ∫₀ʸ z f_b(z) dz) dy.
      const [loser, winner] = reflected ? [baseline, k] : [k, baseline];
      const firstMoment = cumulative(betas[loser], 1);
      let chance = 0;
      let loss = 0;
      xs.forEach((x, at) => {
        chance += ws[at] * density[k][at] * below(baseline, at);
        loss += ws[at] * density[winner][at] * (x * cdf[loser][at] - firstMoment[at]);
      });
      chanceToBeatBaseline[k] = chance;
      expectedLoss[k] = loss;
    });
  }
  return { probabilityToBeBest, chanceToBeatBaseline, expectedLoss };
}

/** ∫ from `from` to `to` of y^moment f(y) dy, by one 10-node Gauss–Legendre rule. */
function integral(beta: Beta, from: number, to: number, moment: 0 | 1): number {
  let sum = 0;
  for (const [x, w] of gaussOn(from, to)) {
    sum += w * (moment === 1 ? x : 1) * Math.exp(logRelativeDensity(beta, x) + beta.logNormaliser);
  }
  return sum;
}

/** log f(x) up to its constant: (a−1)·log(x/m) + (b−1)·log((1−x)/(1−m)), by log1p of the distance to the mode. */
function logRelativeDensity({ a, b, mode }: Beta, x: number): number {
  let log = 0;
  if (a > 1) log += (a - 1) * Math.log1p((x - mode) / mode);
  if (b > 1) log += (b - 1) * Math.log1p((mode - x) / (1 - mode));
  return log;
}

function gaussOn(from: number, to: number): [number, number][] {
  const half = (to - from) / 2;
  return GAUSS.map(([t, w]) => [from + half * (1 + t), half * w]);
}

/** Gauss–Legendre nodes and weights on [−1, 1] by Newton's method on the Legendre recurrence. */
function gaussLegendre(n: number): [number, number][] {
  const rule: [number, number][] = [];
  for (let i = 0; i < n; i++) {
    let x = Math.cos((Math.PI * (i + 0.75)) / (n + 0.5));
    let derivative = 0;
    for (let iteration = 0; iteration < 100; iteration++) {
      let p0 = 1;
      let p1 = x;
      for (let m = 2; m <= n; m++) [p0, p1] = [p1, ((2 * m - 1) * x * p1 - (m - 1) * p0) / m];
      derivative = (n * (x * p1 - p0)) / (x * x - 1);
      const step = p1 / derivative;
      x -= step;
      if (Math.abs(step) < 1e-16) break;
    }
    rule.push([x, 2 / ((1 - x * x) * derivative * derivative)]);
  }
  return rule;
}
