/// <reference lib="dom" />
// The analytics page in a real browser (Debian's chromium, driven by playwright-core): events are
// recorded through the public endpoints, the page is opened, the key entered with the keyboard,
// the rule picked, and every figure shown is compared with the GraphQL answer for the same
// filters, formatted here independently with Intl for the browser's locale. Screenshots (desktop
// and 390 px) go to test-results/analytics-page/.
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { type Browser, type BrowserContext, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ANALYTICS_PAGE_CSP } from "../../src/http/analytics-page";
import { createTenant, graphql, http, startTestApp, type Tenant, type TestApp } from "../helpers/app";
import { rawRequest } from "../helpers/raw-http";

const CHROMIUM = "/usr/bin/chromium";
const SCREENSHOTS = join(__dirname, "..", "..", "test-results", "analytics-page");
const RULE = "homepage-hero";
const SINGLE = "newsletter-banner";

let app: TestApp;
let acme: Tenant;
let empty: Tenant;
/** An organisation with more rules than the page lists at once (50), on its own site. */
let many: Tenant;
const MANY_HOST = "many-rules.example";
const MANY_RULES = 53;
let browser: Browser;
let now = new Date("2026-05-04T09:00:00Z");

async function record(kind: "exposures" | "conversions", visitor: string, body: Record<string, string>) {
  const response = await http(`${app.url}/zephr/public/rule-outcomes/v1/${kind}`, {
    method: "POST",
    headers: { "content-type": "application/json", cookie: `blaize_tracking_id=${visitor}` },
    body: JSON.stringify(body),
  });
  expect(response.status).toBe(201);
}

/** `exposed` visitors of `outcomeId` on `day`, the first `converted` of them converting that day. */
async function cohort(ruleId: string, outcomeId: string, day: string, exposed: number, converted: number) {
  now = new Date(`${day}T10:00:00Z`);
  const visitors = Array.from({ length: exposed }, (_, index) => `${ruleId}-${outcomeId}-${day}-${index}`);
  for (let start = 0; start < visitors.length; start += 25) {
    await Promise.all(
      visitors.slice(start, start + 25).map((visitor) => record("exposures", visitor, { ruleId, outcomeId })),
    );
  }
  now = new Date(`${day}T15:00:00Z`);
  for (let start = 0; start < converted; start += 25) {
    await Promise.all(
      visitors
        .slice(start, Math.min(converted, start + 25))
        .map((visitor) => record("conversions", visitor, { ruleId, outcomeId, conversion: "REGISTERED" })),
    );
  }
}

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium (.ci/run does)`);
  const bootstrap = await startTestApp();
  acme = await createTenant(bootstrap);
  empty = await createTenant(bootstrap);
  many = await createTenant(bootstrap);
  await bootstrap.server.close();
  app = await startTestApp({ DEFAULT_ORGANISATION_ID: acme.organisationId }, bootstrap.database, {
    clock: () => now,
  });
  // B converts far better than A; C is under-exposed (a sample ratio mismatch against an equal split).
  await cohort(RULE, "A", "2026-05-01", 80, 8);
  await cohort(RULE, "B", "2026-05-01", 80, 40);
  await cohort(RULE, "C", "2026-05-01", 30, 4);
  await cohort(RULE, "A", "2026-05-02", 70, 7);
  await cohort(RULE, "B", "2026-05-02", 70, 35);
  await cohort(RULE, "C", "2026-05-02", 30, 3);
  // Two visitors of A also see B: crossovers.
  now = new Date("2026-05-03T08:00:00Z");
  await record("exposures", `${RULE}-A-2026-05-01-0`, { ruleId: RULE, outcomeId: "B" });
  await record("exposures", `${RULE}-A-2026-05-01-1`, { ruleId: RULE, outcomeId: "B" });
  await cohort(SINGLE, "only", "2026-05-03", 12, 3);
  await app.server.services.sites.add(many.organisationId, MANY_HOST);
  for (let index = 0; index < MANY_RULES; index++) {
    const response = await rawRequest(`${app.url}/zephr/public/rule-outcomes/v1/exposures`, {
      method: "POST",
      headers: { host: MANY_HOST, "content-type": "application/json", cookie: "blaize_tracking_id=many-visitor" },
      body: JSON.stringify({ ruleId: `rule-${String(index).padStart(2, "0")}`, outcomeId: "A" }),
    });
    expect(response.status).toBe(201);
  }
  now = new Date("2026-05-04T09:00:00Z");
  mkdirSync(SCREENSHOTS, { recursive: true });
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--no-first-run",
      "--disable-sync",
    ],
  });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await app?.stop();
});

const STATS = `query Stats($ruleId: ID!, $confidenceLevel: Float, $baselineOutcomeId: String, $conversion: String,
  $from: String, $to: String) {
  outcomeConversionStats(ruleId: $ruleId, confidenceLevel: $confidenceLevel, baselineOutcomeId: $baselineOutcomeId,
    conversion: $conversion, from: $from, to: $to) {
    baselineOutcomeId confidenceLevel totalExposures sampleRatioMismatch crossoverVisitors
    outcomes {
      outcomeId exposures converters conversions conversionRate confidenceInterval { lower upper }
      uplift upliftInterval { lower upper } pValue sequentialPValue chanceToBeatBaseline probabilityToBeBest
    }
  }
}`;

async function statsOf(apiKey: string, variables: Record<string, unknown>) {
  const answer = await graphql(app, STATS, variables, { "x-api-key": apiKey });
  expect(answer.body.errors).toBeUndefined();
  return answer.body.data.outcomeConversionStats;
}

/** The page's formats (README, "The analytics page"), written again with Node's Intl. */
function formatsFor(locale: string) {
  const percentFormat = new Intl.NumberFormat(locale, {
    style: "percent",
    minimumFractionDigits: 2,
    maximumFractionDigits: 2,
  });
  const signed = new Intl.NumberFormat(locale, {
    style: "percent",
    minimumFractionDigits: 2,
    maximumFractionDigits: 2,
    signDisplay: "exceptZero",
  });
  const four = new Intl.NumberFormat(locale, { minimumFractionDigits: 4, maximumFractionDigits: 4 });
  const integer = new Intl.NumberFormat(locale, { maximumFractionDigits: 0 });
  const orDash = (format: (value: number) => string) => (value: number | null) =>
    value === null ? "—" : format(value);
  const percent = orDash((value) => percentFormat.format(value));
  const signedPercent = orDash((value) => signed.format(value));
  return {
    integer: (value: number) => integer.format(value),
    percent,
    signedPercent,
    pValue: orDash((value) => (value < 0.0001 ? `< ${four.format(0.0001)}` : four.format(value))),
    interval: (value: { lower: number; upper: number } | null, format = percent) =>
      value === null ? "—" : `${format(value.lower)} – ${format(value.upper)}`,
  };
}

interface ShownCell {
  text: string;
  value?: string;
  lower?: string;
  upper?: string;
}

async function shownTable(page: Page): Promise<Record<string, Record<string, ShownCell>>> {
  return page.$$eval("#outcomes-table tbody tr", (rows) =>
    Object.fromEntries(
      rows.map((row) => [
        (row as HTMLElement).dataset.outcomeId,
        Object.fromEntries(
          [...row.querySelectorAll<HTMLElement>("[data-field]")].map((cell) => [
            cell.dataset.field,
            {
              text: cell.textContent ?? "",
              value: cell.dataset.value,
              lower: cell.dataset.lower,
              upper: cell.dataset.upper,
            },
          ]),
        ),
      ]),
    ),
  );
}

/** Every figure of every outcome as the page shows it equals the GraphQL answer, value and text. */
async function expectTableToShow(page: Page, stats: any, locale: string) {
  const format = formatsFor(locale);
  const shown = await shownTable(page);
  expect(Object.keys(shown)).toEqual(stats.outcomes.map((outcome: any) => outcome.outcomeId));
  const exact = (value: number | null) => (value === null ? "" : String(value));
  for (const outcome of stats.outcomes) {
    const row = shown[outcome.outcomeId]!;
    for (const field of ["exposures", "converters", "conversions"]) {
      expect(row[field]).toMatchObject({ value: exact(outcome[field]), text: format.integer(outcome[field]) });
    }
    for (const field of ["conversionRate", "chanceToBeatBaseline", "probabilityToBeBest"]) {
      expect(row[field]).toMatchObject({ value: exact(outcome[field]), text: format.percent(outcome[field]) });
    }
    expect(row.uplift).toMatchObject({ value: exact(outcome.uplift), text: format.signedPercent(outcome.uplift) });
    for (const field of ["pValue", "sequentialPValue"]) {
      expect(row[field]).toMatchObject({ value: exact(outcome[field]), text: format.pValue(outcome[field]) });
    }
    for (const [field, style] of [
      ["confidenceInterval", format.percent],
      ["upliftInterval", format.signedPercent],
    ] as const) {
      const range = outcome[field];
      expect(row[field]).toMatchObject({
        lower: exact(range?.lower ?? null),
        upper: exact(range?.upper ?? null),
        text: format.interval(range, style),
      });
    }
  }
}

interface Session {
  context: BrowserContext;
  page: Page;
  problems: string[];
}

/** A fresh browser profile: nothing stored from another test, every console error collected. */
async function openPage(options: { locale: string; width: number; height: number }): Promise<Session> {
  const context = await browser.newContext({
    locale: options.locale,
    viewport: { width: options.width, height: options.height },
    acceptDownloads: true,
  });
  const page = await context.newPage();
  const problems: string[] = [];
  page.on("console", (message) => {
    if (message.type() === "error") problems.push(`console: ${message.text()}`);
  });
  page.on("pageerror", (error) => problems.push(`page error: ${error.message}`));
  await page.goto(`${app.url}/analytics`);
  return { context, page, problems };
}

async function enterKey(page: Page, apiKey: string) {
  await page.locator("#api-key").waitFor();
  // The key field has the focus when the page opens: typing and Enter, no mouse.
  await page.keyboard.type(apiKey);
  await page.keyboard.press("Enter");
}

describe("GET /analytics", () => {
  it("serves the built page with a strict Content-Security-Policy, and its figures uncached", async () => {
    const page = await http(`${app.url}/analytics`);
    expect(page.status).toBe(200);
    expect(page.headers.get("content-type")).toMatch(/^text\/html/);
    expect(page.headers.get("content-security-policy")).toBe(ANALYTICS_PAGE_CSP);
    expect(ANALYTICS_PAGE_CSP).toContain("script-src 'self'");
    expect(ANALYTICS_PAGE_CSP).toContain("connect-src 'self'");
    expect(ANALYTICS_PAGE_CSP).not.toContain("unsafe-inline");
    // No inline script: every <script> has a src on this origin.
    const scripts = [...page.text.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/g)];
    expect(scripts.length).toBeGreaterThan(0);
    for (const [, attributes, body] of scripts) {
      expect(attributes).toMatch(/src="\/analytics\/assets\/[^"]+\.js"/);
      expect(body!.trim()).toBe("");
    }
    const asset = page.text.match(/src="(\/analytics\/assets\/[^"]+\.js)"/)![1]!;
    const script = await http(`${app.url}${asset}`);
    expect(script.status).toBe(200);
    expect(script.headers.get("content-security-policy")).toBe(ANALYTICS_PAGE_CSP);
    // The figures come from /graphql, never stored by a browser or a shared cache.
    const answer = await graphql(app, "{ rules { edges { node { ruleId } } } }", {}, { "x-api-key": acme.apiKey });
    expect(answer.headers.get("cache-control")).toBe("no-store");
    expect((await http(`${app.url}/analytics/../package.json`)).status).toBe(404);
  });

  it("refuses a wrong key with a clear message and keeps nothing of it", async () => {
    const { context, page, problems } = await openPage({ locale: "en-GB", width: 1280, height: 900 });
    await enterKey(page, "not-a-key");
    await expect.poll(() => page.locator("#message").textContent()).toContain("API key was not accepted");
    expect(await page.locator("#key-form").isVisible()).toBe(true);
    expect(await page.locator("#workspace").isVisible()).toBe(false);
    expect(await page.evaluate(() => sessionStorage.length)).toBe(0);
    // The browser logs a failed request (401) as an error itself; the page adds none of its own.
    expect(problems.filter((problem) => !problem.includes("401"))).toEqual([]);
    await context.close();
  });

  it("shows a rule's figures equal to the GraphQL answer, on a desktop, with the keyboard", async () => {
    const locale = "en-GB";
    const { context, page, problems } = await openPage({ locale, width: 1280, height: 900 });
    await enterKey(page, acme.apiKey);
    const ruleButton = page.locator(`button.rule[data-rule-id="${RULE}"]`);
    await ruleButton.waitFor();
    expect(
      await page.locator("button.rule").evaluateAll((buttons) => buttons.map((b) => (b as HTMLElement).dataset.ruleId)),
    ).toEqual(expect.arrayContaining([RULE, SINGLE]));
    expect(await page.evaluate(() => sessionStorage.length)).toBe(1);
    // After the key, the focus is on the first rule: Tab to ours and Enter.
    while (!(await ruleButton.evaluate((button) => button === document.activeElement)))
      await page.keyboard.press("Tab");
    await page.keyboard.press("Enter");
    await page.locator("#outcomes-table tbody tr").nth(2).waitFor();

    const stats = await statsOf(acme.apiKey, { ruleId: RULE });
    await expectTableToShow(page, stats, locale);
    const format = formatsFor(locale);
    expect(stats.baselineOutcomeId).toBe("A");
    expect(await page.locator('tr[data-outcome-id="A"]').getAttribute("class")).toContain("baseline");
    // B leads with a sequential p-value below α: highlighted, alone.
    const b = stats.outcomes.find((outcome: any) => outcome.outcomeId === "B");
    expect(b.sequentialPValue).toBeLessThan(0.05);
    expect(
      await page.locator("tr.leading").evaluateAll((rows) => rows.map((row) => (row as HTMLElement).dataset.outcomeId)),
    ).toEqual(["B"]);
    // C is under-exposed against an equal split: the banner, and the crossovers in the summary.
    expect(stats.sampleRatioMismatch).toBe(true);
    expect(await page.locator("#srm-warning").isVisible()).toBe(true);
    expect(await page.locator("#srm-warning").textContent()).toContain("Sample ratio mismatch");
    expect(stats.crossoverVisitors).toBe(2);
    expect(await page.locator("#summary").textContent()).toContain(
      `${format.integer(stats.crossoverVisitors)} saw more than one outcome`,
    );
    expect(await page.locator("#summary").textContent()).toContain(
      `${format.integer(stats.totalExposures)} visitors exposed`,
    );
    // The rate chart carries each rate and interval; the series chart the days of the series.
    const ratesLabel = (await page.locator("#rates-chart").getAttribute("aria-label")) ?? "";
    for (const outcome of stats.outcomes) {
      expect(ratesLabel).toContain(
        `${format.percent(outcome.conversionRate)} (${format.interval(outcome.confidenceInterval)})`,
      );
    }
    expect(ratesLabel).toContain("A (baseline)");
    const series = await graphql(
      app,
      `query($ruleId: ID!) { outcomeConversionSeries(ruleId: $ruleId) { days { day outcomes { outcomeId conversionRate } } } }`,
      { ruleId: RULE },
      { "x-api-key": acme.apiKey },
    );
    const days = series.body.data.outcomeConversionSeries.days;
    expect(days.map((day: any) => day.day)).toEqual(["2026-05-01", "2026-05-02", "2026-05-03", "2026-05-04"]);
    const seriesLabel = (await page.locator("#series-chart").getAttribute("aria-label")) ?? "";
    expect(seriesLabel).toContain(`${days.length} days to 2026-05-04`);
    for (const outcome of days.at(-1).outcomes) {
      expect(seriesLabel).toContain(
        `${outcome.outcomeId === "A" ? "A (baseline)" : outcome.outcomeId} ${format.percent(outcome.conversionRate)}`,
      );
    }
    await page.screenshot({ path: join(SCREENSHOTS, "desktop.png"), fullPage: true });

    // Filters: a stricter confidence level, B as the baseline, a window of the second day only.
    await page.locator("#filter-from").fill("2026-05-02");
    await page.locator("#filter-to").fill("2026-05-02");
    await page.locator("#filter-confidence").selectOption("0.99");
    await page.locator("#filter-baseline").selectOption("B");
    await page.locator("#filter-conversion").fill("REGISTERED");
    await page.locator("#filters button[type=submit]").click();
    await expect.poll(() => page.locator('tr[data-outcome-id="B"]').getAttribute("class")).toContain("baseline");
    const filtered = await statsOf(acme.apiKey, {
      ruleId: RULE,
      confidenceLevel: 0.99,
      baselineOutcomeId: "B",
      conversion: "REGISTERED",
      from: "2026-05-02",
      to: "2026-05-02",
    });
    // The window's cohorts: the second day's visitors only.
    expect(filtered.outcomes.map((outcome: any) => outcome.exposures)).toEqual([70, 70, 30]);
    await expectTableToShow(page, filtered, locale);
    await expect.poll(() => page.locator("#series-chart").getAttribute("aria-label")).toContain("1 day to 2026-05-02");
    expect(await page.locator("tr.leading").count()).toBe(0);

    // The CSV with the same filters, byte for byte what the route gives.
    const [download] = await Promise.all([page.waitForEvent("download"), page.locator("#download-csv").click()]);
    const saved = readFileSync((await download.path())!, "utf8");
    const direct = await http(
      `${app.url}/api/v1/rules/${RULE}/outcome-stats.csv?conversion=REGISTERED&from=2026-05-02&to=2026-05-02&confidenceLevel=0.99&baselineOutcomeId=B`,
      { headers: { "x-api-key": acme.apiKey } },
    );
    expect(direct.status).toBe(200);
    expect(saved).toBe(direct.text);
    expect(download.suggestedFilename()).toMatch(/\.csv$/);
    expect(problems).toEqual([]);
    await context.close();
  });

  it("is one column on a 390 px phone, in the browser's locale, and a rule with one outcome has no comparison", async () => {
    const locale = "de-DE";
    const { context, page, problems } = await openPage({ locale, width: 390, height: 844 });
    await enterKey(page, acme.apiKey);
    await page.locator(`button.rule[data-rule-id="${RULE}"]`).click();
    await page.locator("#outcomes-table tbody tr").nth(2).waitFor();
    await expectTableToShow(page, await statsOf(acme.apiKey, { ruleId: RULE }), locale);
    // German decimals: a comma.
    expect(await page.locator('tr[data-outcome-id="B"] [data-field="conversionRate"]').textContent()).toMatch(
      /^\d+,\d\d\s?%$/,
    );
    const rules = (await page.locator("nav.rules").boundingBox())!;
    const results = (await page.locator("#results").boundingBox())!;
    expect(results.y).toBeGreaterThanOrEqual(rules.y + rules.height);
    expect(results.width).toBeLessThanOrEqual(390);
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    await page.screenshot({ path: join(SCREENSHOTS, "phone-390.png"), fullPage: true });

    await page.locator(`button.rule[data-rule-id="${SINGLE}"]`).click();
    await expect.poll(() => page.locator("#rule-heading").textContent()).toBe(SINGLE);
    await expect.poll(() => page.locator("#outcomes-table tbody tr").count()).toBe(1);
    const single = await statsOf(acme.apiKey, { ruleId: SINGLE });
    await expectTableToShow(page, single, locale);
    expect(single.outcomes[0]).toMatchObject({ outcomeId: "only", exposures: 12, converters: 3, uplift: null });
    expect(await page.locator("tr.leading").count()).toBe(0);
    expect(await page.locator("#srm-warning").isVisible()).toBe(false);
    expect(await page.locator("#table-note").textContent()).toContain("No outcome leads");

    // A window longer than a series may be: the comparison shows, the series says why it does not.
    await page.locator("#filter-from").fill("2025-01-01");
    await page.locator("#filters button[type=submit]").click();
    await expect
      .poll(() => page.locator("#series-message").textContent())
      .toMatch(/a series covers at most 366 days, and this window has \d+/);
    expect(await page.locator("#series-chart").isVisible()).toBe(false);
    await expectTableToShow(page, await statsOf(acme.apiKey, { ruleId: SINGLE, from: "2025-01-01" }), locale);
    expect(problems).toEqual([]);
    await context.close();
  });

  it("lists the rules page by page", async () => {
    const { context, page, problems } = await openPage({ locale: "en-GB", width: 1280, height: 900 });
    await enterKey(page, many.apiKey);
    const ruleIds = () =>
      page.locator("button.rule").evaluateAll((buttons) => buttons.map((b) => (b as HTMLElement).dataset.ruleId));
    await expect.poll(async () => (await ruleIds()).length).toBe(50);
    expect(await page.locator("#more-rules").isVisible()).toBe(true);
    await page.locator("#more-rules").click();
    await expect.poll(async () => (await ruleIds()).length).toBe(MANY_RULES);
    expect(await ruleIds()).toEqual(Array.from({ length: MANY_RULES }, (_, i) => `rule-${String(i).padStart(2, "0")}`));
    expect(await page.locator("#more-rules").isVisible()).toBe(false);
    expect(problems).toEqual([]);
    await context.close();
  });

  it("shows an empty organisation as such, with nothing left of the key before it", async () => {
    const { context, page, problems } = await openPage({ locale: "en-GB", width: 1280, height: 900 });
    await enterKey(page, acme.apiKey);
    await page.locator(`button.rule[data-rule-id="${RULE}"]`).click();
    await page.locator("#outcomes-table tbody tr").nth(2).waitFor();
    await page.locator("#change-key").click();
    expect(await page.evaluate(() => sessionStorage.length)).toBe(0);
    await enterKey(page, empty.apiKey);
    await page.locator("#rules-empty").waitFor();
    expect(await page.locator("button.rule").count()).toBe(0);
    expect(await page.locator("#results").isVisible()).toBe(false);
    expect(await page.locator("#outcomes-table tbody tr").count()).toBe(0);
    const text = (await page.locator("body").textContent()) ?? "";
    expect(text).not.toContain(RULE);
    expect(text).not.toContain(SINGLE);
    // A reload keeps the tab's key (sessionStorage) and shows the same empty organisation.
    await page.reload();
    await page.locator("#rules-empty").waitFor();
    expect(await page.locator("#key-form").isVisible()).toBe(false);
    expect(problems).toEqual([]);
    await context.close();
  });
});
