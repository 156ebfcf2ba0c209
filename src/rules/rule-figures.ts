// Where a rule's figures are assembled: on the event loop when their predicted cost is small, else on the
// statistics worker threads (rule-figures.worker.ts), so that no computation holds the event loop for long.
import { LRUCache } from "lru-cache";
import { type FieldIssue, InvalidInput } from "../errors";
import { compiledScript, type WorkerPool } from "../workers/worker-pool";
import { outcomeSeriesCsv } from "./outcome-stats.csv";
import type { RuleSeriesFilter, RuleStatsFilter } from "./rule.input";
import {
  computeRuleSeries,
  computeRuleStats,
  type DailyArms,
  dailyBestShares,
  dailyBestSharesInSlices,
  daysBetweenInclusive,
  daysFrom,
  type OutcomeCounts,
  type OutcomeDailyCounts,
  type RuleSeries,
  type RuleStats,
  type RuleStatsContext,
  seriesArms,
} from "./rule-stats";

/** The worker threads' script (see WorkerPool). */
export const RULE_FIGURES_WORKER = compiledScript(__dirname, "rule-figures.worker");

/** The worker threads' warm-up task (WorkerPool's warmUp; the worker runs warmUpWorker). */
export const RULE_FIGURES_WARM_UP = { task: "warmUp", input: null } as const;

/** Figures predicted to cost more than this (ms of CPU) are assembled on a worker thread. */
export const INLINE_BUDGET_MS = 10;
/** This thread's run of a long series' passes, as a fraction of one worker thread's run. */
const MAIN_THREAD_SHARE = 0.6;
/**
 * Days' posterior passes remembered (by their arms' exact counts), at most: ~150 bytes of key and 80 of shares
 * each for 10 outcomes, a few MB in all; 55 series of 366 days.
 */
export const REMEMBERED_PASSES = 20_000;
/** The predicted CPU time (ms) of one day's posterior pass of so many arms (~0.1 ms for 10). */
const passMs = (arms: number) => 0.015 * arms;

/**
 * The predicted CPU time (ms) of a series, on the 2-core development machine: 7–15 µs per outcome and day
 * measured with the posterior passes, about 1.5 µs without, plus a day's overhead.
 */
export function predictedSeriesMs(outcomes: number, days: number, { probabilityToBeBest }: SeriesFigures): number {
  return days * (0.002 + (probabilityToBeBest ? passMs(outcomes) : 0.0015 * outcomes));
}

/** ... and of its CSV, which costs about 30 µs a row (csv-stringify) more. */
export function predictedSeriesCsvMs(outcomes: number, days: number): number {
  return predictedSeriesMs(outcomes, days, { probabilityToBeBest: true }) + 0.03 * outcomes * days;
}

/** The predicted CPU time (ms) of the stats: measured 0.7 ms for 10 outcomes, 10–18 for 100, 100–250 for 1,000. */
export function predictedStatsMs(outcomes: number): number {
  return 0.2 * outcomes + 0.0003 * outcomes * outcomes;
}

/** The figures of a series that cost to make and may be left out (the CSV has them all). */
export interface SeriesFigures {
  /** Each day's posterior pass: nearly all of a long series' cost; without it, probabilityToBeBest is null. */
  probabilityToBeBest: boolean;
}

export interface SeriesTask {
  filter: RuleSeriesFilter;
  from: string | null;
  to: string;
  counts: OutcomeDailyCounts[];
  /** probabilityToBeBest of every (day, outcome) when already computed, laid out as seriesArms' cells. */
  bestShares?: Float64Array;
}

export interface StatsTask {
  filter: RuleStatsFilter;
  rows: OutcomeCounts[];
  context: RuleStatsContext;
}

/** A worker's answer: the figures, or the issues of an InvalidInput (a structured clone drops the class). */
export type Answer<T> = { figures: T } | { invalidInput: FieldIssue[] };

/** The figures computed, as an Answer (on the worker thread). */
export async function answerOf<T>(compute: () => T | Promise<T>): Promise<Answer<T>> {
  try {
    return { figures: await compute() };
  } catch (error) {
    if (error instanceof InvalidInput) return { invalidInput: error.issues };
    throw error;
  }
}

const daysOf = ({ from, to }: SeriesTask) => (from === null ? 0 : daysBetweenInclusive(from, to));

/** The series of a task (on either thread). */
export const seriesOf = ({ filter, from, to, counts, bestShares }: SeriesTask) =>
  computeRuleSeries(filter, from, to, counts, bestShares ? () => bestShares : dailyBestShares);

/** The series of a task as CSV (on either thread). */
export const seriesCsvOf = async (task: SeriesTask) => outcomeSeriesCsv(await seriesOf(task));

/** The stats of a task (on either thread). */
export const statsOf = ({ filter, rows, context }: StatsTask) => computeRuleStats(filter, rows, context);

/** Days of the warm-up series, and its rounds: V8 had compiled the posterior code fully after three or four. */
const WARM_UP_DAYS = 120;
const WARM_UP_ROUNDS = 4;

/**
 * A synthetic series as long series are (10 outcomes whose counts change every day, a posterior pass a day),
 * computed WARM_UP_ROUNDS times by each thread at start (warmUpWorker, RuleFigures.warmUp). Measured: the first
 * real run of 229 days' passes took 93 ms cold, 56 ms after one round, 10–12 ms after three (as every later run).
 */
function warmUpTask(): SeriesTask {
  const days = daysFrom("2026-01-01", "2026-12-31").slice(0, WARM_UP_DAYS);
  const counts = Array.from({ length: 10 }, (_, outcome): OutcomeDailyCounts => {
    const daily = (scale: number) => new Map(days.map((day, index) => [day, scale + ((outcome * 7 + index) % 5)]));
    return { outcomeId: `warm-up-${outcome}`, exposures: daily(200), converters: daily(5), conversions: daily(6) };
  });
  const filter: RuleSeriesFilter = {
    ruleId: "warm-up",
    conversion: null,
    from: days[0],
    to: days[days.length - 1],
    baselineOutcomeId: null,
    confidenceLevel: 0.95,
    sequentialTuning: 5000,
  };
  return { filter, from: days[0], to: days[days.length - 1], counts };
}

/** The warm-up series, every figure (for the GraphQL warm-up, rule.warm-up.ts). */
export const warmUpSeries = (): Promise<RuleSeries> => seriesOf(warmUpTask());

/** A worker thread's warm-up: the warm-up series as CSV (every figure and the CSV's code), round after round. */
export async function warmUpWorker(): Promise<void> {
  const task = warmUpTask();
  for (let round = 0; round < WARM_UP_ROUNDS; round++) await seriesCsvOf(task);
}

/** A day's arms as a key: every arm's successes and trials, in order (a pass depends on nothing else). */
function armsKey({ arms, successes, trials }: DailyArms, start: number): string {
  let key = "";
  for (let index = start; index < start + arms; index++) key += `${successes[index]}/${trials[index]},`;
  return key;
}

/** The cells of the days starting at `starts`, one day after another. */
function gatherDays(cells: Float64Array, starts: number[], arms: number): Float64Array {
  const gathered = new Float64Array(starts.length * arms);
  starts.forEach((start, day) => {
    gathered.set(cells.subarray(start, start + arms), day * arms);
  });
  return gathered;
}

function figuresOf<T>(answer: Answer<T>): T {
  if ("invalidInput" in answer) throw new InvalidInput(answer.invalidInput);
  return answer.figures;
}

export class RuleFigures {
  constructor(private readonly workers: WorkerPool) {}

  /**
   * The series, assembled here (its figures take ~15 µs an outcome and day, in slices between other callbacks);
   * a long one's posterior passes, nearly all of its cost, shared out to every worker thread at once, a run of
   * days each: a single request's answer comes sooner, and only typed arrays cross between threads.
   */
  async series(task: SeriesTask, wanted: SeriesFigures = { probabilityToBeBest: true }): Promise<RuleSeries> {
    const { filter, from, to, counts } = task;
    // Without the posterior passes even the longest series (366 days × MAX_OUTCOMES_PER_RULE) is a few slices.
    if (!wanted.probabilityToBeBest) return computeRuleSeries(filter, from, to, counts, null);
    if (predictedSeriesMs(counts.length, daysOf(task), wanted) <= INLINE_BUDGET_MS) return seriesOf(task);
    return computeRuleSeries(filter, from, to, counts, (daily) => this.dailyBestShares(daily));
  }

  /**
   * A day's pass is a pure function of its arms' counts, and a live rule's days but the last keep theirs from
   * one request to the next (and a results page is asked again and again): the passes are remembered by
   * those exact counts, so that only the days whose cohort changed are computed again. Exact by construction
   * (the counts are read afresh on every request); bounded by REMEMBERED_PASSES, the least recently used go.
   */
  private readonly rememberedPasses = new LRUCache<string, Float64Array>({ max: REMEMBERED_PASSES });

  /** The passes of every day: the remembered ones, and those of the others' distinct counts computed once. */
  private async dailyBestShares(daily: DailyArms): Promise<Float64Array> {
    const { arms, successes, trials } = daily;
    const shares = new Float64Array(successes.length);
    // Days to compute, by their counts: each distinct one once, in the order met.
    const missing = new Map<string, number[]>();
    for (let start = 0; start < successes.length; start += arms) {
      const key = armsKey(daily, start);
      const remembered = this.rememberedPasses.get(key);
      if (remembered) shares.set(remembered, start);
      else missing.get(key)?.push(start) ?? missing.set(key, [start]);
    }
    if (missing.size === 0) return shares;
    const firstCells = [...missing.values()].map(([start]) => start);
    const computed = await this.computeBestShares({
      arms,
      successes: gatherDays(successes, firstCells, arms),
      trials: gatherDays(trials, firstCells, arms),
    });
    let offset = 0;
    for (const [key, starts] of missing) {
      const dayShares = computed.slice(offset, offset + arms);
      offset += arms;
      this.rememberedPasses.set(key, dayShares);
      for (const start of starts) shares.set(dayShares, start);
    }
    return shares;
  }

  /**
   * The passes of `daily`'s days: here at once when they are few (a live rule's new day), else in runs of
   * days: one per worker thread, and one on this thread in slices (it would otherwise wait once its other
   * figures are made, a few ms). This thread's run is the first and a share smaller than a worker's, as it
   * also makes the other figures and serves other requests meanwhile.
   */
  private async computeBestShares(daily: DailyArms): Promise<Float64Array> {
    const { arms, successes, trials } = daily;
    const days = successes.length / arms;
    if (days * passMs(arms) <= INLINE_BUDGET_MS) return dailyBestShares(daily);
    const workers = this.workers.size;
    const here = Math.floor((days * MAIN_THREAD_SHARE) / (workers + MAIN_THREAD_SHARE));
    const perWorker = Math.ceil((days - here) / workers);
    const run = (first: number, end: number) => {
      const cells = [first * arms, end * arms] as const;
      return { arms, successes: successes.slice(...cells), trials: trials.slice(...cells) } satisfies DailyArms;
    };
    const parts: Promise<Float64Array>[] = [];
    for (let first = here; first < days; first += perWorker) {
      parts.push(this.workers.run<Float64Array>("dailyBestShares", run(first, Math.min(days, first + perWorker))));
    }
    if (here > 0) parts.unshift(dailyBestSharesInSlices(run(0, here)));
    const shares = new Float64Array(successes.length);
    let offset = 0;
    for (const part of await Promise.all(parts)) {
      shares.set(part, offset);
      offset += part.length;
    }
    return shares;
  }

  /** The warm-up series on this thread, in slices between other callbacks (its passes too), round after round. */
  async warmUp(): Promise<void> {
    const { filter, from, to, counts } = warmUpTask();
    for (let round = 0; round < WARM_UP_ROUNDS; round++) {
      await computeRuleSeries(filter, from, to, counts, dailyBestSharesInSlices);
    }
  }

  /**
   * The series as CSV (outcomeSeriesCsv). A long one: its posterior passes as for `series` (remembered, shared
   * out), then the other figures and the file on a worker thread, from which only the text comes back.
   */
  async seriesCsv(task: SeriesTask): Promise<string> {
    const { filter, from, to, counts } = task;
    if (predictedSeriesCsvMs(counts.length, daysOf(task)) <= INLINE_BUDGET_MS) return seriesCsvOf(task);
    const bestShares = await this.dailyBestShares(seriesArms(filter, from, to, counts));
    return figuresOf(await this.workers.run<Answer<string>>("ruleSeriesCsv", { ...task, bestShares }));
  }

  async stats(task: StatsTask): Promise<RuleStats> {
    if (predictedStatsMs(task.rows.length) <= INLINE_BUDGET_MS) return statsOf(task);
    return figuresOf(await this.workers.run<Answer<RuleStats>>("ruleStats", task));
  }
}
