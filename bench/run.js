// npm run bench: what group commit and the daily counters buy, each measured against its baseline
// in the same run, on the real service (compiled dist/, started in-process with startServer).
//
// 1. Logging throughput, POST /api/v2/conversions: (a) as shipped (BatchWriter group commit,
//    WRITER_MAX_BATCH default) versus (b) one transaction per request (the same service with
//    WRITER_MAX_BATCH=1: each event its own INSERT + COMMIT; the single writer loop stays, so these
//    commits also run one after another). MariaDB, then SQLite (a temp file).
//    On MariaDB also (c), the fairer naive baseline: one transaction per request, the requests'
//    transactions running concurrently on the connection pool (no writer loop at all); see
//    naiveWriter() below. Not on SQLite, where transactions run one at a time anyway.
// 2. The same for POST /zephr/public/rule-outcomes/v1/conversions, visitors exposed beforehand.
// 3. Rule stats read the daily counters, so their cost should not grow with the events: the median
//    time of services.rules.stats() at ~1k and ~100k events of one rule, versus counting the raw
//    events (rule_exposures / rule_conversion_events) at both sizes.
//
// Load: autocannon, 50 connections, in a child process (bench/load.js) so it does not share the
// server's event loop. Each variant gets a fresh server: a 3 s warm-up on another tenant, then a
// fixed number of requests sized by the warm-up's last second to last ~5 s, so every request sent
// is answered and the stored rows can be checked exactly against the 2xx answers (nothing
// acknowledged lost, nothing unacknowledged stored). Any failure exits non-zero.
//
// BENCH_DATABASE_URL (default mysql://root@127.0.0.1:3306/test) names a MariaDB/MySQL server where
// a database bench_<random> is created and dropped at the end. BENCH_SKIP_SQLITE=1 skips SQLite.
"use strict";

require("reflect-metadata");
const { fork } = require("node:child_process");
const { randomBytes, randomUUID } = require("node:crypto");
const { mkdtempSync, rmSync } = require("node:fs");
const { tmpdir } = require("node:os");
const { join } = require("node:path");
const { createConnection } = require("mysql2/promise");
const { loadConfig } = require("../dist/src/config");
const { persistEvents } = require("../dist/src/services");
const { ShuttingDown } = require("../dist/src/errors");
const { startServer } = require("../dist/src/server");

const SERVER_URL = process.env.BENCH_DATABASE_URL?.trim() || "mysql://root@127.0.0.1:3306/test";
const CONNECTIONS = 50;
const WARMUP_SECONDS = 3;
const MEASURE_SECONDS = 5;
const VISITORS = 1000;
const STATS_CALLS = 50;
const failures = [];
/** The one load generator of the run (bench/load.js), kept warm from one measurement to the next. */
let load;

// ---------------------------------------------------------------- helpers

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const fmt = (value, digits = 1) => value.toFixed(digits).padStart(9);

async function createMysqlDatabase() {
  const name = `bench_${randomBytes(6).toString("hex")}`;
  let admin;
  try {
    admin = await createConnection({ uri: SERVER_URL.replace(/^mariadb:/, "mysql:"), connectTimeout: 5_000 });
  } catch (error) {
    throw new Error(`BENCH_DATABASE_URL=${SERVER_URL} is not reachable: ${error.message}`);
  }
  await admin.query(`CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`);
  const [[server]] = await admin.query(
    "SELECT VERSION() AS version, @@innodb_flush_log_at_trx_commit AS flush, @@log_bin AS binlog",
  );
  await admin.end();
  const url = new URL(SERVER_URL);
  url.pathname = `/${name}`;
  return {
    env: { DATABASE_URL: url.toString() },
    label: `MariaDB/MySQL ${server.version} (innodb_flush_log_at_trx_commit=${server.flush}, binlog ${server.binlog ? "on" : "off"})`,
    drop: async () => {
      const connection = await createConnection({ uri: SERVER_URL.replace(/^mariadb:/, "mysql:") });
      await connection.query(`DROP DATABASE IF EXISTS \`${name}\``);
      await connection.end();
    },
  };
}

function createSqliteDatabase() {
  const dir = mkdtempSync(join(tmpdir(), "conversions-bench-"));
  return {
    env: { SQLITE_PATH: join(dir, "bench.sqlite") },
    label: `SQLite (temp file ${join(dir, "bench.sqlite")})`,
    drop: async () => rmSync(dir, { recursive: true, force: true }),
  };
}

async function withServer(database, env, work) {
  const config = loadConfig({
    NODE_ENV: "production",
    LOG_LEVEL: "silent",
    HOST: "127.0.0.1",
    PORT: "0",
    // One load generator is one client address: the per-address limit on public calls would refuse it.
    PUBLIC_VISITOR_RATE_LIMIT_PER_MINUTE: "0",
    ...database.env,
    ...env,
  });
  // Apollo Server logs an info line at start through its own logger, which LOG_LEVEL does not reach.
  const info = console.info;
  console.info = () => {};
  const server = await startServer(config).finally(() => {
    console.info = info;
  });
  try {
    return await work(server);
  } finally {
    await server.close();
  }
}

/** Starts bench/load.js; run(job) resolves with the summary of one autocannon job. */
function loadGenerator() {
  const child = fork(join(__dirname, "load.js"));
  let failed;
  child.once("exit", (code) => {
    if (code !== 0) failed?.(new Error(`load generator exited with ${code}`));
  });
  return {
    run: (job) =>
      new Promise((resolve, reject) => {
        failed = reject;
        child.once("message", resolve);
        child.send({ connections: CONNECTIONS, ...job });
      }),
    stop: () => child.disconnect(),
  };
}

/**
 * Variant (c): the writer a service without group commit would have. Same surface as BatchWriter
 * (enqueue, drain, pending), but enqueue() at once runs the real persister on that one item, so
 * every request commits its own transaction, concurrently with the others on the pool (mysql2,
 * connectionLimit 20; the requests beyond wait for a connection). Deadlocks are retried by the
 * persister as in production. No queue bound, so no 503 Overloaded. `calls` counts the items, so
 * the bench can check that the swapped-in writer is the one the requests went through.
 */
function naiveWriter(dataSource) {
  const persist = persistEvents(dataSource);
  const inFlight = new Set();
  let closed = false;
  const writer = {
    calls: 0,
    enqueue(item) {
      if (closed) return Promise.reject(new ShuttingDown());
      writer.calls++;
      const done = persist([item]);
      const settled = done.then(
        () => inFlight.delete(settled),
        () => inFlight.delete(settled),
      );
      inFlight.add(settled);
      return done;
    },
    get pending() {
      return inFlight.size;
    },
    /** Refuses new items and waits until every accepted one is stored (or failed), as BatchWriter. */
    async drain() {
      closed = true;
      while (inFlight.size > 0) await Promise.all(inFlight);
    },
  };
  return writer;
}

/**
 * Swaps the naive writer into a running server. Done here, not as an option in src/: the shipped
 * service has exactly one write path (BatchWriter) and this baseline exists only to be measured, so
 * it stays out of the product code. createServices() (src/services.ts) hands the one BatchWriter to
 * the ConversionService and RuleService constructors, which keep it in their own `events` field
 * (TypeScript `private readonly`, a plain property at run time), so replacing services.writer alone
 * would change nothing for the requests: the fields of both services are replaced, and
 * services.writer too (what the bench's own setup enqueues to and what server.close() drains).
 * The original BatchWriter, never started, is left unused.
 */
function installNaiveWriter(services) {
  const naive = naiveWriter(services.dataSource);
  services.conversions.events = naive;
  services.rules.events = naive;
  services.writer = naive;
  return naive;
}

/**
 * Warm-up on one tenant, then ~5 s of load on a fresh one; checks stored rows = success answers.
 * scenario.tenant(services, tag) -> { request: job fields, rows(): Promise<number> }.
 */
async function measure(database, scenario, variant) {
  return withServer(database, variant.env, async ({ services, url }) => {
    const naive = variant.naive ? installNaiveWriter(services) : undefined;
    const warm = await scenario.tenant(services, "warm");
    const warmup = await load.run({ url, ...warm.request, duration: WARMUP_SECONDS });
    const tenant = await scenario.tenant(services, "measured");
    const callsBefore = naive?.calls ?? 0;
    const amount = Math.max(CONNECTIONS * 5, Math.round(warmup.lastSecondPerSecond * MEASURE_SECONDS));
    const result = await load.run({ url, ...tenant.request, amount });
    const answered = result.statuses[scenario.success] ?? 0;
    const rows = await tenant.rows();
    // (c): every acknowledged request must have gone through the naive writer, not the BatchWriter.
    const viaNaive = naive ? naive.calls - callsBefore >= answered : true;
    const ok = rows === answered && result.completed === amount && result.errors === 0 && viaNaive;
    if (!ok) {
      failures.push(
        `${scenario.name} ${variant.label}: ${rows} rows for ${answered} ${scenario.success}s, ` +
          `${result.completed}/${amount} answered, ${result.errors} socket errors` +
          (naive ? `, ${naive.calls - callsBefore} items through the naive writer` : ""),
      );
    }
    return { ...result, answered, rows, ok };
  });
}

async function compareWriters(title, database, scenario, { naive = false } = {}) {
  console.log(`\n${title}`);
  console.log(`  ${database.label}; ${CONNECTIONS} connections, ~${MEASURE_SECONDS} s each after a warm-up`);
  const variants = [
    {
      key: "b",
      label: "(b) baseline: one transaction per request (WRITER_MAX_BATCH=1)",
      env: { WRITER_MAX_BATCH: "1" },
    },
    ...(naive
      ? [{ key: "c", label: "(c) naive: one transaction per request, concurrent on the pool", env: {}, naive: true }]
      : []),
    { key: "a", label: "(a) as shipped: group commit (WRITER_MAX_BATCH=500, default)", env: {} },
  ];
  console.log(
    `  ${"".padEnd(66)}   req/s    p50 ms    p99 ms  seconds   non-2xx  ${scenario.success}s      rows   rows = ${scenario.success}s`,
  );
  const results = {};
  for (const variant of variants) {
    const r = await measure(database, scenario, variant);
    results[variant.key] = r;
    const check = r.ok ? "yes" : "NO  <-- see the failures below";
    console.log(
      `  ${variant.label.padEnd(66)}${fmt(r.perSecond, 0)}${fmt(r.p50)}${fmt(r.p99)}${fmt(r.seconds)}${String(r.non2xx).padStart(10)}` +
        `${String(r.answered).padStart(10)}${String(r.rows).padStart(10)}   ${check}`,
    );
  }
  const shipped = results.a;
  for (const key of Object.keys(results).filter((k) => k !== "a")) {
    const baseline = results[key];
    console.log(
      `  ratio (a)/(${key}): throughput x${(shipped.perSecond / baseline.perSecond).toFixed(2)}, ` +
        `p50 x${(shipped.p50 / baseline.p50).toFixed(2)}, p99 x${(shipped.p99 / baseline.p99).toFixed(2)}`,
    );
  }
}

// ---------------------------------------------------------------- scenarios

/** POST /api/v2/conversions with an API key and a known contact: 202. */
const restConversions = {
  name: "POST /api/v2/conversions",
  success: "202",
  async tenant(services, tag) {
    const organisation = await services.organisations.create(`bench ${tag}`);
    const { key } = await services.apiKeys.create(organisation.id, "bench");
    await services.contacts.upsert(organisation.id, ["buyer@bench.test"]);
    const count = `SELECT COUNT(*) AS n FROM conversions WHERE organisation_id = '${organisation.id}'`;
    return {
      request: {
        path: "/api/v2/conversions",
        headers: { "x-api-key": key, "content-type": "application/json" },
        body: JSON.stringify({
          email: "buyer@bench.test",
          conversion_type: "purchase",
          conversion_data: { item: "premium_subscription", price: 99.99 },
        }),
      },
      rows: async () => Number((await services.dataSource.query(count))[0].n),
    };
  },
};

/** POST /zephr/public/rule-outcomes/v1/conversions from VISITORS exposed beforehand: 201. */
const ruleConversions = {
  name: "POST /zephr/public/rule-outcomes/v1/conversions",
  success: "201",
  async tenant(services, tag) {
    const organisation = await services.organisations.create(`bench ${tag}`);
    const host = `${tag}-${randomBytes(4).toString("hex")}.bench.test`;
    await services.sites.add(organisation.id, host);
    const ruleId = "bench-rule";
    // Every visitor exposed beforehand, straight through the writer (100 per queued item): setup, not measured.
    const exposures = Array.from({ length: VISITORS }, (_, i) => ({
      organisationId: organisation.id,
      ruleId,
      outcomeId: i % 2 === 0 ? "A" : "B",
      trackingId: `v${i}`,
      userId: null,
      at: new Date(Date.now() - 60_000),
    }));
    const chunks = Array.from({ length: VISITORS / 100 }, (_, i) => exposures.slice(i * 100, i * 100 + 100));
    await Promise.all(chunks.map((rows) => services.writer.enqueue({ kind: "exposures", rows })));
    const count = `SELECT COUNT(*) AS n FROM rule_conversion_events WHERE organisation_id = '${organisation.id}'`;
    return {
      request: {
        path: "/zephr/public/rule-outcomes/v1/conversions",
        headers: { host, "content-type": "application/json" },
        visitors: { count: VISITORS, ruleId },
      },
      rows: async () => Number((await services.dataSource.query(count))[0].n),
    };
  },
};

// ---------------------------------------------------------------- 3. stats versus raw counts

/**
 * Records events of one rule until `total`: visitor v is exposed to outcome A or B on one of the
 * last 30 days, and every third visitor converts a minute later. Enqueued in waves of 5,000 so
 * the writer fills whole batches (the queue holds 10,000 at most).
 */
async function recordRuleEvents(services, organisationId, ruleId, state, total) {
  while (state.events < total) {
    const wave = [];
    while (wave.length < 5_000 && state.events < total) {
      const v = state.visitors++;
      const base = { organisationId, ruleId, outcomeId: v % 2 === 0 ? "A" : "B", trackingId: `s${v}`, userId: null };
      const exposedAt = new Date(Date.now() - (v % 30) * 86_400_000 - 3_600_000);
      wave.push(services.writer.enqueue({ kind: "exposures", rows: [{ ...base, at: exposedAt }] }));
      state.events++;
      if (v % 3 === 0 && state.events < total) {
        const at = new Date(exposedAt.getTime() + 60_000);
        const conversion = { ...base, id: randomUUID(), conversion: "purchase", at };
        wave.push(services.writer.enqueue({ kind: "ruleConversions", rows: [conversion] }));
        state.events++;
      }
    }
    await Promise.all(wave);
  }
}

async function timeMedian(fn) {
  await fn(); // warm
  const times = [];
  for (let i = 0; i < STATS_CALLS; i++) {
    const start = performance.now();
    await fn();
    times.push(performance.now() - start);
  }
  return median(times);
}

async function statsVersusRawCounts(database) {
  console.log(`\n3. Rule stats cost versus number of events (median of ${STATS_CALLS} calls)`);
  console.log(`  ${database.label}`);
  await withServer(database, {}, async ({ services }) => {
    const organisation = await services.organisations.create("bench stats");
    const ruleId = "bench-stats-rule";
    const state = { events: 0, visitors: 0 };
    const rawCount = async () => {
      const exposures = await services.dataSource.query(
        `SELECT outcome_id, COUNT(DISTINCT tracking_id) AS n FROM rule_exposures
          WHERE organisation_id = ? AND rule_id = ? GROUP BY outcome_id`,
        [organisation.id, ruleId],
      );
      const conversions = await services.dataSource.query(
        `SELECT outcome_id, COUNT(*) AS n FROM rule_conversion_events
          WHERE organisation_id = ? AND rule_id = ? AND attributed = 1 GROUP BY outcome_id`,
        [organisation.id, ruleId],
      );
      const sum = (rows) => rows.reduce((total, row) => total + Number(row.n), 0);
      return { exposures: sum(exposures), conversions: sum(conversions) };
    };
    const stats = () => services.rules.stats(organisation.id, { ruleId });
    const sizes = [];
    for (const total of [1_000, 100_000]) {
      const start = performance.now();
      await recordRuleEvents(services, organisation.id, ruleId, state, total);
      const seconds = (performance.now() - start) / 1000;
      // The counters must agree with the raw events before their speed means anything.
      const fromStats = await stats();
      const raw = await rawCount();
      const statsConversions = fromStats.outcomes.reduce((sum, outcome) => sum + outcome.conversions, 0);
      const agree = fromStats.totalExposures === raw.exposures && statsConversions === raw.conversions;
      if (!agree) failures.push(`stats at ${total} events disagree with the raw counts`);
      sizes.push({
        total,
        seconds,
        agree,
        raw,
        statsMs: await timeMedian(stats),
        rawMs: await timeMedian(rawCount),
      });
    }
    for (const size of sizes) {
      console.log(
        `  ${String(size.total).padStart(7)} events (recorded in ${size.seconds.toFixed(1)} s; ${size.raw.exposures} exposures, ` +
          `${size.raw.conversions} attributed conversions; stats = raw counts: ${size.agree ? "yes" : "NO"})`,
      );
    }
    const [small, large] = sizes;
    console.log(`  ${"".padEnd(58)}  1k ms  100k ms   growth`);
    for (const [label, key] of [
      ["rules.stats() from daily counters (as shipped)", "statsMs"],
      ["baseline: COUNT(DISTINCT ...) / COUNT(*) over raw events", "rawMs"],
    ]) {
      console.log(
        `  ${label.padEnd(58)}${fmt(small[key], 2)}${fmt(large[key], 2)}   x${(large[key] / small[key]).toFixed(1)}`,
      );
    }
    console.log(
      `  at 100k events the raw count takes x${(large.rawMs / large.statsMs).toFixed(1)} the time of rules.stats()`,
    );
  });
}

// ---------------------------------------------------------------- main

async function main() {
  const started = performance.now();
  const mysql = await createMysqlDatabase();
  load = loadGenerator();
  try {
    await compareWriters("1. Logging throughput: POST /api/v2/conversions (202)", mysql, restConversions, {
      naive: true,
    });
    await compareWriters(
      "2. Logging throughput: POST /zephr/public/rule-outcomes/v1/conversions (201)",
      mysql,
      ruleConversions,
      { naive: true },
    );
    await statsVersusRawCounts(mysql);
  } finally {
    await mysql.drop();
  }
  if (process.env.BENCH_SKIP_SQLITE !== "1") {
    const sqlite = createSqliteDatabase();
    try {
      await compareWriters("1 (SQLite). Logging throughput: POST /api/v2/conversions (202)", sqlite, restConversions);
    } finally {
      await sqlite.drop();
    }
  }
  load.stop();
  console.log(`\nTotal ${((performance.now() - started) / 1000).toFixed(0)} s.`);
  if (failures.length > 0) throw new Error(`checks failed:\n  ${failures.join("\n  ")}`);
}

main().catch((error) => {
  console.error(`\nbench failed: ${error.stack ?? error}`);
  process.exit(1);
});
