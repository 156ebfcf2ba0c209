// CPU time of probabilityToBeBest (and of the full posteriorComparison) for 2 and 100 outcomes, and of the
// assembly of outcomeConversionSeries at its limit (366 days x 10 outcomes, each outcome's counts changing
// every day: a posterior pass a day): the median of many runs after a warm-up. Part of `npm run bench`
// (bench/run.js starts it); standalone: run `npm run build` first, then `node bench/statistics.js`.
// BENCH_SMOKE=1: a tenth of the runs.
"use strict";
const { posteriorComparison, probabilityToBeBest } = require("../dist/src/rules/statistics.js");
const { computeRuleSeries, daysFrom } = require("../dist/src/rules/rule-stats.js");

const arm = (successes, trials) => ({ successes, trials });

function medianCpuMilliseconds(run, runs) {
  for (let index = 0; index < Math.min(runs, 20); index++) run();
  const times = [];
  for (let index = 0; index < runs; index++) {
    const start = process.cpuUsage();
    run();
    const used = process.cpuUsage(start);
    times.push((used.user + used.system) / 1000);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(runs / 2)];
}

// The same deterministic 100 outcomes as the unit test: similar rates around 5-6%, 1,000-4,700 exposures.
const hundred = Array.from({ length: 100 }, (_, i) => {
  const trials = 1000 + 37 * i;
  return arm(Math.floor((trials * (500 + ((i * 7919) % 100))) / 10000), trials);
});
// Harder: 100 outcomes spread over [0, 1] with 0 to a million exposures each (wide and narrow posteriors mixed).
const mixed = Array.from({ length: 100 }, (_, i) => {
  const trials = [0, 10, 1000, 100000, 1000000][i % 5];
  return arm(Math.floor(trials * (((i * 7919) % 1000) / 1000)), trials);
});
const identical = Array.from({ length: 100 }, () => arm(50000, 1000000));

const cases = [
  ["2 outcomes (50/1000 vs 80/1000)", [arm(50, 1000), arm(80, 1000)], 2001],
  ["2 outcomes, a million exposures each", [arm(50000, 1000000), arm(50400, 1000000)], 2001],
  ["100 outcomes, similar rates", hundred, 101],
  ["100 identical outcomes, a million exposures each", identical, 101],
  ["100 outcomes, mixed sizes and rates", mixed, 101],
];
const scale = process.env.BENCH_SMOKE === "1" ? 0.1 : 1;
for (const [name, arms, fullRuns] of cases) {
  const runs = Math.max(11, Math.round(fullRuns * scale) | 1);
  const best = medianCpuMilliseconds(() => probabilityToBeBest(arms), runs);
  const all = medianCpuMilliseconds(() => posteriorComparison(arms, 0), runs);
  console.log(
    `${name}: probabilityToBeBest ${best.toFixed(3)} ms, posteriorComparison ${all.toFixed(3)} ms CPU (median of ${runs})`,
  );
}

// The series: counts as bench/series.js seeds them (200 + o exposures a day, converters over the 7 days
// after each cohort day), assembled from them without the database.
async function medianCpuMillisecondsAsync(run, runs) {
  for (let index = 0; index < Math.min(runs, 3); index++) await run();
  const times = [];
  for (let index = 0; index < runs; index++) {
    const start = process.cpuUsage();
    await run();
    const used = process.cpuUsage(start);
    times.push((used.user + used.system) / 1000);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(runs / 2)];
}

const DAYS = daysFrom("2025-03-01", "2026-03-01");
const counts = Array.from({ length: 10 }, (_, o) => {
  const converters = new Map();
  const conversions = new Map();
  DAYS.forEach((day, d) => {
    let sum = 0;
    for (let cohort = Math.max(0, d - 6); cohort <= d; cohort++) sum += 1 + ((o + cohort + d) % 3);
    converters.set(day, sum);
    conversions.set(day, sum + 7);
  });
  return { outcomeId: `outcome-${o}`, exposures: new Map(DAYS.map((day) => [day, 200 + o])), converters, conversions };
});
const filter = {
  ruleId: "bench-rule",
  conversion: null,
  from: DAYS[0],
  to: DAYS.at(-1),
  baselineOutcomeId: null,
  confidenceLevel: 0.95,
  sequentialTuning: 5000,
};
const seriesRuns = Math.max(5, Math.round(31 * scale) | 1);
medianCpuMillisecondsAsync(() => computeRuleSeries(filter, DAYS[0], DAYS.at(-1), counts), seriesRuns).then((series) => {
  console.log(
    `outcomeConversionSeries assembly, 366 days x 10 outcomes: ${series.toFixed(1)} ms CPU (median of ${seriesRuns}; ` +
      "on a statistics worker thread in the service)",
  );
});
