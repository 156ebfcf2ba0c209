// The table of outcomes: every figure the stats give, formatted for the reader, with the exact
// value beside it in data attributes (what the browser test compares with the GraphQL answer).
import { integer, interval, percent, pValue, signedPercent } from "./format";
import type { Interval, OutcomeStats, RuleStats } from "./queries";

/**
 * The outcome with the highest rate, when it is not the baseline and its sequential p-value (valid
 * however often the page is looked at) is below α; else none is highlighted.
 */
export function leadingOutcomeId(stats: RuleStats): string | null {
  const alpha = 1 - stats.confidenceLevel;
  let leading: OutcomeStats | null = null;
  for (const outcome of stats.outcomes) {
    if (outcome.conversionRate === null) continue;
    if (!leading || (leading.conversionRate ?? -1) < outcome.conversionRate) leading = outcome;
  }
  if (!leading || leading.outcomeId === stats.baselineOutcomeId) return null;
  return leading.sequentialPValue !== null && leading.sequentialPValue < alpha ? leading.outcomeId : null;
}

function cell(row: HTMLTableRowElement, field: string, text: string, value: number | null): HTMLTableCellElement {
  const td = row.insertCell();
  td.dataset.field = field;
  td.dataset.value = value === null ? "" : String(value);
  td.textContent = text;
  return td;
}

function intervalCell(row: HTMLTableRowElement, field: string, value: Interval | null, format: (v: number) => string) {
  const td = row.insertCell();
  td.dataset.field = field;
  td.dataset.lower = value === null ? "" : String(value.lower);
  td.dataset.upper = value === null ? "" : String(value.upper);
  td.textContent = interval(value, format);
}

export function renderOutcomes(body: HTMLTableSectionElement, stats: RuleStats, colours: Map<string, string>) {
  const leading = leadingOutcomeId(stats);
  body.replaceChildren();
  for (const outcome of stats.outcomes) {
    const row = body.insertRow();
    row.dataset.outcomeId = outcome.outcomeId;
    const name = document.createElement("th");
    name.scope = "row";
    name.dataset.field = "outcomeId";
    const swatch = document.createElement("span");
    swatch.className = "swatch";
    // A CSSOM property, which the page's CSP allows (a style attribute it would refuse).
    swatch.style.backgroundColor = colours.get(outcome.outcomeId) ?? "";
    swatch.setAttribute("aria-hidden", "true");
    name.append(swatch, document.createTextNode(outcome.outcomeId));
    if (outcome.outcomeId === stats.baselineOutcomeId) {
      row.classList.add("baseline");
      name.append(badge("baseline"));
    }
    if (outcome.outcomeId === leading) {
      row.classList.add("leading");
      name.append(badge("leading"));
    }
    row.append(name);
    cell(row, "exposures", integer(outcome.exposures), outcome.exposures);
    cell(row, "converters", integer(outcome.converters), outcome.converters);
    cell(row, "conversions", integer(outcome.conversions), outcome.conversions);
    cell(row, "conversionRate", percent(outcome.conversionRate), outcome.conversionRate);
    intervalCell(row, "confidenceInterval", outcome.confidenceInterval, percent);
    cell(row, "uplift", signedPercent(outcome.uplift), outcome.uplift);
    intervalCell(row, "upliftInterval", outcome.upliftInterval, signedPercent);
    cell(row, "sequentialPValue", pValue(outcome.sequentialPValue), outcome.sequentialPValue);
    cell(row, "pValue", pValue(outcome.pValue), outcome.pValue);
    cell(row, "chanceToBeatBaseline", percent(outcome.chanceToBeatBaseline), outcome.chanceToBeatBaseline);
    cell(row, "probabilityToBeBest", percent(outcome.probabilityToBeBest), outcome.probabilityToBeBest);
  }
  return leading;
}

function badge(text: string): HTMLElement {
  const element = document.createElement("span");
  element.className = `badge badge-${text}`;
  element.textContent = text;
  return element;
}
