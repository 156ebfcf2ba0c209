// The outcome statistics as CSV (RFC 4180: CRLF, a header row, every text field quoted, numbers
// bare), with text that a spreadsheet could run as a formula neutralised (OWASP: prefix with ').
import { stringify } from "csv-stringify/sync";
import type { RuleStats } from "./rule-stats";

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
] as const;

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

export function outcomeStatsCsv(stats: RuleStats): string {
  // Strings are quoted (quoted_string), numbers are written bare and null as an empty cell.
  const rows = stats.outcomes.map((outcome) => [
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
    outcome.confidenceInterval?.lower ?? null,
    outcome.confidenceInterval?.upper ?? null,
    outcome.uplift,
    outcome.pValue,
    outcome.probabilityToBeBest,
  ]);
  return stringify([[...OUTCOME_STATS_CSV_COLUMNS], ...rows], { record_delimiter: "windows", quoted_string: true });
}

export function outcomeStatsFileName(stats: RuleStats): string {
  const parts = ["outcome-stats", stats.ruleId, stats.conversion, stats.from, stats.to].filter(Boolean) as string[];
  // Only characters safe in a file name on every system.
  return `${parts
    .join("_")
    .replace(/[^A-Za-z0-9._#@+-]/g, "-")
    .slice(0, 180)}.csv`;
}
