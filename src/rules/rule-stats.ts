// The figures of a rule's outcome comparison, assembled from its outcomes' counts (pure: no I/O).
// The formulas themselves live in statistics.ts; this decides which apply to which outcome.
import { type FieldIssue, InvalidInput } from "../errors";
import type { RuleSeriesFilter, RuleStatsFilter, SampleSizeInput } from "./rule.input";
import {
  type Arm,
  adjustPValues,
  chiSquarePValue,
  daysRemaining,
  type Interval,
  katzUpliftInterval,
  newcombeDifferenceInterval,
  posteriorComparison,
  relativeUplift,
  sampleSizePerOutcome,
  sequentialDifferenceInterval,
  sequentialPValue,
  twoProportionPValue,
  wilsonInterval,
} from "./statistics";

/** What the counters say of one outcome in the filter's window. */
export interface OutcomeCounts {
  outcomeId: string;
  exposures: number;
  converters: number;
  conversions: number;
  unattributedConversions: number;
  /** UTC day of the outcome's first exposure in the window; null without exposures. */
  firstExposureDay?: string | null;
}

/** One outcome's counts per day of a series' window, from which the running sums follow. */
export interface OutcomeDailyCounts {
  outcomeId: string;
  /** New cohort members (first exposures) per day. */
  exposures: Map<string, number>;
  /** Converters of the window's cohort per day of their first attributed conversion. */
  converters: Map<string, number>;
  /** Attributed conversions of the window's cohort per day of the event. */
  conversions: Map<string, number>;
}

/** The largest value a GraphQL Int carries (2³¹ − 1): sample sizes beyond it are null. */
export const GRAPHQL_INT_MAX = 2 ** 31 - 1;

export interface SampleSize {
  exposuresPerOutcome: number | null;
  daysRemaining: number | null;
}

/** What sampleSize(relativeMde, power) needs: the baseline's rate and every outcome's pace. */
export interface SampleSizePlan {
  baselineRate: number | null;
  confidenceLevel: number;
  /** Every outcome, the baseline included: exposures and UTC days running (both ends counted). */
  outcomes: { exposures: number; daysRunning: number }[];
}

export interface OutcomeStats extends OutcomeCounts {
  conversionRate: number | null;
  confidenceInterval: Interval | null;
  uplift: number | null;
  pValue: number | null;
  probabilityToBeBest: number;
  difference: number | null;
  differenceInterval: Interval | null;
  upliftInterval: Interval | null;
  chanceToBeatBaseline: number | null;
  expectedLoss: number | null;
  sequentialDifferenceInterval: Interval | null;
  sequentialPValue: number | null;
  adjustedPValue: number | null;
  adjustedSequentialPValue: number | null;
  /** Null for the baseline; sampleSizeFor(plan, input) gives the figure. */
  sampleSizePlan: SampleSizePlan | null;
}

export interface RuleStats {
  ruleId: string;
  conversion: string | null;
  from: string | null;
  to: string | null;
  confidenceLevel: number;
  baselineOutcomeId: string | null;
  totalExposures: number;
  sampleRatioMismatchPValue: number | null;
  sampleRatioMismatch: boolean | null;
  crossoverVisitors: number;
  outcomes: OutcomeStats[];
}

/** One outcome's figures as they stood at the end of a day of a series. */
export interface OutcomeDayStats {
  outcomeId: string;
  exposures: number;
  converters: number;
  conversions: number;
  conversionRate: number | null;
  confidenceInterval: Interval | null;
  uplift: number | null;
  pValue: number | null;
  sequentialPValue: number | null;
  /** Null only when the series was made without it (SeriesFigures): never shown then. */
  probabilityToBeBest: number | null;
}

export interface OutcomeDay {
  day: string;
  outcomes: OutcomeDayStats[];
}

export interface RuleSeries {
  ruleId: string;
  conversion: string | null;
  /** The first day of the series; null when it has no days (no exposure to start from). */
  from: string | null;
  to: string;
  confidenceLevel: number;
  sequentialTuning: number;
  baselineOutcomeId: string | null;
  days: OutcomeDay[];
}

/** What the stats need besides the outcomes' counts. */
export interface RuleStatsContext {
  /** Distinct visitors exposed to two or more outcomes of the rule, all time. */
  crossoverVisitors: number;
  /** Today's UTC day (YYYY-MM-DD): the end of every outcome's running time. */
  today: string;
}

type Counts = Pick<OutcomeCounts, "outcomeId" | "exposures" | "converters">;
type Identified = Pick<OutcomeCounts, "outcomeId">;

type Tallies = Pick<OutcomeCounts, "exposures" | "converters">;
const rateOf = (row: Tallies) => (row.exposures > 0 ? row.converters / row.exposures : null);
const armOf = (row: Tallies): Arm => ({ successes: row.converters, trials: row.exposures });

// No figure is ever NaN or Infinity (GraphQL cannot carry them, a CSV would show them as text):
// whatever a formula gives at its numerical edges is null, "undefined here".
const finiteOrNull = (value: number | null): number | null => (value !== null && Number.isFinite(value) ? value : null);

const finiteIntervalOrNull = (interval: Interval | null): Interval | null =>
  interval && Number.isFinite(interval.lower) && Number.isFinite(interval.upper) ? interval : null;

/**
 * probabilityToBeBest cannot be null: when any share is not finite, every outcome gets an equal
 * share (1/k), the answer when the outcomes cannot be told apart, so the shares still sum to 1.
 */
const finiteShares = (shares: number[]): number[] =>
  shares.every(Number.isFinite) ? shares : shares.map(() => 1 / shares.length);

/** The baseline row: the named one (an unknown name is InvalidInput when there are outcomes), else the first. */
function baselineOf<T extends Identified>(filter: RuleSeriesFilter, rows: T[]): T | undefined {
  const baseline = filter.baselineOutcomeId ? rows.find((row) => row.outcomeId === filter.baselineOutcomeId) : rows[0];
  if (filter.baselineOutcomeId && !baseline && rows.length > 0) {
    throw new InvalidInput([
      {
        path: ["baselineOutcomeId"],
        type: "value_error",
        message: `${filter.baselineOutcomeId} is not an outcome of this rule`,
      },
    ]);
  }
  return baseline;
}

/** The expected shares in the outcomes' order; InvalidInput unless they name every outcome exactly once. */
function weightsOf(filter: RuleStatsFilter, rows: Counts[]): number[] | undefined {
  if (!filter.expectedWeights || rows.length === 0) return undefined;
  const issues: FieldIssue[] = [];
  const known = new Set(rows.map((row) => row.outcomeId));
  for (const outcomeId of filter.expectedWeights.keys()) {
    if (!known.has(outcomeId)) {
      issues.push({
        path: ["expectedWeights"],
        type: "value_error",
        message: `${outcomeId} is not an outcome of this rule`,
      });
    }
  }
  const missing = rows.filter((row) => !filter.expectedWeights?.has(row.outcomeId)).map((row) => row.outcomeId);
  if (missing.length > 0) {
    issues.push({
      path: ["expectedWeights"],
      type: "value_error",
      message: `expectedWeights must name every outcome; missing: ${missing.join(", ")}`,
    });
  }
  if (issues.length > 0) throw new InvalidInput(issues);
  return rows.map((row) => filter.expectedWeights?.get(row.outcomeId) as number);
}

/** UTC days from `first` to `last`, both counted (at least 1). */
export function daysBetweenInclusive(first: string, last: string): number {
  const days = Math.round((Date.parse(`${last}T00:00:00Z`) - Date.parse(`${first}T00:00:00Z`)) / 86_400_000) + 1;
  return Math.max(1, days);
}

/**
 * The figures of one outcome against the baseline that the stats and each day of the series both
 * show; every comparison is null without a baseline to compare with (for the baseline itself).
 */
function comparedFigures(row: Tallies, baseline: Tallies | null, level: number, sequentialTuning: number) {
  const rate = rateOf(row);
  const baselineRate = baseline ? rateOf(baseline) : null;
  const against = <T>(figure: (baselineArm: Arm, arm: Arm) => T): T | null =>
    baseline ? figure(armOf(baseline), armOf(row)) : null;
  return {
    rate,
    against,
    conversionRate: finiteOrNull(rate),
    confidenceInterval: finiteIntervalOrNull(wilsonInterval(row.converters, row.exposures, level)),
    uplift: baseline ? finiteOrNull(relativeUplift(rate, baselineRate)) : null,
    pValue: finiteOrNull(against((b, k) => twoProportionPValue(k, b))),
    sequentialPValue: finiteOrNull(against((b, k) => sequentialPValue(b, k, level, sequentialTuning))),
  };
}

/** The statistics of a rule from its outcomes' counts, ordered as given; the baseline is the first unless named. */
export function computeRuleStats(
  filter: RuleStatsFilter,
  rows: OutcomeCounts[],
  context: RuleStatsContext = { crossoverVisitors: 0, today: new Date().toISOString().slice(0, 10) },
): RuleStats {
  const baseline = baselineOf(filter, rows);
  const weights = weightsOf(filter, rows);
  const arms = rows.map(armOf);
  const baselineIndex = baseline ? rows.indexOf(baseline) : null;
  const posterior = posteriorComparison(arms, baselineIndex);
  const best = finiteShares(posterior.probabilityToBeBest);
  const baselineRate = baseline ? rateOf(baseline) : null;
  const level = filter.confidenceLevel;
  const srm = finiteOrNull(
    chiSquarePValue(
      rows.map((row) => row.exposures),
      weights,
    ),
  );
  const plan: SampleSizePlan = {
    baselineRate,
    confidenceLevel: level,
    outcomes: rows.map((row) => ({
      exposures: row.exposures,
      daysRunning: row.firstExposureDay ? daysBetweenInclusive(row.firstExposureDay, context.today) : 1,
    })),
  };
  const outcomes = rows.map((row, index) => {
    const compared = baseline !== undefined && row !== baseline;
    const { rate, against, conversionRate, confidenceInterval, uplift, pValue, sequentialPValue } = comparedFigures(
      row,
      compared && baseline ? baseline : null,
      level,
      filter.sequentialTuning,
    );
    return {
      ...row,
      conversionRate,
      confidenceInterval,
      uplift,
      pValue,
      probabilityToBeBest: best[index],
      difference: compared && rate !== null && baselineRate !== null ? finiteOrNull(rate - baselineRate) : null,
      differenceInterval: finiteIntervalOrNull(against((b, k) => newcombeDifferenceInterval(b, k, level))),
      upliftInterval: finiteIntervalOrNull(against((b, k) => katzUpliftInterval(b, k, level))),
      chanceToBeatBaseline: compared ? finiteOrNull(posterior.chanceToBeatBaseline[index]) : null,
      expectedLoss: compared ? finiteOrNull(posterior.expectedLoss[index]) : null,
      sequentialDifferenceInterval: finiteIntervalOrNull(
        against((b, k) => sequentialDifferenceInterval(b, k, level, filter.sequentialTuning)),
      ),
      sequentialPValue,
      adjustedPValue: null as number | null,
      adjustedSequentialPValue: null as number | null,
      sampleSizePlan: compared ? plan : null,
    };
  });
  // The baseline's p-values are null, so adjusting over every outcome adjusts over the others.
  const adjusted = adjustPValues(
    outcomes.map((outcome) => outcome.pValue),
    filter.pValueAdjustment,
  );
  const adjustedSequential = adjustPValues(
    outcomes.map((outcome) => outcome.sequentialPValue),
    filter.pValueAdjustment,
  );
  outcomes.forEach((outcome, index) => {
    outcome.adjustedPValue = finiteOrNull(adjusted[index]);
    outcome.adjustedSequentialPValue = finiteOrNull(adjustedSequential[index]);
  });
  return {
    ruleId: filter.ruleId,
    conversion: filter.conversion,
    from: filter.from,
    to: filter.to,
    confidenceLevel: level,
    baselineOutcomeId: baseline?.outcomeId ?? null,
    totalExposures: rows.reduce((sum, row) => sum + row.exposures, 0),
    sampleRatioMismatchPValue: srm,
    sampleRatioMismatch: srm === null ? null : srm < filter.srmThreshold,
    crossoverVisitors: context.crossoverVisitors,
    outcomes,
  };
}

/**
 * sampleSize(relativeMde, power) of a non-baseline outcome: the exposures each outcome needs, and
 * the days until every outcome has them at its pace so far. Values beyond GRAPHQL_INT_MAX are null.
 */
export function sampleSizeFor(plan: SampleSizePlan, input: SampleSizeInput): SampleSize {
  const required =
    plan.baselineRate === null
      ? null
      : sampleSizePerOutcome(plan.baselineRate, input.relativeMde, input.power, plan.confidenceLevel);
  const exposuresPerOutcome = required !== null && required <= GRAPHQL_INT_MAX ? required : null;
  const days = exposuresPerOutcome === null ? null : daysRemaining(exposuresPerOutcome, plan.outcomes);
  return { exposuresPerOutcome, daysRemaining: days !== null && days <= GRAPHQL_INT_MAX ? days : null };
}

/** The UTC days from `from` to `to`, both included. */
export function daysFrom(from: string, to: string): string[] {
  const days: string[] = [];
  for (let at = Date.parse(`${from}T00:00:00Z`); at <= Date.parse(`${to}T00:00:00Z`); at += 86_400_000) {
    days.push(new Date(at).toISOString().slice(0, 10));
  }
  return days;
}

/**
 * Every day's arms of a series, day-major: arm i (an outcome's cohort so far, its converters as successes)
 * of day d at d × arms + i. Plain typed arrays, so that the posterior passes can be shared out to worker
 * threads for the cost of a copy.
 */
export interface DailyArms {
  arms: number;
  successes: Float64Array;
  trials: Float64Array;
}

/** probabilityToBeBest of every day of `daily`, laid out as its arms: where a series' time goes. */
export type DailyBestShares = (daily: DailyArms) => Float64Array | Promise<Float64Array>;

/** The posterior pass of each day (about 0.1 ms for 10 outcomes); a day that changed no arm keeps the last one's. */
export function dailyBestShares(daily: DailyArms): Float64Array {
  const shares = new Float64Array(daily.successes.length);
  bestSharesOfDays(daily, shares, 0, daily.successes.length / daily.arms);
  return shares;
}

/**
 * dailyBestShares on this thread between other callbacks: a run of days at a time, yielding to the event
 * loop every SERIES_SLICE_MS (the main thread's share of a long series' passes, beside the worker threads').
 */
export async function dailyBestSharesInSlices(daily: DailyArms): Promise<Float64Array> {
  const shares = new Float64Array(daily.successes.length);
  const days = daily.successes.length / daily.arms;
  const yieldWhenDue = sliceYielder();
  for (let day = 0; day < days; day++) {
    await yieldWhenDue();
    bestSharesOfDays(daily, shares, day, day + 1);
  }
  return shares;
}

/** The posterior pass of each day in [firstDay, endDay) into `shares`; a day whose counts did not change copies the day before. */
function bestSharesOfDays(
  { arms, successes, trials }: DailyArms,
  shares: Float64Array,
  firstDay: number,
  endDay: number,
): void {
  for (let start = firstDay * arms; start < endDay * arms; start += arms) {
    let changed = start === 0;
    for (let index = start; index < start + arms && !changed; index++) {
      changed = successes[index] !== successes[index - arms] || trials[index] !== trials[index - arms];
    }
    if (!changed) {
      shares.copyWithin(start, start - arms, start);
      continue;
    }
    const dayArms: Arm[] = [];
    for (let index = start; index < start + arms; index++) {
      dayArms.push({ successes: successes[index], trials: trials[index] });
    }
    shares.set(finiteShares(posteriorComparison(dayArms, null).probabilityToBeBest), start);
  }
}

/** Work done between two yields to the event loop, at most (a day's other figures take ~15 µs for 10 outcomes). */
const SERIES_SLICE_MS = 10;

/** When this thread's sliced loops last came back from the event loop, and the turn they wait for next. */
let sliceResumedAt = 0;
let nextSliceTurn: Promise<void> | null = null;

/**
 * A check to await between two steps of a long loop: yields to the event loop once SERIES_SLICE_MS have
 * passed since the loop began or this thread's sliced loops last came back. The sliced loops of a thread
 * share one slice and wait for the same turn: a series' figures and its passes here, each with a slice of
 * its own, held the event loop for both slices back to back (/health waited up to 50 ms between them).
 */
function sliceYielder(): () => Promise<void> | undefined {
  const loopStarted = performance.now();
  return () => {
    if (performance.now() - Math.max(loopStarted, sliceResumedAt) <= SERIES_SLICE_MS) return undefined;
    nextSliceTurn ??= new Promise<void>((resolve) =>
      setImmediate(() => {
        nextSliceTurn = null;
        sliceResumedAt = performance.now();
        resolve();
      }),
    );
    return nextSliceTurn;
  };
}

/** The running sums of every (day, outcome) of a series, day-major (day d, outcome i at d × outcomes + i). */
function runningSums(seriesDays: string[], counts: OutcomeDailyCounts[]) {
  const arms = counts.length;
  const exposures = new Float64Array(seriesDays.length * arms);
  const converters = new Float64Array(exposures.length);
  const conversions = new Float64Array(exposures.length);
  seriesDays.forEach((day, dayIndex) => {
    counts.forEach((outcome, index) => {
      const cell = dayIndex * arms + index;
      const before = dayIndex > 0 ? cell - arms : -1;
      exposures[cell] = (before >= 0 ? exposures[before] : 0) + (outcome.exposures.get(day) ?? 0);
      converters[cell] = (before >= 0 ? converters[before] : 0) + (outcome.converters.get(day) ?? 0);
      conversions[cell] = (before >= 0 ? conversions[before] : 0) + (outcome.conversions.get(day) ?? 0);
    });
  });
  return { exposures, converters, conversions };
}

/**
 * The arms of a series' posterior passes (each day's cohorts so far and their converters), as computeRuleSeries
 * hands them to its `bestShares`; InvalidInput, as computeRuleSeries, for an unknown baseline.
 */
export function seriesArms(
  filter: RuleSeriesFilter,
  from: string | null,
  to: string,
  counts: OutcomeDailyCounts[],
): DailyArms {
  baselineOf(filter, counts);
  const { exposures, converters } = runningSums(from === null ? [] : daysFrom(from, to), counts);
  return { arms: counts.length, successes: converters, trials: exposures };
}

/**
 * The series of a rule: for every day of [from, to] (none when `from` is null), each outcome's
 * figures as they stood at the end of that day, from running sums of its daily counts: the cohort
 * first exposed from `from` through the day, and its conversions recorded through the day.
 * Cost: O(days × outcomes) sums and figures, and one posterior pass per day (366 days × 10 outcomes:
 * ~25–35 ms), which `bestShares` computes (rule-figures.ts shares a long series' passes out to worker
 * threads; null leaves them out); the rest yields to the event loop every SERIES_SLICE_MS.
 */
export async function computeRuleSeries(
  filter: RuleSeriesFilter,
  from: string | null,
  to: string,
  counts: OutcomeDailyCounts[],
  bestShares: DailyBestShares | null = dailyBestShares,
): Promise<RuleSeries> {
  const baseline = baselineOf(filter, counts);
  const baselineIndex = baseline ? counts.indexOf(baseline as OutcomeDailyCounts) : -1;
  const level = filter.confidenceLevel;
  const seriesDays = from === null ? [] : daysFrom(from, to);
  const arms = counts.length;
  const { exposures, converters, conversions } = runningSums(seriesDays, counts);
  // The passes (on worker threads, or in slices here) while this thread makes the other figures.
  const passes = bestShares ? Promise.resolve(bestShares({ arms, successes: converters, trials: exposures })) : null;
  // Awaited below; a failure meanwhile must not count as unhandled while this loop yields.
  passes?.catch(() => undefined);
  const yieldWhenDue = sliceYielder();
  const days: OutcomeDay[] = [];
  for (let dayIndex = 0; dayIndex < seriesDays.length; dayIndex++) {
    await yieldWhenDue();
    const tallies = (index: number): Tallies => {
      const cell = dayIndex * arms + index;
      return { exposures: exposures[cell], converters: converters[cell] };
    };
    const baselineTallies = baselineIndex >= 0 ? tallies(baselineIndex) : null;
    const outcomes: OutcomeDayStats[] = [];
    for (let index = 0; index < arms; index++) {
      const cell = dayIndex * arms + index;
      const row = tallies(index);
      const figures = comparedFigures(
        row,
        index !== baselineIndex ? baselineTallies : null,
        level,
        filter.sequentialTuning,
      );
      // Every field written out: V8 (Node 20) takes ~10 µs per object for { ...row, more } (3,660 a series).
      outcomes.push({
        outcomeId: counts[index].outcomeId,
        exposures: exposures[cell],
        converters: converters[cell],
        conversions: conversions[cell],
        conversionRate: figures.conversionRate,
        confidenceInterval: figures.confidenceInterval,
        uplift: figures.uplift,
        pValue: figures.pValue,
        sequentialPValue: figures.sequentialPValue,
        probabilityToBeBest: null,
      });
    }
    days.push({ day: seriesDays[dayIndex], outcomes });
  }
  const best = passes && (await passes);
  if (best) {
    for (let dayIndex = 0; dayIndex < days.length; dayIndex++) {
      const outcomes = days[dayIndex].outcomes;
      for (let index = 0; index < arms; index++) outcomes[index].probabilityToBeBest = best[dayIndex * arms + index];
    }
  }
  return {
    ruleId: filter.ruleId,
    conversion: filter.conversion,
    from,
    to,
    confidenceLevel: level,
    sequentialTuning: filter.sequentialTuning,
    baselineOutcomeId: baseline?.outcomeId ?? null,
    days,
  };
}
