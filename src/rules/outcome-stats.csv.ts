// The outcome statistics as CSV (RFC 4180: CRLF, quoted as needed, a header row), with text
// cells that a spreadsheet would run as a formula neutralised (OWASP: prefix with ').
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

const FORMULA_TRIGGERS = /^[=+\-@\t\r]/;

/** Text from users (ids, conversion types) never starts a cell with a formula trigger. */
export function neutraliseFormula(text: string | null): string {
  if (text == null) return "";
  return FORMULA_TRIGGERS.test(text) ? `'${text}` : text;
}

const number = (value: number | null | undefined) => (value == null ? "" : String(value));

export function outcomeStatsCsv(stats: RuleStats): string {
  const rows = stats.outcomes.map((outcome) => [
    neutraliseFormula(stats.ruleId),
    neutraliseFormula(stats.conversion),
    stats.from ?? "",
    stats.to ?? "",
    number(stats.confidenceLevel),
    neutraliseFormula(stats.baselineOutcomeId),
    number(stats.totalExposures),
    number(stats.sampleRatioMismatchPValue),
    neutraliseFormula(outcome.outcomeId),
    number(outcome.exposures),
    number(outcome.converters),
    number(outcome.conversions),
    number(outcome.unattributedConversions),
    number(outcome.conversionRate),
    number(outcome.confidenceInterval?.lower),
    number(outcome.confidenceInterval?.upper),
    number(outcome.uplift),
    number(outcome.pValue),
    number(outcome.probabilityToBeBest),
  ]);
  return stringify([[...OUTCOME_STATS_CSV_COLUMNS], ...rows], { record_delimiter: "windows" });
}

export function outcomeStatsFileName(stats: RuleStats): string {
  const parts = ["outcome-stats", stats.ruleId, stats.conversion, stats.from, stats.to].filter(Boolean) as string[];
  // Only characters safe in a file name on every system.
  return `${parts
    .join("_")
    .replace(/[^A-Za-z0-9._#@+-]/g, "-")
    .slice(0, 180)}.csv`;
}
