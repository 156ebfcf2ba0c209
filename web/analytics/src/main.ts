// The analytics page: asks once for an API key (kept in sessionStorage, for this tab only), lists
// the organisation's rules, and shows the chosen rule's comparison, its series and its CSV.
// Every answer belongs to the key it was asked with: changing the key drops all of them, and an
// answer that arrives for an earlier key or rule is thrown away.
import { ApiError, downloadCsv, graphql } from "./api";
import { clearChart, colourOf, drawRates, drawSeries } from "./charts";
import { integer, percent, pValue } from "./format";
import { renderOutcomes } from "./outcomes-table";
import {
  type Filters,
  RULES_QUERY,
  type RuleSummary,
  type RulesPage,
  SERIES_QUERY,
  type SeriesAnswer,
  STATS_QUERY,
  type StatsAnswer,
} from "./queries";

/** "= 0.0123" or "< 0.0001", after a "p". */
const pRelation = (value: number | null) => {
  const shown = pValue(value);
  return shown.startsWith("<") ? shown : `= ${shown}`;
};

/** The days a series covers at most (the service's limit). */
const SERIES_MAX_DAYS = 366;
const DAY_MS = 86_400_000;
const todayUtc = () => new Date().toISOString().slice(0, 10);
/** UTC days from `from` to `to`, both counted. */
const daysBetween = (from: string, to: string) =>
  Math.round((Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / DAY_MS) + 1;

const KEY_STORAGE = "conversions-analytics.api-key";
const RULES_PER_PAGE = 50;

function element<T extends HTMLElement>(id: string): T {
  const found = document.getElementById(id);
  if (!found) throw new Error(`The page has no #${id}`);
  return found as T;
}

const view = {
  message: element<HTMLParagraphElement>("message"),
  keyForm: element<HTMLFormElement>("key-form"),
  keyInput: element<HTMLInputElement>("api-key"),
  changeKey: element<HTMLButtonElement>("change-key"),
  workspace: element<HTMLDivElement>("workspace"),
  rulesEmpty: element<HTMLParagraphElement>("rules-empty"),
  ruleList: element<HTMLUListElement>("rule-list"),
  moreRules: element<HTMLButtonElement>("more-rules"),
  results: element<HTMLElement>("results"),
  ruleHeading: element<HTMLHeadingElement>("rule-heading"),
  filters: element<HTMLFormElement>("filters"),
  conversion: element<HTMLInputElement>("filter-conversion"),
  from: element<HTMLInputElement>("filter-from"),
  to: element<HTMLInputElement>("filter-to"),
  confidence: element<HTMLSelectElement>("filter-confidence"),
  baseline: element<HTMLSelectElement>("filter-baseline"),
  downloadCsv: element<HTMLButtonElement>("download-csv"),
  srmWarning: element<HTMLParagraphElement>("srm-warning"),
  summary: element<HTMLParagraphElement>("summary"),
  ratesChart: element<HTMLCanvasElement>("rates-chart"),
  outcomesBody: element<HTMLTableElement>("outcomes-table").tBodies[0] as HTMLTableSectionElement,
  tableNote: element<HTMLParagraphElement>("table-note"),
  seriesChart: element<HTMLCanvasElement>("series-chart"),
  seriesChartBox: element<HTMLDivElement>("series-chart-box"),
  seriesMessage: element<HTMLParagraphElement>("series-message"),
};

interface State {
  apiKey: string | null;
  rules: RuleSummary[];
  nextRulesCursor: string | null;
  selected: RuleSummary | null;
  /** Bumped by every new key, rule or filter: answers asked for under an older one are dropped. */
  generation: number;
}

const state: State = { apiKey: null, rules: [], nextRulesCursor: null, selected: null, generation: 0 };

function showMessage(text: string | null, tone: "error" | "info" = "error") {
  view.message.hidden = text === null;
  view.message.textContent = text ?? "";
  view.message.dataset.tone = tone;
}

function explain(error: unknown) {
  if (error instanceof ApiError && error.kind === "unauthenticated") {
    forgetKey();
    showMessage(error.message);
    return;
  }
  showMessage(
    error instanceof ApiError ? error.message : "Something went wrong on this page. Reload it and try again.",
  );
  if (!(error instanceof ApiError)) console.error(error);
}

/** Back to the key form, with nothing of the previous organisation left on the page. */
function forgetKey() {
  sessionStorage.removeItem(KEY_STORAGE);
  state.apiKey = null;
  state.rules = [];
  state.nextRulesCursor = null;
  state.selected = null;
  state.generation++;
  view.ruleList.replaceChildren();
  clearResults();
  view.filters.reset();
  view.baseline.replaceChildren();
  view.results.hidden = true;
  view.workspace.hidden = true;
  view.changeKey.hidden = true;
  view.keyForm.hidden = false;
  view.keyInput.value = "";
  view.keyInput.focus();
}

function clearResults() {
  view.ruleHeading.textContent = "";
  view.outcomesBody.replaceChildren();
  view.summary.textContent = "";
  view.tableNote.textContent = "";
  view.srmWarning.hidden = true;
  view.srmWarning.textContent = "";
  clearChart(view.ratesChart);
  clearChart(view.seriesChart);
  view.seriesMessage.hidden = true;
  view.seriesMessage.textContent = "";
  view.seriesChartBox.hidden = false;
}

async function fetchRules(apiKey: string, after: string | null): Promise<RulesPage["rules"]> {
  const page = await graphql<RulesPage>(apiKey, RULES_QUERY, { first: RULES_PER_PAGE, after });
  return page.rules;
}

function renderRules() {
  view.ruleList.replaceChildren(
    ...state.rules.map((rule) => {
      const item = document.createElement("li");
      const button = document.createElement("button");
      button.type = "button";
      button.className = "rule";
      button.dataset.ruleId = rule.ruleId;
      button.setAttribute("aria-pressed", String(rule.ruleId === state.selected?.ruleId));
      const name = document.createElement("span");
      name.className = "rule-id";
      name.textContent = rule.ruleId;
      const detail = document.createElement("span");
      detail.className = "rule-detail";
      detail.textContent = `${rule.outcomeIds.length} ${rule.outcomeIds.length === 1 ? "outcome" : "outcomes"} · ${integer(rule.exposures)} exposed`;
      button.append(name, detail);
      button.addEventListener("click", () => selectRule(rule));
      item.append(button);
      return item;
    }),
  );
  view.rulesEmpty.hidden = state.rules.length > 0;
  view.moreRules.hidden = state.nextRulesCursor === null;
}

async function signIn(apiKey: string) {
  const generation = ++state.generation;
  const first = await fetchRules(apiKey, null);
  if (generation !== state.generation) return;
  state.apiKey = apiKey;
  sessionStorage.setItem(KEY_STORAGE, apiKey);
  state.rules = first.edges.map((edge) => edge.node);
  state.nextRulesCursor = first.pageInfo.hasNextPage ? first.pageInfo.endCursor : null;
  showMessage(null);
  view.keyForm.hidden = true;
  view.workspace.hidden = false;
  view.changeKey.hidden = false;
  renderRules();
  (view.ruleList.querySelector("button") ?? view.changeKey).focus();
}

function selectRule(rule: RuleSummary) {
  state.selected = rule;
  clearResults();
  view.ruleHeading.textContent = rule.ruleId;
  view.baseline.replaceChildren(
    new Option("First outcome (default)", ""),
    ...rule.outcomeIds.map((outcomeId) => new Option(outcomeId, outcomeId)),
  );
  renderRules();
  view.results.hidden = false;
  void showResults().then(() => view.ruleHeading.focus());
}

function currentFilters(): Filters {
  const optional = (value: string) => (value.trim() === "" ? undefined : value);
  return {
    conversion: optional(view.conversion.value),
    from: optional(view.from.value),
    to: optional(view.to.value),
    confidenceLevel: Number(view.confidence.value),
    baselineOutcomeId: optional(view.baseline.value),
  };
}

async function showResults() {
  const { apiKey, selected } = state;
  if (!apiKey || !selected) return;
  const filters = currentFilters();
  if (filters.from && filters.to && filters.from > filters.to) {
    showMessage("The window starts after it ends: pick a From day on or before the To day.");
    return;
  }
  const generation = ++state.generation;
  view.results.setAttribute("aria-busy", "true");
  const variables = { ruleId: selected.ruleId, ...filters };
  // A window too long for a series is not asked for (the service would refuse it); the comparison
  // still shows. A refusal for another reason is shown in the series' place too.
  const windowDays = filters.from ? daysBetween(filters.from, filters.to ?? todayUtc()) : 0;
  const [statsAnswer, seriesAnswer] = await Promise.allSettled([
    graphql<StatsAnswer>(apiKey, STATS_QUERY, variables),
    windowDays > SERIES_MAX_DAYS
      ? Promise.reject(
          new ApiError(
            `a series covers at most ${SERIES_MAX_DAYS} days, and this window has ${windowDays}. Narrow it to see the series.`,
            "input",
          ),
        )
      : graphql<SeriesAnswer>(apiKey, SERIES_QUERY, variables),
  ]);
  if (generation !== state.generation) return;
  view.results.removeAttribute("aria-busy");
  // Nothing of the previous filters stays on screen under the new ones.
  const heading = view.ruleHeading.textContent;
  clearResults();
  view.ruleHeading.textContent = heading;
  if (statsAnswer.status === "rejected") {
    explain(statsAnswer.reason);
    return;
  }
  showMessage(null);
  const stats = statsAnswer.value.outcomeConversionStats;
  const outcomeIds = stats.outcomes.map((outcome) => outcome.outcomeId);
  const colours = colourOf(outcomeIds, stats.baselineOutcomeId);
  const alpha = 1 - stats.confidenceLevel;

  view.summary.textContent =
    `${integer(stats.totalExposures)} visitors exposed · ` +
    `${integer(stats.crossoverVisitors)} saw more than one outcome (crossovers) · ` +
    `baseline ${stats.baselineOutcomeId ?? "none"}`;
  view.srmWarning.hidden = stats.sampleRatioMismatch !== true;
  view.srmWarning.textContent =
    stats.sampleRatioMismatch === true
      ? `Sample ratio mismatch: the exposures do not follow the expected split (p ${pRelation(stats.sampleRatioMismatchPValue)}). ` +
        "Check how visitors are assigned before trusting these figures."
      : "";

  drawRates(view.ratesChart, stats.outcomes, stats.baselineOutcomeId, colours);
  const leading = renderOutcomes(view.outcomesBody, stats, colours);
  view.tableNote.textContent = leading
    ? `${leading} leads: its sequential p-value is below α = ${percent(alpha)}, valid however often you look.`
    : `No outcome leads the baseline with a sequential p-value below α = ${percent(alpha)} yet.`;
  if (seriesAnswer.status === "fulfilled") {
    drawSeries(
      view.seriesChart,
      seriesAnswer.value.outcomeConversionSeries.days,
      outcomeIds,
      stats.baselineOutcomeId,
      colours,
    );
  } else {
    const reason = seriesAnswer.reason;
    if (reason instanceof ApiError && reason.kind === "unauthenticated") return explain(reason);
    view.seriesChartBox.hidden = true;
    view.seriesMessage.hidden = false;
    view.seriesMessage.textContent = `No series for these filters: ${reason instanceof ApiError ? reason.message : "it could not be loaded."}`;
  }
}

view.keyForm.addEventListener("submit", (event) => {
  event.preventDefault();
  const apiKey = view.keyInput.value.trim();
  if (!apiKey) return;
  showMessage("Checking the key…", "info");
  signIn(apiKey).catch(explain);
});

view.changeKey.addEventListener("click", () => {
  showMessage(null);
  forgetKey();
});

view.moreRules.addEventListener("click", () => {
  const { apiKey, nextRulesCursor } = state;
  if (!apiKey || !nextRulesCursor) return;
  const generation = state.generation;
  fetchRules(apiKey, nextRulesCursor)
    .then((page) => {
      if (generation !== state.generation || apiKey !== state.apiKey) return;
      state.rules.push(...page.edges.map((edge) => edge.node));
      state.nextRulesCursor = page.pageInfo.hasNextPage ? page.pageInfo.endCursor : null;
      renderRules();
    })
    .catch(explain);
});

view.filters.addEventListener("submit", (event) => {
  event.preventDefault();
  void showResults();
});

view.downloadCsv.addEventListener("click", () => {
  const { apiKey, selected } = state;
  if (!apiKey || !selected) return;
  const filters = currentFilters();
  const query: Record<string, string> = {};
  for (const [name, value] of Object.entries(filters)) if (value !== undefined) query[name] = String(value);
  downloadCsv(apiKey, selected.ruleId, query)
    .then((fileName) => showMessage(`Downloaded ${fileName}.`, "info"))
    .catch(explain);
});

const storedKey = sessionStorage.getItem(KEY_STORAGE);
if (storedKey) {
  view.keyForm.hidden = true;
  signIn(storedKey).catch(explain);
} else {
  view.keyForm.hidden = false;
  view.keyInput.focus();
}
