// npm run bench: the service against baselines that do no work, side by side in one run (issue 10).
//
// Processes, each on its own: the service (bench/service.js: the compiled service with its real
// settings on MariaDB, request logs at info to a file), a bare Fastify 5 route validating the same
// body (bench/baseline-fastify.js), a bare Apollo Server 5 on Fastify with a no-op logConversion
// (bench/baseline-apollo.js), and the load generator (bench/load.js: autocannon, 50 connections).
//
// 1. Ingest paths, in interleaved rounds (service, baseline, service, baseline, ...), each a
//    warm-up then a fixed number of requests sized to last MEASURE seconds: req/s, p50, p99, the
//    cores each process used (CPU seconds / wall seconds: server, load generator, MariaDB) and
//    the ratio service/baseline per round and its median.
//      REST POST /api/v2/conversions (202)            vs the bare Fastify route
//      GraphQL logConversion (ACCEPTED)               vs the bare Apollo mutation
//      POST /zephr/.../conversions (201), exposed visitors  vs the bare Fastify route
// 2. POST /api/v2/conversions/batch, 500 items a request: stored events per second.
// 3. outcomeConversionStats of one rule at SIZES events (10 k, then grown to 10 M events of ~1 M
//    visitors over 30 days, 3 outcomes, 3 conversion types), seeded in-process through the
//    service's own BatchWriter: p50/p99 of sequential GraphQL calls, their ratio, seeding time.
// 4. Peak RSS of the service process over the whole run (VmHWM) against the 250 MB target.
// 5. Every acknowledged event stored: rows of each tenant against its acknowledged answers.
// 6. probabilityToBeBest CPU time, and a 366 x 10 series assembled (bench/statistics.js).
// Then the final table in the issue's format. Any lost event or failed step exits non-zero;
// nothing timed is ever asserted.
//
// --smoke or BENCH_SMOKE=1: CI's short run (2 rounds of ~1 s, 1 k and 10 k seeded events).
// BENCH_DATABASE_URL (default mysql://root@127.0.0.1:3306/test): a database bench_<random> is
// created there and dropped at the end. BENCH_ROUNDS and BENCH_SEED_EVENTS override the defaults;
// BENCH_LOG_LEVEL the service's (info as shipped); BENCH_CPU_PROF=<dir> profiles the service
// (node --cpu-prof; read it with node bench/profile-summary.js <dir>). BENCH_ONLY=batch runs the
// batch endpoint alone (BENCH_ROUNDS times), BENCH_ONLY=stats the seeding and stats alone,
// BENCH_ONLY=ingest the ingest paths against their baselines (BENCH_PATHS=rest,graphql,zephr picks
// some), each with the durability check and the peak RSS.
"use strict";

const { execFileSync, fork } = require("node:child_process");
const { randomBytes } = require("node:crypto");
const { closeSync, openSync, readFileSync, rmSync } = require("node:fs");
const { tmpdir } = require("node:os");
const { join } = require("node:path");
const { createConnection } = require("mysql2/promise");
const { createBenchDatabase } = require("./database");

const SMOKE = process.argv.includes("--smoke") || process.env.BENCH_SMOKE === "1";
const SERVER_URL = process.env.BENCH_DATABASE_URL?.trim() || "mysql://root@127.0.0.1:3306/test";
const CONNECTIONS = 50;
/** Fewer for the batch: 10 requests of 500 items in flight stay under the writer's queue bound (10,000). */
const BATCH_CONNECTIONS = 10;
const BATCH_ITEMS = 500;
const ZEPHR_VISITORS = 1_000;
const RSS_TARGET_MB = 250;
const SEED_STEP = 1_000_000;
const settings = SMOKE
  ? { rounds: 2, warmup: 0.5, measure: 1, statsCalls: 30, sizes: [1_000, 10_000] }
  : { rounds: 3, warmup: 2, measure: 5, statsCalls: 300, sizes: [10_000, 10_000_000] };
if (process.env.BENCH_ROUNDS) settings.rounds = Math.max(2, Number(process.env.BENCH_ROUNDS));
if (process.env.BENCH_SEED_EVENTS) settings.sizes[1] = Number(process.env.BENCH_SEED_EVENTS);
/** BENCH_ONLY=batch, stats or ingest: one part alone, for working on it. */
const ONLY = process.env.BENCH_ONLY;
if (ONLY && !["batch", "stats", "ingest"].includes(ONLY))
  throw new Error(`BENCH_ONLY=${ONLY}: "batch", "stats" or "ingest"`);

/** node's flags in `npm start` (and the Dockerfile's CMD): the service runs with them here too. */
const SERVICE_NODE_FLAGS = require("../package.json")
  .scripts.start.split(/\s+/)
  .filter((word) => word.startsWith("--"));

const failures = [];
/** Every tenant that received events: its rows are checked against the acknowledged answers at the end. */
const ledger = [];

// ---------------------------------------------------------------- helpers

const quantile = (values, q) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
};
const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
};
const int = (value) => Math.round(value).toLocaleString("en-US");
const ms = (value) => (value >= 10 ? value.toFixed(0) : value.toFixed(1));
const pad = (text, width) => String(text).padStart(width);
const seconds = (since) => (performance.now() - since) / 1000;
const CLOCK_TICKS = Number(execFileSync("getconf", ["CLK_TCK"]).toString()) || 100;

/** CPU seconds a process used so far (all its threads), from /proc; undefined when unreadable. */
function cpuSecondsOf(pid) {
  if (!pid) return undefined;
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
  } catch {
    return undefined;
  }
}

/** A line of /proc/<pid>/status in MB (VmRSS, VmHWM). */
function memoryMbOf(pid, field) {
  try {
    const line = readFileSync(`/proc/${pid}/status`, "utf8").match(new RegExp(`^${field}:\\s+(\\d+) kB`, "m"));
    return line ? Number(line[1]) / 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** The writer's batches so far, from the service's GET /metrics: how many, their events and seconds. */
async function writerTotals(service) {
  const text = await (await fetch(`${service.url}/metrics`)).text();
  const value = (name) => Number(text.match(new RegExp(`^${name} ([0-9.e+-]+)$`, "m"))?.[1] ?? Number.NaN);
  return {
    batches: value("conversions_writer_batch_size_count"),
    events: value("conversions_writer_batch_size_sum"),
    seconds: value("conversions_writer_batch_seconds_sum"),
  };
}

/** MariaDB's process when it runs on this machine, to show its CPU beside the service's. */
function databasePid() {
  const host = new URL(SERVER_URL).hostname;
  if (!["127.0.0.1", "localhost", "::1"].includes(host)) return undefined;
  for (const name of ["mariadbd", "mysqld"]) {
    try {
      return Number(execFileSync("pidof", ["-s", name]).toString().trim());
    } catch {
      // not this name
    }
  }
  return undefined;
}

async function createMysqlDatabase() {
  try {
    return await createBenchDatabase(SERVER_URL);
  } catch (error) {
    throw new Error(`BENCH_DATABASE_URL=${error.message}`);
  }
}

/**
 * What the database alone can do, for reading the rest: the latency of a one-row commit (what
 * a writer batch pays at least) and the rows per second of 1,000-row INSERTs from one connection.
 */
async function probeDatabase(url) {
  const connection = await createConnection({ uri: url.replace(/^mariadb:/, "mysql:") });
  try {
    await connection.query(
      "CREATE TABLE bench_probe (id BIGINT PRIMARY KEY, k VARCHAR(64) NOT NULL, v VARCHAR(36) NOT NULL, n INT NOT NULL) ENGINE=InnoDB",
    );
    const commits = [];
    for (let i = 0; i < (SMOKE ? 50 : 200); i++) {
      const started = performance.now();
      await connection.query("INSERT INTO bench_probe VALUES (?, 'k', 'v', 0)", [i]);
      commits.push(performance.now() - started);
    }
    const rows = SMOKE ? 20_000 : 100_000;
    const started = performance.now();
    for (let first = 1_000_000; first < 1_000_000 + rows; first += 1_000) {
      const values = Array.from({ length: 1_000 }, (_, i) => [first + i, randomBytes(16).toString("hex"), "v", i]);
      await connection.query("INSERT INTO bench_probe VALUES ?", [values]);
    }
    const rowsPerSecond = rows / seconds(started);
    console.log(
      `  the database alone: one-row commit p50 ${median(commits).toFixed(2)} ms, p99 ${quantile(commits, 0.99).toFixed(2)} ms; ` +
        `1,000-row INSERTs from one connection ${int(rowsPerSecond)} rows/s`,
    );
    await connection.query("DROP TABLE bench_probe");
  } finally {
    await connection.end();
  }
}

/**
 * Starts one of bench/'s processes and waits for its { ready: { url, pid } }. call(command, args)
 * runs one of its IPC commands (bench/child.js); stop() disconnects it and waits for its exit.
 */
function startChild(script, { env = {}, stdout = "ignore", execArgv = [] } = {}) {
  const child = fork(join(__dirname, script), [], {
    env: { ...process.env, ...env },
    execArgv,
    stdio: ["ignore", stdout, "inherit", "ipc"],
  });
  const pending = new Map();
  let nextId = 0;
  let exited = false;
  const exit = new Promise((resolve) => child.once("exit", resolve));
  exit.then((code) => {
    exited = true;
    for (const { reject } of pending.values()) reject(new Error(`${script} exited (${code})`));
  });
  child.on("message", (message) => {
    if (!("id" in message)) return;
    const { resolve, reject } = pending.get(message.id);
    pending.delete(message.id);
    if (message.error) reject(new Error(`${script}: ${message.error}`));
    else resolve(message.result);
  });
  return new Promise((resolve, reject) => {
    exit.then((code) => reject(new Error(`${script} exited (${code}) before it was ready`)));
    child.once("message", ({ ready }) =>
      resolve({
        ...ready,
        call: (command, args = {}) =>
          new Promise((done, failed) => {
            const id = nextId++;
            pending.set(id, { resolve: done, reject: failed });
            child.send({ id, command, args });
          }),
        stop: async () => {
          if (!exited) child.disconnect();
          return exit;
        },
      }),
    );
  });
}

/** The load generator: run(job) resolves with the summary of one autocannon job (bench/load.js). */
function startLoadGenerator() {
  const child = fork(join(__dirname, "load.js"));
  let failed;
  const exit = new Promise((resolve) => child.once("exit", resolve));
  exit.then((code) => failed?.(new Error(`load generator exited (${code})`)));
  return {
    pid: child.pid,
    run: (job) =>
      new Promise((resolve, reject) => {
        failed = reject;
        child.once("message", resolve);
        child.send({ connections: CONNECTIONS, ...job });
      }),
    stop: () => {
      child.disconnect();
      return exit;
    },
  };
}

/** Peak RSS of the service per phase, sampled; the process's own high-water mark (VmHWM) is read at the end. */
function rssSampler(pid) {
  const phases = [];
  let current;
  const timer = setInterval(() => {
    const rss = memoryMbOf(pid, "VmRSS");
    if (current && rss !== undefined) current.peak = Math.max(current.peak, rss);
  }, 200);
  timer.unref();
  return {
    phase: (name) => {
      current = { name, peak: memoryMbOf(pid, "VmRSS") ?? 0 };
      phases.push(current);
    },
    phases,
    stop: () => clearInterval(timer),
  };
}

// ---------------------------------------------------------------- 1. ingest paths

/**
 * One warm-up then one measured job against `target`, with the CPU of the server, the load
 * generator and MariaDB over the measured job. `workload` gives the job fields; `tenant` (when
 * the service) is the ledger entry its acknowledged answers are added to.
 */
async function measure(context, target, workload, warmTenant, tenant) {
  const { load, dbPid } = context;
  const warm = await load.run({ url: target.url, ...workload(warmTenant), duration: settings.warmup });
  if (warmTenant?.ledger) warmTenant.ledger.acked += warm.accepted * workload.eventsPerAnswer;
  const job = { url: target.url, ...workload(tenant) };
  const connections = job.connections ?? CONNECTIONS;
  // At least a few requests per connection, however slow the warm-up was.
  const amount = Math.max(connections * (SMOKE ? 2 : 5), Math.round(warm.lastSecondPerSecond * settings.measure));
  const writerBefore = target.metrics ? await writerTotals(target) : undefined;
  const before = { server: cpuSecondsOf(target.pid), db: cpuSecondsOf(dbPid), at: performance.now() };
  const result = await load.run({ ...job, amount });
  const wall = seconds(before.at);
  const used = (pid, start) => (start === undefined ? undefined : (cpuSecondsOf(pid) - start) / wall);
  if (tenant?.ledger) tenant.ledger.acked += result.accepted * workload.eventsPerAnswer;
  if (result.completed !== amount || result.errors > 0 || result.accepted !== amount) {
    failures.push(
      `${workload.what} on ${target.name}: ${result.completed}/${amount} answered, ${result.accepted} as expected ` +
        `(${JSON.stringify(result.statuses)}), ${result.errors} socket errors`,
    );
  }
  let writer;
  if (writerBefore) {
    const after = await writerTotals(target);
    const batches = after.batches - writerBefore.batches;
    writer = {
      size: (after.events - writerBefore.events) / batches,
      ms: ((after.seconds - writerBefore.seconds) * 1000) / batches,
    };
  }
  return {
    ...result,
    writer,
    serverCores: used(target.pid, before.server),
    dbCores: used(dbPid, before.db),
    loadCores: result.cpuSeconds / wall,
    cpuMsPerRequest: ((cpuSecondsOf(target.pid) - before.server) * 1000) / result.completed,
  };
}

const cores = (value) => (value === undefined ? "  n/a" : value.toFixed(2).padStart(5));

function printRoundLine(round, who, r) {
  console.log(
    `  ${pad(round, 5)}  ${who.padEnd(16)}${pad(int(r.perSecond), 8)}${pad(ms(r.p50), 7)}${pad(ms(r.p99), 7)}` +
      `   ${cores(r.serverCores)} ${cores(r.loadCores)} ${cores(r.dbCores)}${pad(r.cpuMsPerRequest.toFixed(3), 9)}` +
      `${pad(int(r.accepted), 9)}${pad(int(r.non2xx), 8)}` +
      (r.writer ? `${pad(r.writer.size.toFixed(1), 9)}${pad(r.writer.ms.toFixed(1), 8)}` : ""),
  );
}

/** Interleaved rounds of one path: service, baseline, service, baseline, ... */
async function comparePath(context, path) {
  console.log(`\n${path.title}`);
  console.log(
    "  round  process          req/s  p50 ms p99 ms  cores: server  load    db  ms CPU/req accepted non-2xx   writer: events/batch ms/batch",
  );
  const rounds = [];
  const warmTenant = await path.tenant(context, "warm");
  for (let round = 1; round <= settings.rounds; round++) {
    const tenant = await path.tenant(context, `round${round}`);
    const service = await measure(context, context.service, path.workload, warmTenant, tenant);
    printRoundLine(round, "service", service);
    const baseline = await measure(context, path.baseline, path.baselineWorkload ?? path.workload);
    printRoundLine(round, path.baseline.name, baseline);
    const ratio = service.perSecond / baseline.perSecond;
    rounds.push({ service, baseline, ratio });
    console.log(`  ${pad(round, 5)}  ratio service/baseline: ${ratio.toFixed(2)}`);
  }
  const ratios = rounds.map((r) => r.ratio);
  const ratio = median(ratios);
  console.log(`  median ratio ${ratio.toFixed(2)} (rounds ${ratios.map((r) => r.toFixed(2)).join(", ")})`);
  return { ...path, rounds, ratio };
}

/** A fresh organisation whose acknowledged events are checked at the end. */
function track(tenant, table, label) {
  const entry = { label, table, organisationId: tenant.organisationId, acked: 0 };
  ledger.push(entry);
  return { ...tenant, ledger: entry };
}

const CONVERSION_BODY = {
  email: "buyer0@bench.test",
  conversion_type: "purchase",
  conversion_data: { item: "premium_subscription", price: 99.99 },
};

function restPath(baseline) {
  const workload = (tenant) => ({
    path: "/api/v2/conversions",
    headers: { "x-api-key": tenant?.key ?? "none", "content-type": "application/json" },
    body: JSON.stringify(CONVERSION_BODY),
    accept: { status: 202 },
  });
  return {
    title: "1a. REST POST /api/v2/conversions (202) vs a bare Fastify route",
    row: "`POST /api/v2/conversions` (202)",
    baseline,
    tenant: async ({ service }, tag) =>
      track(await service.call("restTenant", { name: `rest-${tag}`, contacts: 1 }), "conversions", `REST ${tag}`),
    workload: Object.assign(workload, { what: "REST logConversion", eventsPerAnswer: 1 }),
  };
}

function graphqlPath(baseline) {
  const body = JSON.stringify({
    query: "mutation Log($input: LogConversionInput!) { logConversion(input: $input) { status } }",
    variables: {
      input: {
        email: CONVERSION_BODY.email,
        conversionType: CONVERSION_BODY.conversion_type,
        conversionData: CONVERSION_BODY.conversion_data,
      },
    },
  });
  const workload = (tenant) => ({
    path: "/graphql",
    headers: { "x-api-key": tenant?.key ?? "none", "content-type": "application/json" },
    body,
    accept: { status: 200, body: JSON.stringify({ data: { logConversion: { status: "ACCEPTED" } } }) },
  });
  return {
    title: "1b. GraphQL logConversion (ACCEPTED) vs a bare Apollo Server no-op mutation",
    row: "GraphQL `logConversion` (ACCEPTED)",
    baseline,
    tenant: async ({ service }, tag) =>
      track(await service.call("restTenant", { name: `graphql-${tag}`, contacts: 1 }), "conversions", `GraphQL ${tag}`),
    workload: Object.assign(workload, { what: "GraphQL logConversion", eventsPerAnswer: 1 }),
  };
}

function zephrPath(baseline) {
  const ruleId = "bench-zephr-rule";
  const workload = (tenant) => ({
    path: "/zephr/public/rule-outcomes/v1/conversions",
    headers: { host: tenant?.host ?? "baseline.bench.test", "content-type": "application/json" },
    visitors: { count: ZEPHR_VISITORS, ruleId },
    accept: { status: 201 },
  });
  return {
    title: `1c. POST /zephr/public/rule-outcomes/v1/conversions (201), ${int(ZEPHR_VISITORS)} visitors exposed beforehand, vs a bare Fastify route`,
    row: "`POST /zephr/.../conversions` (201)",
    baseline,
    tenant: async ({ service }, tag) =>
      track(
        await service.call("zephrTenant", { name: `zephr-${tag}`, visitors: ZEPHR_VISITORS, ruleId }),
        "rule_conversion_events",
        `Zephr ${tag}`,
      ),
    workload: Object.assign(workload, { what: "Zephr conversion", eventsPerAnswer: 1 }),
  };
}

// ---------------------------------------------------------------- 2. batch endpoint

async function batchEndpoint(context) {
  console.log(`\n2. POST /api/v2/conversions/batch, ${BATCH_ITEMS} items a request, ${BATCH_CONNECTIONS} connections`);
  const { service } = context;
  const tenantOf = async (tag) =>
    track(
      await service.call("restTenant", { name: `batch-${tag}`, contacts: BATCH_ITEMS }),
      "conversions",
      `batch ${tag}`,
    );
  const [warm, measured] = [await tenantOf("warm"), await tenantOf("measured")];
  const body = JSON.stringify({
    conversions: warm.emails.map((email, i) => ({ email, conversion_type: "purchase", conversion_data: { n: i } })),
  });
  const accepted = JSON.stringify({ results: warm.emails.map(() => ({ status: "ACCEPTED" })) });
  const workload = Object.assign(
    (tenant) => ({
      path: "/api/v2/conversions/batch",
      headers: { "x-api-key": tenant.key, "content-type": "application/json" },
      body,
      connections: BATCH_CONNECTIONS,
      accept: { status: 200, body: accepted },
    }),
    { what: "batch", eventsPerAnswer: BATCH_ITEMS },
  );
  const r = await measure(context, service, workload, warm, measured);
  const eventsPerSecond = (r.accepted * BATCH_ITEMS) / r.seconds;
  console.log(
    `  ${int(r.perSecond)} requests/s = ${int(eventsPerSecond)} stored events/s (target >= 50,000), ` +
      `p50 ${ms(r.p50)} ms, p99 ${ms(r.p99)} ms; cores: server ${cores(r.serverCores).trim()}, ` +
      `load ${cores(r.loadCores).trim()}, db ${cores(r.dbCores).trim()}; non-2xx ${r.non2xx}; ` +
      `writer: ${r.writer.size.toFixed(0)} events/batch, ${r.writer.ms.toFixed(1)} ms/batch`,
  );
  return { ...r, eventsPerSecond };
}

// ---------------------------------------------------------------- 3. stats at 10 k and 10 M events

const STATS_QUERY = `query Stats($ruleId: ID!) {
  outcomeConversionStats(ruleId: $ruleId) {
    totalExposures sampleRatioMismatchPValue
    outcomes { outcomeId exposures converters conversions unattributedConversions conversionRate
      confidenceInterval { lower upper } uplift pValue probabilityToBeBest }
  }
}`;

async function statsAtSizes(context) {
  const { service, dbPid } = context;
  console.log(
    `\n3. outcomeConversionStats of one rule (3 outcomes, 30 days, 3 conversion types), ${settings.statsCalls} sequential GraphQL calls per size`,
  );
  const tenant = await service.call("restTenant", { name: "stats", contacts: 0 });
  const ruleId = "bench-stats-rule";
  const call = async () => {
    const response = await fetch(`${service.url}/graphql`, {
      method: "POST",
      headers: { "x-api-key": tenant.key, "content-type": "application/json" },
      body: JSON.stringify({ query: STATS_QUERY, variables: { ruleId } }),
    });
    const answer = await response.json();
    if (!answer.data) throw new Error(`outcomeConversionStats failed: ${JSON.stringify(answer.errors)}`);
    return answer.data.outcomeConversionStats;
  };
  const sizes = [];
  for (const total of settings.sizes) {
    // The seeding runs inside the service's process: its memory is the bench's, not the traffic's.
    if (total === settings.sizes.at(-1)) context.trafficPeakRssMb = memoryMbOf(service.pid, "VmHWM");
    context.rss.phase(`seeding ${int(total)} events`);
    const cpuBefore = { server: cpuSecondsOf(service.pid), db: cpuSecondsOf(dbPid) };
    const seeded = { events: sizes.at(-1)?.seeded.events ?? 0, seconds: 0 };
    // In steps of a million, so a long seeding shows its pace (and whether it slows as tables grow).
    while (seeded.events < total) {
      const step = await service.call("seed", {
        organisationId: tenant.organisationId,
        ruleId,
        total: Math.min(total, seeded.events + SEED_STEP),
      });
      const stepEvents = step.events - seeded.events;
      Object.assign(seeded, step, { seconds: seeded.seconds + step.seconds });
      if (total > SEED_STEP) {
        console.log(
          `    seeded ${pad(int(step.events), 10)} events, ${pad(int(stepEvents / step.seconds), 7)} events/s in this step, ` +
            `service RSS ${memoryMbOf(service.pid, "VmRSS").toFixed(0)} MB`,
        );
      }
    }
    const seedCores = {
      server: (cpuSecondsOf(service.pid) - cpuBefore.server) / seeded.seconds,
      db: cpuBefore.db === undefined ? undefined : (cpuSecondsOf(dbPid) - cpuBefore.db) / seeded.seconds,
    };
    context.rss.phase(`stats at ${int(total)} events`);
    // The counters must agree with what was seeded before their speed means anything.
    const stats = await call();
    const conversions = stats.outcomes.reduce((sum, outcome) => sum + outcome.conversions, 0);
    const agree = stats.totalExposures === seeded.visitors && conversions === seeded.conversions;
    if (!agree) {
      failures.push(
        `stats at ${total} events: ${stats.totalExposures} exposures / ${conversions} conversions, ` +
          `seeded ${seeded.visitors} visitors / ${seeded.conversions} conversions`,
      );
    }
    const times = [];
    for (let i = 0; i < settings.statsCalls; i++) {
      const started = performance.now();
      await call();
      times.push(performance.now() - started);
    }
    const size = { total, seeded, seedCores, agree, stats, p50: median(times), p99: quantile(times, 0.99) };
    sizes.push(size);
    console.log(
      `  ${pad(int(total), 10)} events (${int(seeded.visitors)} visitors, ${int(seeded.conversions)} conversions; ` +
        `this step seeded ${int(seeded.events - (sizes.at(-2)?.seeded.events ?? 0))} in ${seeded.seconds.toFixed(1)} s = ` +
        `${int((seeded.events - (sizes.at(-2)?.seeded.events ?? 0)) / seeded.seconds)} events/s, cores: server ` +
        `${cores(seedCores.server).trim()}, db ${cores(seedCores.db).trim()}): p50 ${size.p50.toFixed(2)} ms, ` +
        `p99 ${size.p99.toFixed(2)} ms; counters = seeded events: ${agree ? "yes" : "NO"}`,
    );
  }
  const [small, large] = sizes;
  const ratio = large.p50 / small.p50;
  console.log(
    `  p50 at ${int(large.total)} / p50 at ${int(small.total)}: x${ratio.toFixed(2)} (target: p50 <= 10 ms and <= x1.5)`,
  );
  const best = large.stats.outcomes.map((o) => `${o.outcomeId} ${o.probabilityToBeBest.toFixed(4)}`).join(", ");
  console.log(`  probabilityToBeBest at ${int(large.total)} events: ${best}`);
  return { small, large, ratio };
}

// ---------------------------------------------------------------- 5. durability

async function checkDurability(service) {
  console.log("\n5. Every acknowledged event stored (rows of each tenant vs its acknowledged answers)");
  let lost = 0;
  for (const entry of ledger) {
    const rows = await service.call("count", { table: entry.table, organisationId: entry.organisationId });
    // Warm-ups are timed: a request in flight when one ends may be stored without its answer counted.
    const verdict =
      rows < entry.acked ? "LOST EVENTS" : rows === entry.acked ? "ok" : "ok (stored, answer not counted)";
    if (rows < entry.acked) lost += entry.acked - rows;
    console.log(
      `  ${entry.label.padEnd(22)} ${pad(int(entry.acked), 10)} acknowledged ${pad(int(rows), 10)} rows  ${verdict}`,
    );
  }
  if (lost > 0) failures.push(`${lost} acknowledged events are not stored`);
  return lost === 0;
}

// ---------------------------------------------------------------- 6. statistics

function statisticsBench() {
  console.log("\n6. probabilityToBeBest / posteriorComparison and series assembly CPU time (bench/statistics.js)");
  return new Promise((resolve) => {
    const child = fork(join(__dirname, "statistics.js"), [], {
      env: { ...process.env, BENCH_SMOKE: SMOKE ? "1" : "" },
      stdio: ["ignore", "inherit", "inherit", "ipc"],
    });
    child.once("exit", (code) => {
      if (code !== 0) failures.push(`bench/statistics.js exited with ${code}`);
      resolve();
    });
  });
}

/** 7. Over-limit GraphQL requests refused back to back, /health meanwhile (bench/protection.js). */
function protectionBench() {
  return new Promise((resolve) => {
    const child = fork(join(__dirname, "protection.js"), [], {
      env: { ...process.env, BENCH_SMOKE: SMOKE ? "1" : "" },
      stdio: ["ignore", "inherit", "inherit", "ipc"],
    });
    child.once("exit", (code) => {
      if (code !== 0) failures.push(`bench/protection.js exited with ${code}`);
      resolve();
    });
  });
}

// ---------------------------------------------------------------- final table

function printFinalTable(paths, batch, stats, rssPeaks) {
  const range = (values) => {
    const [low, high] = [Math.min(...values), Math.max(...values)].map(ms);
    return low === high ? `${low} ms` : `${low}-${high} ms`;
  };
  const perRound = (rounds, key) => rounds.map((r) => int(r[key].perSecond)).join(" / ");
  console.log(`\nFinal table (${SMOKE ? "SMOKE run: too short to quote" : "median ratio of the rounds"}):\n`);
  console.log("| path | this service | baseline | ratio | p99 |");
  console.log("|---|---|---|---|---|");
  for (const path of paths) {
    console.log(
      `| ${path.row} | ${perRound(path.rounds, "service")} req/s | ${path.baseline.label} ${perRound(path.rounds, "baseline")} | ` +
        `${path.ratio.toFixed(2)} | ${range(path.rounds.map((r) => r.service.p99))} |`,
    );
  }
  console.log("");
  console.log("| other target | measured | target |");
  console.log("|---|---|---|");
  console.log(
    `| \`POST /api/v2/conversions/batch\` (${BATCH_ITEMS} items) | ${int(batch.eventsPerSecond)} stored events/s, p99 ${ms(batch.p99)} ms | >= 50,000 events/s |`,
  );
  console.log(
    `| \`outcomeConversionStats\`, ${int(stats.small.total)} → ${int(stats.large.total)} events (${int(stats.large.seeded.visitors)} visitors) | ` +
      `p50 ${stats.small.p50.toFixed(1)} → ${stats.large.p50.toFixed(1)} ms (x${stats.ratio.toFixed(2)}), ` +
      `p99 ${stats.small.p99.toFixed(1)} → ${stats.large.p99.toFixed(1)} ms; seeding ${int(stats.large.seeded.events)} events took ` +
      `${(stats.small.seeded.seconds + stats.large.seeded.seconds).toFixed(0)} s | p50 <= 10 ms, <= x1.5 |`,
  );
  console.log(
    `| Peak RSS of the service (VmHWM) | ${rssPeaks.traffic.toFixed(0)} MB under request traffic; ` +
      `${rssPeaks.whole.toFixed(0)} MB with the in-process seeding | <= ${RSS_TARGET_MB} MB |`,
  );
}

// ---------------------------------------------------------------- main

/** The whole bench: 1-7 and the final table; true when every acknowledged event is stored. */
async function everything(context, { fastify, apollo }, children) {
  const { service, load, rss } = context;
  const paths = [];
  for (const path of [restPath(fastify), graphqlPath(apollo), zephrPath(fastify)]) {
    rss.phase(path.row);
    paths.push(await comparePath(context, path));
  }
  rss.phase("batch endpoint");
  const batch = await batchEndpoint(context);
  const stats = await statsAtSizes(context);
  load.stop();

  rss.phase("durability check");
  const durable = await checkDurability(service);
  const peakRssMb = memoryMbOf(service.pid, "VmHWM");
  const rssPeaks = { traffic: context.trafficPeakRssMb, whole: peakRssMb };
  rss.stop();
  console.log(
    `\n4. Peak RSS of the service process (VmHWM; target <= ${RSS_TARGET_MB} MB): ${rssPeaks.traffic.toFixed(0)} MB ` +
      `under request traffic (until the large seeding), ${peakRssMb.toFixed(0)} MB over the whole run, ` +
      "in-process seeding included",
  );
  console.log(`  sampled peak per phase: ${rss.phases.map((p) => `${p.name} ${p.peak.toFixed(0)} MB`).join("; ")}`);
  for (const child of children.splice(0)) await child.stop();
  await statisticsBench();
  await protectionBench();
  printFinalTable(paths, batch, stats, rssPeaks);
  return durable;
}

/** BENCH_ONLY=ingest: the three ingest paths against their baselines, the durability check and the peak RSS. */
async function ingestOnly(context, { fastify, apollo }) {
  const { service, load, rss } = context;
  const paths = [];
  // BENCH_PATHS=rest,graphql,zephr (default all): some of them, e.g. to profile one alone.
  const wanted = (process.env.BENCH_PATHS || "rest,graphql,zephr").split(",");
  const all = { rest: () => restPath(fastify), graphql: () => graphqlPath(apollo), zephr: () => zephrPath(fastify) };
  for (const name of wanted) {
    if (!all[name]) throw new Error(`BENCH_PATHS: ${name} is not one of rest, graphql, zephr`);
    const path = all[name]();
    rss.phase(path.row);
    paths.push(await comparePath(context, path));
  }
  load.stop();
  const durable = await checkDurability(service);
  rss.stop();
  console.log("\n| path | ratio | p99 |\n|---|---|---|");
  for (const path of paths) {
    const p99s = path.rounds.map((r) => r.service.p99);
    console.log(`| ${path.row} | ${path.ratio.toFixed(2)} | ${ms(Math.min(...p99s))}-${ms(Math.max(...p99s))} ms |`);
  }
  console.log(`  peak RSS of the service (VmHWM) ${memoryMbOf(service.pid, "VmHWM").toFixed(0)} MB`);
  return durable;
}

/** BENCH_ONLY=stats: the seeding and the stats at both sizes, and the peak RSS. */
async function statsOnly(context) {
  const { service, load, rss } = context;
  const stats = await statsAtSizes(context);
  load.stop();
  rss.stop();
  const seeded = stats.large.seeded.events;
  const seconds = stats.small.seeded.seconds + stats.large.seeded.seconds;
  console.log(
    `\n  seeding ${int(seeded)} events took ${seconds.toFixed(0)} s (${int(seeded / seconds)} events/s); ` +
      `peak RSS of the service (VmHWM) ${memoryMbOf(service.pid, "VmHWM").toFixed(0)} MB ` +
      `(sampled: ${rss.phases.map((p) => `${p.name} ${p.peak.toFixed(0)} MB`).join("; ")})`,
  );
  return stats.small.agree && stats.large.agree;
}

/** BENCH_ONLY=batch: the batch endpoint, once or BENCH_ROUNDS times, the durability check and the peak RSS. */
async function batchOnly(context) {
  const { service, load, rss } = context;
  rss.phase("batch endpoint");
  const batches = [];
  for (let round = 1; round <= (process.env.BENCH_ROUNDS ? settings.rounds : 1); round++)
    batches.push(await batchEndpoint(context));
  load.stop();
  const durable = await checkDurability(service);
  rss.stop();
  console.log(
    `\n  batch: ${batches.map((b) => int(b.eventsPerSecond)).join(" / ")} stored events/s; peak RSS of the ` +
      `service (VmHWM) ${memoryMbOf(service.pid, "VmHWM").toFixed(0)} MB`,
  );
  return durable;
}

async function main() {
  const started = performance.now();
  console.log(
    `npm run bench${SMOKE ? " (smoke)" : ""}: ${settings.rounds} rounds of ~${settings.measure} s per path after ` +
      `${settings.warmup} s warm-ups, ${CONNECTIONS} connections; ${require("node:os").cpus().length} cores, ` +
      `load average ${require("node:os").loadavg()[0].toFixed(1)} at the start`,
  );
  const database = await createMysqlDatabase();
  console.log(`  ${database.label}`);
  const logFile = join(tmpdir(), `conversions-bench-${randomBytes(4).toString("hex")}.log`);
  const logFd = openSync(logFile, "w");
  const children = [];
  let service;
  let ok = false;
  try {
    await probeDatabase(database.url);
    service = await startChild("service.js", {
      env: {
        NODE_ENV: "production",
        DATABASE_URL: database.url,
        // One load generator is one client address and reuses 1,000 visitors: no rate limit in the way.
        PUBLIC_VISITOR_RATE_LIMIT_PER_MINUTE: "0",
        LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? "info",
      },
      stdout: logFd,
      // node's flags as `npm start` passes them (the heap limit), and a CPU profile of the service
      // over the whole run when asked, for bench/profile-summary.js.
      execArgv: [
        ...SERVICE_NODE_FLAGS,
        ...(process.env.BENCH_CPU_PROF ? ["--cpu-prof", `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`] : []),
      ],
    });
    Object.assign(service, { name: "service", metrics: true });
    children.push(service);
    const fastify = Object.assign(await startChild("baseline-fastify.js"), { name: "bare Fastify", label: "Fastify" });
    const apollo = Object.assign(await startChild("baseline-apollo.js"), { name: "bare Apollo", label: "Apollo" });
    children.push(fastify, apollo);
    const load = startLoadGenerator();
    const rss = rssSampler(service.pid);
    const context = { service, load, dbPid: databasePid(), rss };
    console.log(
      `  service pid ${service.pid} (request logs at ${process.env.BENCH_LOG_LEVEL ?? "info"} to ${logFile}), ` +
        `bare Fastify ${fastify.pid}, bare Apollo ${apollo.pid}, load generator ${load.pid}, MariaDB ${context.dbPid ?? "n/a"}`,
    );

    if (ONLY === "batch") ok = await batchOnly(context);
    else if (ONLY === "stats") ok = await statsOnly(context);
    else if (ONLY === "ingest") ok = await ingestOnly(context, { fastify, apollo });
    else ok = await everything(context, { fastify, apollo }, children);
  } finally {
    for (const child of children) await child.stop().catch(() => {});
    closeSync(logFd);
    await database.drop();
    if (failures.length === 0) rmSync(logFile, { force: true });
    else console.error(`\nThe service's log is kept: ${logFile}`);
  }
  console.log(`\nTotal ${seconds(started).toFixed(0)} s.`);
  if (failures.length > 0 || !ok) throw new Error(`checks failed:\n  ${failures.join("\n  ")}`);
}

main().catch((error) => {
  console.error(`\nbench failed: ${error.stack ?? error}`);
  process.exit(1);
});
