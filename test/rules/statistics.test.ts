// The statistics against reference values computed independently, in Python (python3, mpmath 1.3, scipy 1.17):
// - Wilson bounds and the pooled z-test with mpmath at 30 digits (quantile z = √2·erfinv(level));
// - chi-square p-values with scipy.stats.chisquare(counts, f_exp), f_exp = weights / sum(weights) * sum(counts);
// - Newcombe's interval with mpmath at 40 digits: Wilson bounds as above, then d ∓ mp.sqrt(...) as in the
//   formula; Katz's interval as mp.mpf ratios, r * mp.exp(∓z * s) - 1;
// - the confidence sequence with mpmath at 40 digits, alpha = 1 - mp.mpf(level),
//   rho2 = (-2*mp.log(alpha) + mp.log(1 - 2*mp.log(alpha))) / tuning, h and the p-value exactly as in the formula;
// - Holm and Benjamini–Hochberg on Fraction(p) (exact rationals of the doubles), sorting ascending and taking the
//   running max of min(1, (m - j + 1) p_(j)) / the running min from the top of min(1, m p_(j) / j); BH also
//   checked against scipy.stats.false_discovery_control(p, method="bh");
// - sample sizes with mpmath at 40 digits, z = √2·erfinv(level), z_β = √2·erfinv(2·power − 1), mp.ceil of the formula;
// - days remaining by hand (exact rationals);
// - chance to beat the baseline and expected loss, for small counts as exact rationals (fractions.Fraction with
//   B(x, y) = (x−1)!(y−1)!/(x+y−1)!): P(θ_k > θ_b) by Evan Miller's sum
//   Σ_{i<a_k} B(a_b+i, b_b+b_k) / ((b_k+i) B(1+i, b_k) B(a_b, b_b)), and
//   E[max(θ_b − θ_k, 0)] = μ_b·P(Beta(a_b+1, b_b) > θ_k) − μ_k·P(θ_b > Beta(a_k+1, b_k)); for a million trials
//   with scipy.integrate.quad (epsrel 1e-13) of beta.pdf(x, a_k, b_k)·beta.cdf(x, a_b, b_b) and of
//   beta.cdf(u, a_k, b_k)·beta.sf(u, a_b, b_b) (= E[max(θ_b − θ_k, 0)]), split at the means ± 0.5, 1, …, 40 sds
//   (the exact-rational pairs were checked against the same quad to 1e-12);
// - probability to be best with scipy.integrate.quad over beta.pdf(x, a_i, b_i) × Π_{j≠i} beta.cdf(x, a_j, b_j)
//   (epsrel 1e-12), over the mean ± 45 sds of arm i split as above (181 equal pieces for the 100 arms), and
//   with mpmath.quad at 30 digits for the two-arm case; each reference set sums to 1 within 2e-11.
// Posterior figures are compared to 1e-6 absolute as required (they agree to about 1e-10), the rest to 1e-9 relative.
import { describe, expect, it } from "vitest";
import {
  type Arm,
  adjustPValues,
  chiSquarePValue,
  daysRemaining,
  equalSplitChiSquarePValue,
  katzUpliftInterval,
  newcombeDifferenceInterval,
  normalQuantileFinite,
  posteriorComparison,
  probabilityToBeBest,
  relativeUplift,
  sampleSizePerOutcome,
  sequentialDifferenceInterval,
  sequentialPValue,
  twoProportionPValue,
  twoSidedNormalQuantile,
  wilsonInterval,
} from "../../src/rules/statistics";

const arm = (successes: number, trials: number): Arm => ({ successes, trials });
const pair = ([successes, trials]: number[]) => arm(successes, trials);

/** |actual − expected| within 1e-9 relative (or a tiny absolute amount around 0). */
function expectClose(actual: number | null | undefined, expected: number, relative = 1e-9) {
  expect(actual).not.toBeNull();
  expect(Math.abs((actual as number) - expected)).toBeLessThanOrEqual(relative * Math.abs(expected) + 1e-15);
}

/** Every number of a result is finite: no NaN, no Infinity. */
function expectFinite(value: unknown) {
  JSON.stringify(value, (_key, item) => {
    if (typeof item === "number") expect(Number.isFinite(item)).toBe(true);
    return item;
  });
}

// Reference values (see the header for how each was computed).
const NEWCOMBE: [number[], number[], number, number[]][] = [
  [[50, 1000], [80, 1000], 0.95, [0.008386683911944814, 0.05195222178494294]],
  [[0, 10], [3, 7], 0.9, [0.10612706692052726, 0.7105229089864072]],
  [[10, 10], [9, 10], 0.99, [-0.5072317712328935, 0.30847857373058807]],
  [[1000, 100000], [1100, 100000], 0.95, [0.00010639507919506984, 0.0018948021398224816]],
  [[1, 2], [0, 5], 0.8, [-0.8357482799701007, -0.08303118292269059]],
];
const KATZ: [number[], number[], number, number[]][] = [
  [[50, 1000], [80, 1000], 0.95, [0.1362241714142427, 1.2530765181782773]],
  [[2, 10], [3, 7], 0.9, [-0.39456359509631006, 6.584341968045886]],
  [[10, 10], [9, 10], 0.99, [-0.3139993916335956, 0.1807569703602441]],
  [[1000, 100000], [1100, 100000], 0.95, [0.010174355560009516, 0.19781302439539095]],
  [[5, 5], [7, 7], 0.95, [0.0, 0.0]],
];
const SEQUENTIAL: [number[], number[], number, number, number[]][] = [
  [[50, 1000], [80, 1000], 0.95, 5000, [-0.004375766071828075, 0.06437576607182807, 0.12108228455752493]],
  [[500, 10000], [560, 10000], 0.95, 5000, [-0.003906784471104502, 0.015906784471104503, 1.0]],
  [[3, 10], [3, 10], 0.9, 1000, [-1.3289193299950885, 1.3289193299950885, 1.0]],
  [[0, 100], [5, 120], 0.99, 100, [-0.024040124967786503, 0.10737345830111983, 0.4174497256500269]],
  [[20000, 400000], [20700, 400000], 0.95, 5000, [-3.17434504383306e-5, 0.0035317434504383307, 0.06305573242342725]],
  [[1000, 1000], [990, 1000], 0.95, 1, [-0.022453191264940386, 0.0024531912649403864, 0.8073566854494258]],
];
const HOLM: (number | null)[][][] = [
  [
    [0.01, 0.04, 0.03, 0.005],
    [0.03, 0.06, 0.06, 0.02],
  ],
  [
    [0.2, null, 0.01, 0.5, 0.04, null],
    [0.4, null, 0.04, 0.5, 0.12, null],
  ],
  [
    [0.9, 0.8, 0.95],
    [1.0, 1.0, 1.0],
  ],
  [
    [0.001, 0.001, 0.3, 0.02, 0.5, 0.049],
    [0.006, 0.006, 0.6, 0.08, 0.6, 0.14700000000000002],
  ],
];
const BENJAMINI_HOCHBERG: (number | null)[][][] = [
  [
    [0.01, 0.04, 0.03, 0.005],
    [0.02, 0.04, 0.04, 0.02],
  ],
  [
    [0.2, null, 0.01, 0.5, 0.04, null],
    [0.26666666666666666, null, 0.04, 0.5, 0.08, null],
  ],
  [
    [0.9, 0.8, 0.95],
    [0.95, 0.95, 0.95],
  ],
  [
    [0.001, 0.001, 0.3, 0.02, 0.5, 0.049],
    [0.003, 0.003, 0.36, 0.04, 0.5, 0.07350000000000001],
  ],
];
const CHI_SQUARE: [number[], number[], number][] = [
  [[1000, 1100], [1, 1], 0.029096331741252267],
  [[1000, 1100], [1, 1.2], 0.046365826437845356],
  [[500, 260, 240], [2, 1, 1], 0.6703200460356394],
  [[7, 9, 2], [0.5, 0.3, 0.2], 0.16901331540606593],
  [[5000, 5000, 5300], [3, 3, 3], 0.0027882170400494247],
  [[300, 100], [3, 1], 1.0],
];
const SAMPLE_SIZE: [number[], number[]][] = [
  [
    [0.05, 0.1, 0.8, 0.95],
    [31233.43794013, 31234],
  ],
  [
    [0.2, -0.1, 0.9, 0.99],
    [11447.21644228663, 11448],
  ],
  [
    [0.01, 0.5, 0.8, 0.9],
    [6104.228843960961, 6105],
  ],
  [
    [0.5, 0.5, 0.8, 0.95],
    [57.67343673890837, 58],
  ],
  [
    [0.03, 0.02, 0.95, 0.95],
    [2121160.3689234, 2121161],
  ],
  [
    [0.1, 0.1, 0.3, 0.95],
    [3873.72988356998, 3874],
  ],
];
const POSTERIOR_PAIRS: [number[], number[], number, number, string][] = [
  [[50, 1000], [80, 1000], 0.9967464265476232, 1.1007013953736188e-5, "exact"],
  [[80, 1000], [50, 1000], 0.0032535734523767984, 0.029951126774432776, "exact"],
  [[10, 10], [0, 10], 1.4175710770138016e-6, 0.8333333949668584, "exact"],
  [[0, 10], [10, 10], 0.999998582428923, 6.163352508755658e-8, "exact"],
  [[3, 10], [3, 10], 0.5, 0.07403419033517297, "exact"],
  [[1, 3], [2, 4], 0.6428571428571429, 0.06904761904761905, "exact"],
  [[0, 1000000], [1, 1000000], 0.7500001249999376, 2.4999912500223616e-7, "scipy"],
  [[1000000, 1000000], [999999, 1000000], 0.24999987499835546, 1.249997125007901e-6, "scipy"],
  [[500000, 1000000], [500400, 1000000], 0.7141960913051244, 0.00012606367139672824, "scipy"],
  [[50000, 1000000], [49000, 1000000], 0.0005572110000168981, 0.0010000434280607459, "scipy"],
  [[5, 1000000], [0, 10], 0.9999340024419326, 2.3099268518456513e-10, "scipy"],
  [[123456, 10000000], [1, 1], 0.9998475825331488, 6.272433504356393e-7, "scipy"],
];
const PROBABILITY_TO_BE_BEST: Record<string, [number[][], number[]]> = {
  narrowNearZero: [
    [
      [0, 1000000],
      [1, 1000000],
      [2, 1000000],
    ],
    [0.0787035763890105, 0.2847220856481979, 0.6365743379629482],
  ],
  allConverted: [
    [
      [1000000, 1000000],
      [999999, 1000000],
      [10, 10],
    ],
    [0.7499946250303431, 0.2499971250244802, 8.249932625401142e-6],
  ],
  narrowMiddle: [
    [
      [500000, 1000000],
      [500400, 1000000],
      [499800, 1000000],
    ],
    [0.2385576209763536, 0.6269062341460554, 0.1345361448775765],
  ],
  veryDifferent: [
    [
      [1, 1000],
      [900, 1000],
      [5, 10],
      [0, 0],
    ],
    [0.0, 0.8988940932148012, 0.0003130352906914015, 0.10079287149450718],
  ],
};
// 100 arms: trials 1000 + 37i, successes ⌊trials·(500 + (7919i mod 100)) / 10000⌋, i = 0…99.
const HUNDRED_ARMS = Array.from({ length: 100 }, (_, i) => {
  const trials = 1000 + 37 * i;
  return arm(Math.floor((trials * (500 + ((i * 7919) % 100))) / 10000), trials);
});
const HUNDRED_PROBABILITIES = [
  0.007983172752809546, 0.010609902981161904, 0.01887114932965899, 0.0313500823887754, 0.06281784720809573,
  0.09161368605849085, 0.0054062938166995825, 0.013081200735875593, 0.02142358456105766, 0.042501460806919786,
  0.0620521235062574, 0.0028253555897252472, 0.006870052125289591, 0.014906971121122606, 0.023074137811771925,
  0.04282219275425548, 0.0015078411769483642, 0.0036775085910354444, 0.008083103359271928, 0.016212775666778093,
  0.030010369774438876, 0.06267200607704376, 0.0014738678273218775, 0.004443545130453425, 0.009058761202426,
  0.021308166958664238, 0.044642535615901556, 0.0008138043637436818, 0.0024733506487720973, 0.006541742910530376,
  0.015301528860321356, 0.03213157346990786, 0.00033264063916568976, 0.001392526363551471, 0.0037386315790853093,
  0.008933983941841538, 0.023340727328438397, 0.00018860529201894708, 0.0005974538661653906, 0.0021539263263288502,
  0.005243036914029627, 0.014092900794035468, 0.03307379988037526, 0.00025662796273194966, 0.0009676407861597401,
  0.003093160709321913, 0.010398510139238362, 0.024519536007871053, 0.00014868447517374774, 0.0005648149781106182,
  0.0018345915470319957, 0.0063368572998532, 0.015355119746057681, 6.462932697567335e-5, 0.00025456604237851044,
  0.0010939821501549161, 0.0038706429233992343, 0.01151023281964797, 2.072761530627727e-5, 0.0001146712156482671,
  0.0005155613860298084, 0.0023705569353360345, 0.007243293724425216, 0.019052578887508217, 5.168686099354328e-5,
  0.0003100621732200022, 0.0011748032967646047, 0.004560172905791273, 0.01450702890864104, 2.3333443210359765e-5,
  0.00014612287078393543, 0.0007217401768757366, 0.002873507831430234, 0.009425805264221624, 1.0557538618284762e-5,
  6.873332649739907e-5, 0.0003555283471488819, 0.0014899480786311511, 0.006117688955906004, 3.557980134604032e-6,
  2.4782384045367337e-5, 0.00017429947934190557, 0.0009385501501436424, 0.0033331603081915057, 0.011652523804263725,
  1.159221498586331e-5, 8.514819096352847e-5, 0.0004822043098575551, 0.002153908551848767, 0.007767702710587911,
  4.110425532973403e-6, 4.149180547043425e-5, 0.00024620183446083846, 0.0011578613027451144, 0.005169758732620599,
  1.9207094563313683e-6, 1.5713344507293695e-5, 0.0001250679669546364, 0.0006172356733718994, 0.0029195733568586706,
];

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

describe("confidence levels", () => {
  it("refuses levels whose two-sided quantile is not finite", () => {
    expectClose(twoSidedNormalQuantile(0.95), 1.959963984540054);
    expect(normalQuantileFinite(0.95)).toBe(true);
    expect(normalQuantileFinite(0.999999)).toBe(true);
    for (const level of [0.9999999999999999, 1, 0, -0.5, 1.5, Number.NaN]) {
      expect(normalQuantileFinite(level)).toBe(false);
      expect(twoSidedNormalQuantile(level)).toBeNull();
    }
  });

  it("gives null, never NaN or Infinity, at such a level", () => {
    const level = 0.9999999999999999;
    expect(wilsonInterval(5, 10, level)).toBeNull();
    expect(newcombeDifferenceInterval(arm(5, 10), arm(6, 10), level)).toBeNull();
    expect(katzUpliftInterval(arm(5, 10), arm(6, 10), level)).toBeNull();
    expect(sampleSizePerOutcome(0.05, 0.1, 0.8, level)).toBeNull();
    expectFinite(sequentialDifferenceInterval(arm(5, 10), arm(6, 10), level));
    expectFinite(sequentialPValue(arm(5, 10), arm(6, 10), level));
  });
});

describe("newcombeDifferenceInterval", () => {
  it.each(NEWCOMBE)("baseline %j, outcome %j at %f", (baseline, outcome, level, [lower, upper]) => {
    const interval = newcombeDifferenceInterval(pair(baseline), pair(outcome), level);
    expectClose(interval?.lower, lower);
    expectClose(interval?.upper, upper);
  });

  it("is undefined without trials on either side", () => {
    expect(newcombeDifferenceInterval(arm(0, 0), arm(1, 10), 0.95)).toBeNull();
    expect(newcombeDifferenceInterval(arm(1, 10), arm(0, 0), 0.95)).toBeNull();
  });
});

describe("katzUpliftInterval", () => {
  it.each(KATZ)("baseline %j, outcome %j at %f", (baseline, outcome, level, [lower, upper]) => {
    const interval = katzUpliftInterval(pair(baseline), pair(outcome), level);
    expectClose(interval?.lower, lower);
    expectClose(interval?.upper, upper);
  });

  it("is undefined without successes or trials on either side", () => {
    expect(katzUpliftInterval(arm(0, 10), arm(3, 10), 0.95)).toBeNull();
    expect(katzUpliftInterval(arm(3, 10), arm(0, 10), 0.95)).toBeNull();
    expect(katzUpliftInterval(arm(0, 0), arm(3, 10), 0.95)).toBeNull();
  });
});

describe("sequential confidence sequence", () => {
  it.each(SEQUENTIAL)(
    "baseline %j, outcome %j at %f, N* = %i",
    (baseline, outcome, level, tuning, [lower, upper, p]) => {
      const interval = sequentialDifferenceInterval(pair(baseline), pair(outcome), level, tuning);
      expectClose(interval?.lower, lower);
      expectClose(interval?.upper, upper);
      expectClose(sequentialPValue(pair(baseline), pair(outcome), level, tuning), p);
    },
  );

  it("defaults N* to 5000", () => {
    const [baseline, outcome, level, , [lower, , p]] = SEQUENTIAL[0];
    expectClose(sequentialDifferenceInterval(pair(baseline), pair(outcome), level)?.lower, lower);
    expectClose(sequentialPValue(pair(baseline), pair(outcome), level), p);
  });

  it("has a p-value below α exactly when the interval excludes 0", () => {
    // A deterministic spread of counts, levels and tunings (Park–Miller minimal standard generator).
    let seed = 12345;
    const next = () => {
      seed = (seed * 16807) % 2147483647;
      return seed / 2147483647;
    };
    let excluded = 0;
    for (let run = 0; run < 5000; run++) {
      const nb = 1 + Math.floor(next() * 20000);
      const nk = 1 + Math.floor(next() * 20000);
      const rate = 0.01 + next() * 0.3;
      const baseline = arm(Math.floor(nb * rate), nb);
      const outcome = arm(Math.floor(nk * rate * (0.8 + next() * 0.4)), nk);
      const level = [0.8, 0.9, 0.95, 0.99][run % 4];
      const tuning = [100, 1000, 5000, 100000][Math.floor(run / 4) % 4];
      const interval = sequentialDifferenceInterval(baseline, outcome, level, tuning);
      const p = sequentialPValue(baseline, outcome, level, tuning);
      if (interval === null || p === null) continue;
      const excludesZero = interval.lower > 0 || interval.upper < 0;
      if (excludesZero) excluded++;
      expect(p < 1 - level).toBe(excludesZero);
    }
    expect(excluded).toBeGreaterThan(100);
  });

  it("is undefined without trials or without variance", () => {
    expect(sequentialPValue(arm(0, 0), arm(1, 10), 0.95)).toBeNull();
    expect(sequentialPValue(arm(0, 10), arm(0, 20), 0.95)).toBeNull();
    expect(sequentialDifferenceInterval(arm(10, 10), arm(0, 20), 0.95)).toBeNull();
    expect(sequentialDifferenceInterval(arm(1, 10), arm(2, 20), 0.95, 0)).toBeNull();
  });
});

describe("adjustPValues", () => {
  it.each(HOLM)("Holm %j", (pValues, expected) => {
    adjustPValues(pValues, "HOLM").forEach((value, index) => {
      if (expected[index] === null) expect(value).toBeNull();
      else expectClose(value, expected[index] as number, 1e-15);
    });
  });

  it.each(BENJAMINI_HOCHBERG)("Benjamini–Hochberg %j", (pValues, expected) => {
    adjustPValues(pValues, "BENJAMINI_HOCHBERG").forEach((value, index) => {
      if (expected[index] === null) expect(value).toBeNull();
      else expectClose(value, expected[index] as number, 1e-15);
    });
  });

  it("leaves the values as they are with NONE, and handles no values", () => {
    expect(adjustPValues([0.2, null, 0.01], "NONE")).toEqual([0.2, null, 0.01]);
    expect(adjustPValues([], "HOLM")).toEqual([]);
    expect(adjustPValues([null, null], "BENJAMINI_HOCHBERG")).toEqual([null, null]);
  });
});

describe("chiSquarePValue", () => {
  it.each(CHI_SQUARE)("counts %j against weights %j", (counts, weights, expected) => {
    expectClose(chiSquarePValue(counts, weights), expected);
  });

  it("is the equal split without weights", () => {
    expect(chiSquarePValue([7, 9, 2])).toBe(equalSplitChiSquarePValue([7, 9, 2]));
  });

  it("takes weights at the ends of the doubles: only their shares count", () => {
    // Equal weights near the largest double are an equal split (Σw would overflow to Infinity).
    expect(chiSquarePValue([35, 36, 27], [1e308, 1e308, 1e308])).toBe(equalSplitChiSquarePValue([35, 36, 27]));
    expectClose(
      chiSquarePValue([35, 36, 27], [3e307, 6e307, 3e307]),
      chiSquarePValue([35, 36, 27], [1, 2, 1]) as number,
    );
    // A share at the smallest double expects next to nothing there: 35 observations in it are as unlikely as
    // can be; none are what it expects.
    expect(chiSquarePValue([35, 36, 27], [5e-324, 1, 1])).toBe(0);
    expectClose(
      chiSquarePValue([0, 36, 27], [5e-324, 1, 1]) as number,
      Math.exp(-((36 - 31.5) ** 2 + (27 - 31.5) ** 2) / 31.5 / 2),
    );
  });

  it("is undefined for fewer than two groups, no data, or unusable weights", () => {
    expect(chiSquarePValue([10], [1])).toBeNull();
    expect(chiSquarePValue([0, 0], [1, 2])).toBeNull();
    expect(chiSquarePValue([3, 4], [1])).toBeNull();
    expect(chiSquarePValue([3, 4], [1, 0])).toBeNull();
    expect(chiSquarePValue([3, 4], [1, Number.POSITIVE_INFINITY])).toBeNull();
  });
});

describe("sampleSizePerOutcome", () => {
  it.each(SAMPLE_SIZE)("baseline, MDE, power, level = %j", ([baselineRate, mde, power, level], [, expected]) => {
    expect(sampleSizePerOutcome(baselineRate, mde, power, level)).toBe(expected);
  });

  it("is undefined at a zero baseline, a rate outside (0, 1), no effect or an unusable power", () => {
    expect(sampleSizePerOutcome(0, 0.1, 0.8, 0.95)).toBeNull();
    expect(sampleSizePerOutcome(0.6, 1, 0.8, 0.95)).toBeNull();
    expect(sampleSizePerOutcome(0.5, -1, 0.8, 0.95)).toBeNull();
    expect(sampleSizePerOutcome(0.5, 0, 0.8, 0.95)).toBeNull();
    expect(sampleSizePerOutcome(0.5, 0.1, 1, 0.95)).toBeNull();
    expect(sampleSizePerOutcome(0.5, 0.1, 0, 0.95)).toBeNull();
  });
});

describe("daysRemaining", () => {
  it("is the slowest outcome's days to the required exposures at its own pace", () => {
    // 1000 needed: 600 in 3 days (200/day) needs 2 more days; 250 in 5 days (50/day) needs 15.
    expect(
      daysRemaining(1000, [
        { exposures: 600, daysRunning: 3 },
        { exposures: 250, daysRunning: 5 },
      ]),
    ).toBe(15);
    // 7 missing at 3 per day: ⌈7/3⌉ = 3; a day count below 1 counts as 1.
    expect(daysRemaining(10, [{ exposures: 3, daysRunning: 0 }])).toBe(3);
    expect(
      daysRemaining(100, [
        { exposures: 100, daysRunning: 4 },
        { exposures: 150, daysRunning: 2 },
      ]),
    ).toBe(0);
  });

  it("is undefined without a sample size, without outcomes, or with an outcome never exposed", () => {
    expect(daysRemaining(null, [{ exposures: 10, daysRunning: 1 }])).toBeNull();
    expect(daysRemaining(100, [])).toBeNull();
    expect(
      daysRemaining(100, [
        { exposures: 10, daysRunning: 1 },
        { exposures: 0, daysRunning: 1 },
      ]),
    ).toBeNull();
  });
});

describe("posteriorComparison", () => {
  it.each(POSTERIOR_PAIRS)("baseline %j, outcome %j", (baseline, outcome, chance, loss) => {
    const result = posteriorComparison([pair(baseline), pair(outcome)], 0);
    expect(Math.abs((result.chanceToBeatBaseline[1] as number) - chance)).toBeLessThanOrEqual(1e-6);
    expect(Math.abs((result.expectedLoss[1] as number) - loss)).toBeLessThanOrEqual(Math.max(1e-6 * loss, 1e-9));
    // Much tighter in fact: both agree with the references to 1e-10.
    expect(Math.abs((result.chanceToBeatBaseline[1] as number) - chance)).toBeLessThanOrEqual(1e-10);
    expect(Math.abs((result.expectedLoss[1] as number) - loss)).toBeLessThanOrEqual(1e-10 * loss + 1e-15);
    expect(result.chanceToBeatBaseline[0]).toBeNull();
    expect(result.expectedLoss[0]).toBeNull();
  });

  it.each(Object.entries(PROBABILITY_TO_BE_BEST))("probability to be best: %s", (_name, [arms, expected]) => {
    const result = posteriorComparison(arms.map(pair), 0);
    expect(Math.abs(result.totalBeforeNormalising - 1)).toBeLessThan(1e-9);
    result.probabilityToBeBest.forEach((probability, index) => {
      expect(Math.abs(probability - expected[index])).toBeLessThan(1e-6);
      expect(Math.abs(probability - expected[index])).toBeLessThan(1e-9);
    });
  });

  it("probability to be best of 100 arms", () => {
    const result = posteriorComparison(HUNDRED_ARMS, 0);
    expect(Math.abs(result.totalBeforeNormalising - 1)).toBeLessThan(1e-9);
    result.probabilityToBeBest.forEach((probability, index) => {
      expect(Math.abs(probability - HUNDRED_PROBABILITIES[index])).toBeLessThan(1e-6);
    });
    expect(result.probabilityToBeBest.reduce((sum, value) => sum + value, 0)).toBeCloseTo(1, 12);
    expectFinite(result);
  });

  it.each([
    ["uniform posteriors", 0, 0],
    ["no conversion in a million", 0, 1_000_000],
    ["every one converted of a million", 1_000_000, 1_000_000],
    ["narrow in the middle", 500_000, 1_000_000],
    ["small counts", 3, 10],
  ])("splits evenly between 100 identical arms: %s", (_name, successes, trials) => {
    const arms = Array.from({ length: 100 }, () => arm(successes, trials));
    const result = posteriorComparison(arms, 0);
    expect(Math.abs(result.totalBeforeNormalising - 1)).toBeLessThan(1e-9);
    for (const probability of result.probabilityToBeBest) expect(Math.abs(probability - 0.01)).toBeLessThan(1e-12);
    for (const chance of result.chanceToBeatBaseline.slice(1)) {
      if (trials === 0) expect(chance).toBeNull();
      else expect(Math.abs((chance as number) - 0.5)).toBeLessThan(1e-9);
    }
  });

  it("gives null figures against the baseline for the baseline, no trials on either side, or no baseline", () => {
    const withEmpty = posteriorComparison([arm(5, 100), arm(0, 0), arm(7, 100)], 0);
    expect(withEmpty.chanceToBeatBaseline).toEqual([null, null, expect.any(Number)]);
    expect(withEmpty.expectedLoss).toEqual([null, null, expect.any(Number)]);
    const emptyBaseline = posteriorComparison([arm(0, 0), arm(5, 100)], 0);
    expect(emptyBaseline.chanceToBeatBaseline).toEqual([null, null]);
    expect(emptyBaseline.probabilityToBeBest.reduce((sum, value) => sum + value, 0)).toBeCloseTo(1, 12);
    expect(posteriorComparison([arm(5, 100), arm(6, 100)], null).chanceToBeatBaseline).toEqual([null, null]);
    expect(posteriorComparison([], 0)).toMatchObject({ probabilityToBeBest: [], chanceToBeatBaseline: [] });
  });

  it("keeps probabilityToBeBest as the same figure", () => {
    const arms = [arm(120, 2400), arm(131, 2390), arm(118, 2410)];
    expect(probabilityToBeBest(arms)).toEqual(posteriorComparison(arms, 1).probabilityToBeBest);
  });
});
