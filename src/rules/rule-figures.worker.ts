// The statistics worker thread's entry (see rule-figures.ts): assembles a rule's series (or its CSV) or stats
// off the event loop, from the counts the main thread read.
import { serveTasks } from "../workers/task-server";
import {
  answerOf,
  RULE_FIGURES_WARM_UP,
  type SeriesTask,
  type StatsTask,
  seriesCsvOf,
  statsOf,
  warmUpWorker,
} from "./rule-figures";
import { type DailyArms, dailyBestShares } from "./rule-stats";

serveTasks({
  dailyBestShares: (daily: DailyArms) => dailyBestShares(daily),
  ruleSeriesCsv: (task: SeriesTask) => answerOf(() => seriesCsvOf(task)),
  ruleStats: (task: StatsTask) => answerOf(() => statsOf(task)),
  // The pool's warm-up at start (its answer is dropped).
  [RULE_FIGURES_WARM_UP.task]: () => warmUpWorker(),
});
