// The outcome statistics as CSV (RFC 4180: CRLF, a header row, every text field quoted, numbers
// bare), with text that a spreadsheet could run as a formula neutralised (OWASP: prefix with ').
import { stringify } from "csv-stringify/sync";
import type { SampleSizeInput } from "./rule.input";
import { type RuleSeries, type RuleStats, sampleSizeFor } from "./rule-stats";
import type { Interval } from "./statistics";

export const OUTCOME_STATS_CSV_COLUMNS = [
  "ruleId",
  "conversion",
  "from",
  "to",
  "confidenceLevel",
  "baselineOutcomeId",
  "totalExposures",
  "sampleRatioMismatchPValue",
  "outcomeId",
  "exposures",
  "converters",
  "conversions",
  "unattributedConversions",
  "conversionRate",
  "confidenceIntervalLower",
  "confidenceIntervalUpper",
  "uplift",
  "pValue",
  "probabilityToBeBest",
  "sampleRatioMismatch",
  "crossoverVisitors",
  "difference",
  "differenceIntervalLower",
  "differenceIntervalUpper",
  "upliftIntervalLower",
  "upliftIntervalUpper",
  "chanceToBeatBaseline",
  "expectedLoss",
  "sequentialDifferenceIntervalLower",
  "sequentialDifferenceIntervalUpper",
  "sequentialPValue",
  "adjustedPValue",
  "adjustedSequentialPValue",
  "sampleSizeExposuresPerOutcome",
  "sampleSizeDaysRemaining",
] as const;

/** interval=day: one row per (day, outcome), the day before the outcome's columns. */
export const OUTCOME_SERIES_CSV_COLUMNS = [
  "ruleId",
  "conversion",
  "from",
  "to",
  "confidenceLevel",
  "sequentialTuning",
  "baselineOutcomeId",
  "day",
  "outcomeId",
  "exposures",
  "converters",
  "conversions",
  "conversionRate",
  "confidenceIntervalLower",
  "confidenceIntervalUpper",
  "uplift",
  "pValue",
  "sequentialPValue",
  "probabilityToBeBest",
] as const;

const bounds = (interval: Interval | null) => [interval?.lower ?? null, interval?.upper ?? null];

const toCsv = (columns: readonly string[], rows: unknown[][]) =>
  stringify([[...columns], ...rows], { record_delimiter: "windows", quoted_string: true });

/**
 * A formula trigger (= + - @ tab CR, and the full-width = + - @ some spreadsheets normalise) at
 * the start of the text or right after a separator a spreadsheet may split cells on when it
 * imports (comma, semicolon, tab, a line break): `x;=1+1` is a cell `=1+1` in a `;` locale.
 */
const FORMULA_TRIGGER = /(?<=^|[,;\t\r\n])[=+\-@\t\r\uFF1D\uFF0B\uFF0D\uFF20]/g;

/** Text from users (ids, conversion types) with a ' before every formula trigger: `x;=1+1` -> `x;'=1+1`. */
export function neutraliseFormula(text: string | null): string {
  if (text == null) return "";
  return text.replace(FORMULA_TRIGGER, "'$&");
}

/** The stats as CSV; the sample-size columns are filled when `sampleSize` (relativeMde, power) is given. */
export function outcomeStatsCsv(stats: RuleStats, sampleSize: SampleSizeInput | null = null): string {
  // Strings are quoted (quoted_string), numbers are written bare and null as an empty cell.
  const rows = stats.outcomes.map((outcome) => {
    const size = outcome.sampleSizePlan && sampleSize ? sampleSizeFor(outcome.sampleSizePlan, sampleSize) : null;
    return [
      neutraliseFormula(stats.ruleId),
      neutraliseFormula(stats.conversion),
      stats.from ?? "",
      stats.to ?? "",
      stats.confidenceLevel,
      neutraliseFormula(stats.baselineOutcomeId),
      stats.totalExposures,
      stats.sampleRatioMismatchPValue,
      neutraliseFormula(outcome.outcomeId),
      outcome.exposures,
      outcome.converters,
      outcome.conversions,
      outcome.unattributedConversions,
      outcome.conversionRate,
      ...bounds(outcome.confidenceInterval),
      outcome.uplift,
      outcome.pValue,
      outcome.probabilityToBeBest,
      // csv-stringify writes false as an empty cell: the words keep it apart from null.
      stats.sampleRatioMismatch === null ? null : String(stats.sampleRatioMismatch),
      stats.crossoverVisitors,
      outcome.difference,
      ...bounds(outcome.differenceInterval),
      ...bounds(outcome.upliftInterval),
      outcome.chanceToBeatBaseline,
      outcome.expectedLoss,
      ...bounds(outcome.sequentialDifferenceInterval),
      outcome.sequentialPValue,
      outcome.adjustedPValue,
      outcome.adjustedSequentialPValue,
      size?.exposuresPerOutcome ?? null,
      size?.daysRemaining ?? null,
    ];
  });
  return toCsv(OUTCOME_STATS_CSV_COLUMNS, rows);
}

/** The series as CSV: one row per (day, outcome), days in order, outcomes by id. */
export function outcomeSeriesCsv(series: RuleSeries): string {
  // The text of the series and of its outcomes neutralised once, not on each of their (up to 36,600) rows.
  const ruleId = neutraliseFormula(series.ruleId);
  const conversion = neutraliseFormula(series.conversion);
  const baselineOutcomeId = neutraliseFormula(series.baselineOutcomeId);
  const outcomeIds = new Map(
    series.days[0]?.outcomes.map(({ outcomeId }) => [outcomeId, neutraliseFormula(outcomeId)]),
  );
  const rows = series.days.flatMap((day) =>
    day.outcomes.map((outcome) => [
      ruleId,
      conversion,
      series.from ?? "",
      series.to,
      series.confidenceLevel,
      series.sequentialTuning,
      baselineOutcomeId,
      day.day,
      outcomeIds.get(outcome.outcomeId) ?? neutraliseFormula(outcome.outcomeId),
      outcome.exposures,
      outcome.converters,
      outcome.conversions,
      outcome.conversionRate,
      ...bounds(outcome.confidenceInterval),
      outcome.uplift,
      outcome.pValue,
      outcome.sequentialPValue,
      outcome.probabilityToBeBest,
    ]),
  );
  return toCsv(OUTCOME_SERIES_CSV_COLUMNS, rows);
}

export function outcomeStatsFileName(
  stats: Pick<RuleStats, "ruleId" | "conversion" | "from" | "to">,
  kind: "outcome-stats" | "outcome-series" = "outcome-stats",
): string {
  const parts = [kind, stats.ruleId, stats.conversion, stats.from, stats.to].filter(Boolean) as string[];
  // Only characters safe in a file name on every system.
  return `${parts
    .join("_")
    .replace(/[^A-Za-z0-9._#@+-]/g, "-")
    .slice(0, 180)}.csv`;
}
