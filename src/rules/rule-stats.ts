// The figures of a rule's outcome comparison, assembled from its outcomes' counts (pure: no I/O).
// The formulas themselves live in statistics.ts; this decides which apply to which outcome.
import { InvalidInput } from "../errors";
import type { RuleStatsFilter } from "./rule.input";
import {
  equalSplitChiSquarePValue,
  type Interval,
  probabilityToBeBest,
  relativeUplift,
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
}

export interface OutcomeStats extends OutcomeCounts {
  conversionRate: number | null;
  confidenceInterval: Interval | null;
  uplift: number | null;
  pValue: number | null;
  probabilityToBeBest: number;
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
  outcomes: OutcomeStats[];
}

const rateOf = (row: OutcomeCounts) => (row.exposures > 0 ? row.converters / row.exposures : null);

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

/** The statistics of a rule from its outcomes' counts, ordered as given; the baseline is the first unless named. */
export function computeRuleStats(filter: RuleStatsFilter, rows: OutcomeCounts[]): RuleStats {
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
  const arms = rows.map((row) => ({ successes: row.converters, trials: row.exposures }));
  const best = finiteShares(probabilityToBeBest(arms));
  const baselineRate = baseline ? rateOf(baseline) : null;
  return {
    ruleId: filter.ruleId,
    conversion: filter.conversion,
    from: filter.from,
    to: filter.to,
    confidenceLevel: filter.confidenceLevel,
    baselineOutcomeId: baseline?.outcomeId ?? null,
    totalExposures: rows.reduce((sum, row) => sum + row.exposures, 0),
    sampleRatioMismatchPValue: finiteOrNull(equalSplitChiSquarePValue(rows.map((row) => row.exposures))),
    outcomes: rows.map((row, index) => {
      const compared = baseline !== undefined && row !== baseline;
      return {
        ...row,
        conversionRate: finiteOrNull(rateOf(row)),
        confidenceInterval: finiteIntervalOrNull(wilsonInterval(row.converters, row.exposures, filter.confidenceLevel)),
        uplift: compared ? finiteOrNull(relativeUplift(rateOf(row), baselineRate)) : null,
        pValue: compared
          ? finiteOrNull(
              twoProportionPValue(arms[index], { successes: baseline.converters, trials: baseline.exposures }),
            )
          : null,
        probabilityToBeBest: best[index],
      };
    }),
  };
}
