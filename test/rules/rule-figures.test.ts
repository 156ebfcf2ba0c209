// Where a rule's figures are assembled: inline when predicted cheap, else on the statistics worker thread
// (the compiled rule-figures.worker.js), with the same figures, the same CSV and the same InvalidInput.
import { afterAll, describe, expect, it, vi } from "vitest";
import { InvalidInput } from "../../src/errors";
import { outcomeSeriesCsv } from "../../src/rules/outcome-stats.csv";
import { parseRuleSeriesFilter, parseRuleStatsFilter } from "../../src/rules/rule.input";
import {
  INLINE_BUDGET_MS,
  predictedSeriesMs,
  predictedStatsMs,
  RULE_FIGURES_WORKER,
  RuleFigures,
  type SeriesTask,
} from "../../src/rules/rule-figures";
import { computeRuleSeries, computeRuleStats, daysFrom, type OutcomeCounts } from "../../src/rules/rule-stats";
import { WorkerPool } from "../../src/workers/worker-pool";

const pool = new WorkerPool({ script: RULE_FIGURES_WORKER, size: 1, maxQueue: 4 });
const pair = new WorkerPool({ script: RULE_FIGURES_WORKER, size: 2, maxQueue: 4 });
afterAll(() => Promise.all([pool.close(), pair.close()]));

function seriesTask(outcomes: number, days: number, baselineOutcomeId?: string): SeriesTask {
  const dayList = daysFrom("2025-03-01", "2026-03-01").slice(0, days);
  const counts = Array.from({ length: outcomes }, (_, outcome) => ({
    outcomeId: `o${outcome}`,
    exposures: new Map(dayList.map((day) => [day, 100 + outcome] as const)),
    converters: new Map(dayList.map((day, index) => [day, 1 + ((outcome + index) % 4)] as const)),
    conversions: new Map(dayList.map((day, index) => [day, 2 + ((outcome + index) % 4)] as const)),
  }));
  const filter = parseRuleSeriesFilter({ ruleId: "rule", from: dayList[0], to: dayList.at(-1), baselineOutcomeId });
  return { filter, from: dayList[0], to: dayList.at(-1) as string, counts };
}

describe("RuleFigures", () => {
  it("assembles a short series inline, a long one's posterior passes on the worker threads, with the same figures", async () => {
    const run = vi.spyOn(pool, "run");
    const figures = new RuleFigures(pool);
    const short = seriesTask(3, 20);
    expect(predictedSeriesMs(3, 20, { probabilityToBeBest: true })).toBeLessThanOrEqual(INLINE_BUDGET_MS);
    expect(await figures.series(short)).toEqual(
      await computeRuleSeries(short.filter, short.from, short.to, short.counts),
    );
    expect(run).not.toHaveBeenCalled();

    const long = seriesTask(10, 366);
    expect(predictedSeriesMs(10, 366, { probabilityToBeBest: true })).toBeGreaterThan(INLINE_BUDGET_MS);
    const inline = await computeRuleSeries(long.filter, long.from, long.to, long.counts);
    expect(await figures.series(long)).toEqual(inline);
    expect(await figures.seriesCsv(long)).toBe(outcomeSeriesCsv(inline));
    expect(run.mock.calls.map(([task]) => task)).toEqual(["dailyBestShares", "ruleSeriesCsv"]);
    run.mockRestore();

    // Two threads: a run of days each, in parallel, and a shorter first run on this thread (0.6 of a
    // worker's: 366 × 0.6 / 2.6 = 84 days, then 141 each), the same figures put back together.
    const runOnPair = vi.spyOn(pair, "run");
    expect(await new RuleFigures(pair).series(long)).toEqual(inline);
    const days = runOnPair.mock.calls.map(([task, input]) => [task, (input as { trials: Float64Array }).trials.length]);
    expect(days).toEqual([
      ["dailyBestShares", 141 * 10],
      ["dailyBestShares", 141 * 10],
    ]);
    runOnPair.mockRestore();
  });

  it("remembers each day's posterior pass by its counts: only the days whose cohort changed are computed again", async () => {
    const figures = new RuleFigures(pool);
    const long = seriesTask(10, 366);
    const run = vi.spyOn(pool, "run");
    expect(await figures.series(long)).toEqual(await computeRuleSeries(long.filter, long.from, long.to, long.counts));
    expect(run).toHaveBeenCalledTimes(1);

    // The same counts again: every pass remembered, no worker asked; the CSV's passes too.
    run.mockClear();
    const again = await figures.series(long);
    expect(again).toEqual(await computeRuleSeries(long.filter, long.from, long.to, long.counts));
    expect(run).not.toHaveBeenCalled();
    expect(await figures.seriesCsv(long)).toBe(outcomeSeriesCsv(again));
    expect(run.mock.calls.map(([task]) => task)).toEqual(["ruleSeriesCsv"]);

    // A live rule: one more converter of o3 on the last day. That day alone is computed again, here, and its
    // figures are the new counts' (nothing stale), the other days' unchanged.
    run.mockClear();
    const lastDay = long.to;
    const live: SeriesTask = {
      ...long,
      counts: long.counts.map((outcome) =>
        outcome.outcomeId === "o3"
          ? {
              ...outcome,
              converters: new Map([...outcome.converters, [lastDay, (outcome.converters.get(lastDay) ?? 0) + 1]]),
            }
          : outcome,
      ),
    };
    const fresh = await computeRuleSeries(live.filter, live.from, live.to, live.counts);
    const liveSeries = await figures.series(live);
    expect(liveSeries).toEqual(fresh);
    expect(run).not.toHaveBeenCalled();
    const best = (series: typeof fresh, day: number) => series.days[day].outcomes.map((o) => o.probabilityToBeBest);
    expect(best(liveSeries, 365)).not.toEqual(best(again, 365));
    expect(best(liveSeries, 364)).toEqual(best(again, 364));

    // A change on the first day changes every day's cohort: every pass computed again, on the worker as at first.
    const shifted: SeriesTask = {
      ...long,
      counts: long.counts.map((outcome) =>
        outcome.outcomeId === "o0"
          ? { ...outcome, exposures: new Map([...outcome.exposures, [long.from as string, 500]]) }
          : outcome,
      ),
    };
    expect(await figures.series(shifted)).toEqual(
      await computeRuleSeries(shifted.filter, shifted.from, shifted.to, shifted.counts),
    );
    expect(run.mock.calls.map(([task, input]) => [task, (input as { trials: Float64Array }).trials.length])).toEqual([
      ["dailyBestShares", 229 * 10],
    ]);
    run.mockRestore();
  });

  it("leaves the posterior passes out when probabilityToBeBest is not wanted: on the event loop, the rest alike", async () => {
    const run = vi.spyOn(pool, "run");
    const long = seriesTask(10, 366);
    const full = await computeRuleSeries(long.filter, long.from, long.to, long.counts);
    const without = await new RuleFigures(pool).series(long, { probabilityToBeBest: false });
    expect(run).not.toHaveBeenCalled();
    run.mockRestore();
    expect(without.days.length).toBe(366);
    expect(without).toEqual({
      ...full,
      days: full.days.map((day) => ({
        ...day,
        outcomes: day.outcomes.map((outcome) => ({ ...outcome, probabilityToBeBest: null })),
      })),
    });
    expect(predictedSeriesMs(10, 366, { probabilityToBeBest: false })).toBeLessThanOrEqual(INLINE_BUDGET_MS);
  });

  it("refuses an unknown baseline of a long series with InvalidInput, as a short one", async () => {
    const figures = new RuleFigures(pool);
    const failure = await figures.series(seriesTask(10, 366, "nope")).catch((error: Error) => error);
    expect(failure).toBeInstanceOf(InvalidInput);
    expect((failure as InvalidInput).issues).toEqual([
      { path: ["baselineOutcomeId"], type: "value_error", message: "nope is not an outcome of this rule" },
    ]);
  });

  it("assembles the stats of many outcomes on the worker thread", async () => {
    const run = vi.spyOn(pool, "run");
    const rows: OutcomeCounts[] = Array.from({ length: 100 }, (_, index) => ({
      outcomeId: `o${String(index).padStart(3, "0")}`,
      exposures: 1000 + 37 * index,
      converters: 50 + (index % 13),
      conversions: 60 + (index % 13),
      unattributedConversions: 0,
      firstExposureDay: "2026-01-01",
    }));
    const filter = parseRuleStatsFilter({ ruleId: "rule", pValueAdjustment: "HOLM" });
    const context = { crossoverVisitors: 3, today: "2026-03-01" };
    expect(predictedStatsMs(100)).toBeGreaterThan(INLINE_BUDGET_MS);
    expect(predictedStatsMs(5)).toBeLessThanOrEqual(INLINE_BUDGET_MS);
    expect(await new RuleFigures(pool).stats({ filter, rows, context })).toEqual(
      computeRuleStats(filter, rows, context),
    );
    expect(run).toHaveBeenCalledWith("ruleStats", expect.anything());
    run.mockRestore();
  });
});
