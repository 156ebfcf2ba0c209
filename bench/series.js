// Cost of outcomeConversionSeries at its limit: 366 days x 10 outcomes, read from the counters and
// assembled (running sums, Wilson, p-values, sequential p-values, probability to be best per day).
// The counters: every outcome exposed on every day, each cohort day converting over the next 7 days
// (25,620 (cohort day, conversion day) cells). Reports the median wall time of the read, of the
// assembly, and of both, over 51 runs after a warm-up, on an in-memory SQLite database migrated as
// in production. Standalone: `npm run build`, then `node bench/series.js`.
"use strict";

// graphql-js checks its types more slowly unless NODE_ENV is production when it is first loaded.
process.env.NODE_ENV = "production";
require("reflect-metadata");
const { fork } = require("node:child_process");
const { createHash } = require("node:crypto");
const { createBenchDatabase } = require("./database");
const { openDatabase, resolveDatabaseTarget } = require("../dist/src/db/data-source.js");
const { entities } = require("../dist/src/services.js");
const { RuleCounters } = require("../dist/src/rules/rule-counters.js");
const { computeRuleSeries, daysFrom } = require("../dist/src/rules/rule-stats.js");
const { loadConfig } = require("../dist/src/config.js");
const { startServer } = require("../dist/src/server.js");

const ORGANISATION = "00000000-0000-4000-8000-000000000001";
const RULE = "bench-rule";
const OUTCOMES = Array.from({ length: 10 }, (_, index) => `outcome-${index}`);
const FROM = "2025-03-01";
const DAYS = daysFrom(FROM, "2026-03-01");
const key = (...parts) => createHash("sha256").update(JSON.stringify(parts)).digest("hex");

async function insert(dataSource, table, columns, rows) {
  for (let start = 0; start < rows.length; start += 500) {
    const chunk = rows.slice(start, start + 500);
    const placeholders = `(${columns.map(() => "?").join(", ")})`;
    await dataSource.query(
      `INSERT INTO ${table} (${columns.join(", ")}) VALUES ${chunk.map(() => placeholders).join(", ")}`,
      chunk.flat(),
    );
  }
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

/** Writes the counters of RULE for `organisationId`; returns how many rows of each table. */
async function seedCounters(dataSource, organisationId) {
  const ORGANISATION = organisationId;
  const now = "2026-03-01 12:00:00.000";
  await insert(
    dataSource,
    "rule_outcomes",
    ["organisation_id", "rule_id", "outcome_id", "exposures", "first_seen_at", "last_activity_at"],
    OUTCOMES.map((outcome) => [ORGANISATION, RULE, outcome, 0, now, now]),
  );
  const daily = [];
  const pairs = [];
  OUTCOMES.forEach((outcome, o) => {
    DAYS.forEach((day, d) => {
      // What every cohort recorded on this day, as the writer keeps it beside the (cohort day, day) cells.
      let recorded = 0;
      for (let cohort = Math.max(0, d - 6); cohort <= d; cohort++) recorded += 1 + ((o + cohort + d) % 3);
      daily.push([
        key(ORGANISATION, RULE, outcome, "", day),
        ORGANISATION,
        RULE,
        outcome,
        "",
        day,
        200 + o,
        0,
        0,
        0,
        recorded,
        recorded + (d - Math.max(0, d - 6) + 1),
      ]);
      for (let later = d; later < Math.min(DAYS.length, d + 7); later++) {
        const converters = 1 + ((o + d + later) % 3);
        pairs.push([
          key(ORGANISATION, RULE, outcome, "", day, DAYS[later]),
          ORGANISATION,
          RULE,
          outcome,
          "",
          day,
          DAYS[later],
          converters,
          converters + 1,
        ]);
      }
    });
  });
  await insert(
    dataSource,
    "rule_outcome_daily_stats",
    [
      "counter_key",
      "organisation_id",
      "rule_id",
      "outcome_id",
      "conversion_type",
      "day",
      "exposures",
      "converters",
      "conversions",
      "unattributed",
      "recorded_converters",
      "recorded_conversions",
    ],
    daily,
  );
  await insert(
    dataSource,
    "rule_outcome_conversion_days",
    [
      "counter_key",
      "organisation_id",
      "rule_id",
      "outcome_id",
      "conversion_type",
      "cohort_day",
      "conversion_day",
      "converters",
      "conversions",
    ],
    pairs,
  );
  return { daily: daily.length, pairs: pairs.length };
}

async function measureParts() {
  const database = await benchDatabase();
  const dataSource = await openDatabase(
    await resolveDatabaseTarget({ SQLITE_PATH: ":memory:", DATABASE_URL: database?.url }),
    entities,
  );
  const rows = await seedCounters(dataSource, ORGANISATION);
  const counters = new RuleCounters(dataSource);
  const filter = {
    ruleId: RULE,
    conversion: null,
    from: FROM,
    to: DAYS.at(-1),
    baselineOutcomeId: null,
    confidenceLevel: 0.95,
    sequentialTuning: 5000,
  };
  const reads = [];
  const assemblies = [];
  const totals = [];
  let series;
  for (let run = 0; run < 61; run++) {
    const start = process.hrtime.bigint();
    const counts = await counters.outcomeDailyCounts(ORGANISATION, filter, FROM, filter.to);
    const read = process.hrtime.bigint();
    series = await computeRuleSeries(filter, FROM, filter.to, counts);
    const done = process.hrtime.bigint();
    if (run < 10) continue; // warm-up
    reads.push(Number(read - start) / 1e6);
    assemblies.push(Number(done - read) / 1e6);
    totals.push(Number(done - start) / 1e6);
  }
  // The two statements of the read, each on its own.
  const statements = {
    // As RuleCounters reads them: on SQLite an outcome's cells as one string.
    daily: [
      database
        ? "SELECT outcome_id, conversion_type, day, exposures, recorded_converters, recorded_conversions FROM rule_outcome_daily_stats WHERE organisation_id = ? AND rule_id = ? AND conversion_type IN (?, ?) AND day >= ? AND day <= ?"
        : "SELECT outcome_id, conversion_type, group_concat(day || ' ' || exposures || ' ' || recorded_converters || ' ' || recorded_conversions, ' ') AS cells FROM rule_outcome_daily_stats WHERE organisation_id = ? AND rule_id = ? AND conversion_type IN (?, ?) AND day >= ? AND day <= ? GROUP BY outcome_id, conversion_type",
      [ORGANISATION, RULE, "", "", FROM, filter.to],
    ],
    earlierCohorts: [
      "SELECT outcome_id, conversion_day, SUM(converters) AS converters, SUM(conversions) AS conversions FROM rule_outcome_conversion_days WHERE organisation_id = ? AND rule_id = ? AND conversion_type = ? AND cohort_day < ? AND conversion_day >= ? AND conversion_day <= ? GROUP BY outcome_id, conversion_day",
      [ORGANISATION, RULE, "", FROM, FROM, filter.to],
    ],
  };
  const statementTimes = {};
  for (const [name, [sql, parameters]] of Object.entries(statements)) {
    const times = [];
    for (let run = 0; run < 31; run++) {
      const start = process.hrtime.bigint();
      await dataSource.query(sql, parameters);
      times.push(Number(process.hrtime.bigint() - start) / 1e6);
    }
    statementTimes[name] = median(times).toFixed(1);
  }
  const cells = series.days.length * series.days[0].outcomes.length;
  if (cells !== 3660) throw new Error(`expected 3,660 (day, outcome) figures, got ${cells}`);
  console.log(
    `outcomeConversionSeries, 366 days x 10 outcomes (${rows.daily} daily and ${rows.pairs} conversion-day counter rows), ` +
      `${database ? "MariaDB/MySQL" : "SQLite in memory"}, median of 51: read ${median(reads).toFixed(1)} ms, assembly ${median(assemblies).toFixed(1)} ms, ` +
      `total ${median(totals).toFixed(1)} ms (statements: daily counters ${statementTimes.daily} ms, ` +
      `earlier cohorts ${statementTimes.earlierCohorts} ms)`,
  );
  await dataSource.destroy();
  await database?.drop();
}

const seriesQuery = (figures) => `query($ruleId: ID!, $from: String, $to: String) {
  outcomeConversionSeries(ruleId: $ruleId, from: $from, to: $to) { days { day outcomes { ${figures} } } }
}`;
const SERIES_FIGURES =
  "outcomeId exposures converters conversions conversionRate confidenceInterval { lower upper } uplift pValue sequentialPValue";
// Every figure; and all but probabilityToBeBest, whose posterior passes are then left out.
const SERIES_QUERY = seriesQuery(`${SERIES_FIGURES} probabilityToBeBest`);
const SERIES_QUERY_WITHOUT_BEST = seriesQuery(SERIES_FIGURES);

/**
 * BENCH_SERIES_DATABASE_URL (mysql://...): the requests are measured on a database bench_series_<random> of that
 * server, dropped at the end; unset, on SQLite in memory.
 */
function benchDatabase() {
  const serverUrl = process.env.BENCH_SERIES_DATABASE_URL?.trim();
  return serverUrl ? createBenchDatabase(serverUrl, "bench_series") : null;
}

/**
 * The client of the request measurement, in its own process (as a browser or the router would be): the series
 * asked for over GraphQL and as the daily CSV, one request at a time, 41 runs of which the first 10 warm up.
 * A request's time runs from sending it to the last byte of its answer; the client's own parse of the answer
 * (JSON.parse of 1.1 MB) comes after and is reported apart, as it is no part of the service's latency.
 */
async function runClient({ url, key }) {
  const headers = { "content-type": "application/json", "x-api-key": key };
  const variables = { ruleId: RULE, from: FROM, to: DAYS.at(-1) };
  const graphql =
    (query, checkDays = () => undefined) =>
    async () => {
      const body = JSON.stringify({ query, variables });
      const response = await fetch(`${url}/graphql`, { method: "POST", headers, body });
      const text = await response.text();
      return () => {
        const answer = JSON.parse(text);
        if (answer.errors || answer.data.outcomeConversionSeries.days.length !== 366) {
          throw new Error(`unexpected series answer: ${text.slice(0, 300)}`);
        }
        checkDays(answer.data.outcomeConversionSeries.days);
      };
    };
  const csvUrl = `${url}/api/v1/rules/${RULE}/outcome-stats.csv?interval=day&from=${FROM}&to=${DAYS.at(-1)}`;
  // A live rule: one more converter on the last day before each request (written by the parent, untimed),
  // so that one day's figures are new on every request and the other days' remain as they were.
  let lastDayConverters = -1;
  const liveRule = async () => {
    await new Promise((resolve) => {
      process.once("message", resolve);
      process.send({ bumpLastDay: true });
    });
    return graphql(SERIES_QUERY, (days) => {
      const { converters } = days.at(-1).outcomes[0];
      if (converters <= lastDayConverters) throw new Error(`the live rule's last day did not change (${converters})`);
      lastDayConverters = converters;
    });
  };
  const requests = {
    graphql: graphql(SERIES_QUERY),
    "graphql of a live rule": liveRule,
    "graphql without probabilityToBeBest": graphql(SERIES_QUERY_WITHOUT_BEST),
    csv: async () => {
      const response = await fetch(csvUrl, { headers: { "x-api-key": key } });
      const text = await response.text();
      return () => {
        if (response.status !== 200 || text.trimEnd().split("\n").length !== 3661) {
          throw new Error(`unexpected CSV answer ${response.status}: ${text.slice(0, 300)}`);
        }
      };
    },
  };
  // The client's own first request (its HTTP stack's set-up, 20–40 ms) is no part of the service's latency: one
  // to /health first, as a readiness probe would have sent before any client came.
  await (await fetch(`${url}/health`)).text();
  const figures = [];
  for (const [name, send] of Object.entries(requests)) {
    const times = [];
    const parses = [];
    const firsts = [];
    for (let run = 0; run < 41; run++) {
      // A live rule's request is made once its counts changed.
      const sendNow = name === "graphql of a live rule" ? await send() : send;
      const start = performance.now();
      const check = await sendNow();
      const received = performance.now();
      check();
      if (run < 2) firsts.push(received - start);
      if (run >= 10) {
        times.push(received - start);
        parses.push(performance.now() - received);
      }
    }
    times.sort((a, b) => a - b);
    figures.push(
      `${name} p50 ${median(times).toFixed(1)} ms, slowest ${times.at(-1).toFixed(1)} ms ` +
        `(first two ${firsts.map((time) => time.toFixed(1)).join(", ")} ms) ` +
        `(then the client's parse and check ${median(parses).toFixed(1)} ms)`,
    );
  }
  return figures;
}

/**
 * The whole request as a client sees it: the compiled service started as in production (SQLite in memory) in
 * this process, its client (runClient) in a child process, so that the two do not share one event loop.
 */
async function measureRequests() {
  const database = await benchDatabase();
  const config = loadConfig({
    ...process.env,
    HOST: "127.0.0.1",
    PORT: "0",
    NODE_ENV: "production",
    SQLITE_PATH: ":memory:",
    DATABASE_URL: database?.url ?? "",
    LOG_LEVEL: "warn",
  });
  const server = await startServer(config);
  try {
    const { services } = server;
    const organisation = await services.organisations.create("bench series");
    const { key } = await services.apiKeys.create(organisation.id, "bench");
    await seedCounters(services.dataSource, organisation.id);
    const client = fork(__filename, { env: { ...process.env, BENCH_SERIES_CLIENT: "1" } });
    const bumpLastDay = () =>
      services.dataSource.query(
        "UPDATE rule_outcome_daily_stats SET recorded_converters = recorded_converters + 1 WHERE organisation_id = ? AND rule_id = ? AND outcome_id = ? AND day = ?",
        [organisation.id, RULE, OUTCOMES[0], DAYS.at(-1)],
      );
    const figures = await new Promise((resolve, reject) => {
      client.on("message", (message) => {
        if (message.bumpLastDay) {
          bumpLastDay().then(() => client.send({ bumped: true }), reject);
          return;
        }
        if (message.error) reject(new Error(message.error));
        else resolve(message.figures);
      });
      client.once("exit", (code) => reject(new Error(`the client exited with ${code} before it reported`)));
      client.send({ url: server.url, key });
    });
    console.log(
      `outcomeConversionSeries request end to end, 366 days x 10 outcomes, ${database ? "MariaDB/MySQL" : "SQLite in memory"}: ${figures.join("; ")}`,
    );
  } finally {
    await server.close();
    await database?.drop();
  }
}

async function main() {
  if (process.env.BENCH_SERIES_CLIENT) {
    process.once("message", (target) =>
      runClient(target).then(
        (figures) => process.send({ figures }, () => process.exit(0)),
        (error) => process.send({ error: String(error?.stack ?? error) }, () => process.exit(1)),
      ),
    );
    return;
  }
  if (DAYS.length !== 366) throw new Error(`expected 366 days, got ${DAYS.length}`);
  // BENCH_SERIES=parts or =requests measures one of the two (e.g. under --cpu-prof).
  const only = process.env.BENCH_SERIES;
  if (only !== "requests") await measureParts();
  if (only !== "parts") await measureRequests();
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
