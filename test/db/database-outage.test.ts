// Surviving the database: with the real MariaDB server paused (SIGSTOP) every ingest request is
// answered 503 within DB_UNAVAILABLE_TIMEOUT_MS (never 201/202 for an event that is not stored),
// /ready turns 503, and both come back within the same bound after SIGCONT, without a restart;
// then the same after every connection of the database is killed (what a restart does to them).
// On SQLite there is no server to pause: a file locked by another process gives 503 instead.
//
// Pausing the server stalls every test using it, so this file runs on its own, after the main
// suite (vitest.outage.config.mts, `npm run test:outage`, .ci/run), and keeps the pause short.
import { execFileSync } from "node:child_process";
import { randomUUID } from "node:crypto";
import { createRequire } from "node:module";
import { createConnection } from "mysql2/promise";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTenant, http, startTestApp, type Tenant, type TestApp } from "../helpers/app";
import { testServerUrl } from "../helpers/database";
import { queryDatabase } from "../helpers/processes";

const TIMEOUT_MS = 5_000;
/** Long enough to show the bound twice over, short enough for the other users of the server. */
const PAUSE_MS = 9_000;
const DEFAULT_ORG = "00000000-0000-4000-8000-0000000000de";
const CONVERSIONS = "/zephr/public/rule-outcomes/v1/conversions";
const EXPOSURES = "/zephr/public/rule-outcomes/v1/exposures";
const RULE = `outage-${randomUUID()}`;

let app: TestApp;
let tenant: Tenant;
/** A key that is valid but not yet cached: its check needs the database. */
let uncachedKey: string;

interface Timed {
  name: string;
  status: number;
  ms: number;
  headers: Headers;
  body: any;
}

async function timed(name: string, path: string, init: Parameters<typeof http>[1] = {}): Promise<Timed> {
  const started = performance.now();
  const result = await http(`${app.url}${path}`, init);
  return {
    name,
    status: result.status,
    ms: Math.round(performance.now() - started),
    headers: result.headers,
    body: result.body,
  };
}

const json = (body: unknown) => JSON.stringify(body);
const visitorCookie = (trackingId: string) => ({ cookie: `blaize_tracking_id=${trackingId}` });

function recordConversion(name: string, trackingId: string, eventId?: string) {
  return timed(name, CONVERSIONS, {
    method: "POST",
    headers: { "content-type": "application/json", ...visitorCookie(trackingId) },
    body: json({ ruleId: RULE, outcomeId: "a", conversion: "REGISTERED", eventId }),
  });
}

function recordExposure(name: string, trackingId: string) {
  return timed(name, EXPOSURES, {
    method: "POST",
    headers: { "content-type": "application/json", ...visitorCookie(trackingId) },
    body: json({ ruleId: RULE, outcomeId: "a" }),
  });
}

function logConversion(name: string, apiKey: string, idempotencyKey?: string) {
  return timed(name, "/api/v2/conversions", {
    method: "POST",
    headers: {
      "content-type": "application/json",
      "x-api-key": apiKey,
      ...(idempotencyKey ? { "idempotency-key": idempotencyKey } : {}),
    },
    body: json({ email: "buyer@example.com", conversion_type: "purchase" }),
  });
}

function graphql(
  name: string,
  query: string,
  variables: Record<string, unknown>,
  headers: Record<string, string> = {},
) {
  return timed(name, "/graphql", {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: json({ query, variables }),
  });
}

const RECORD_CONVERSION = `mutation($input: RecordRuleConversionInput!) { recordRuleConversion(input: $input) { ruleId } }`;
const LOG_CONVERSION = `mutation($input: LogConversionInput!) { logConversion(input: $input) { status } }`;

/** Every ingest path once, each with fresh visitors; `wave` names them. */
function ingestWave(wave: string, visitors: string[]): Promise<Timed>[] {
  const visitor = (suffix: string) => {
    const id = `${wave.replace(/\W+/g, "-")}-${suffix}-${randomUUID()}`;
    visitors.push(id);
    return id;
  };
  return [
    recordConversion(`${wave} zephr conversion`, visitor("c1")),
    recordConversion(`${wave} zephr conversion`, visitor("c2")),
    recordExposure(`${wave} zephr exposure`, visitor("e")),
    logConversion(`${wave} /api/v2 (key cached, contact lookup)`, tenant.apiKey),
    logConversion(`${wave} /api/v2 (key check)`, uncachedKey),
    graphql(`${wave} graphql recordRuleConversion`, RECORD_CONVERSION, {
      input: { ruleId: RULE, outcomeId: "a", conversion: "REGISTERED", trackingId: visitor("g") },
    }),
    graphql(
      `${wave} graphql logConversion`,
      LOG_CONVERSION,
      { input: { email: "buyer@example.com", conversionType: "purchase" } },
      { "x-api-key": tenant.apiKey },
    ),
    // With idempotency keys: their lookup needs the database too (it once waited without a bound).
    logConversion(`${wave} /api/v2 with an Idempotency-Key`, tenant.apiKey, randomUUID()),
    recordConversion(`${wave} zephr conversion with an eventId`, visitor("k"), randomUUID()),
    graphql(
      `${wave} graphql logConversion with an idempotencyKey`,
      LOG_CONVERSION,
      { input: { email: "buyer@example.com", conversionType: "purchase", idempotencyKey: randomUUID() } },
      { "x-api-key": tenant.apiKey },
    ),
    timed(`${wave} /ready`, "/ready"),
  ];
}

/** What a refused ingest request must look like: 503, Retry-After, the endpoint's body shape. */
function expectRefusedInTime(answer: Timed) {
  const summary = `${answer.name}: ${answer.status} in ${answer.ms} ms ${JSON.stringify(answer.body)}`;
  expect(answer.ms, summary).toBeLessThan(TIMEOUT_MS);
  expect(answer.status, summary).toBe(503);
  if (answer.name.endsWith("/ready")) {
    expect(answer.body).toEqual({ status: "unavailable" });
    return;
  }
  expect(Number(answer.headers.get("retry-after")), summary).toBeGreaterThanOrEqual(1);
  if (answer.name.includes("graphql")) {
    expect(answer.body.errors?.[0]?.extensions?.code, summary).toBe("SERVICE_UNAVAILABLE");
  } else if (answer.name.includes("/api/v2")) {
    expect(typeof answer.body.detail, summary).toBe("string");
  } else {
    expect(typeof answer.body.message, summary).toBe("string");
  }
}

/** Polls `attempt` until it gives `status`; the milliseconds that took. */
async function timeUntil(status: number, attempt: () => Promise<Timed>, limitMs: number): Promise<number> {
  const started = performance.now();
  let last: Timed | undefined;
  while (performance.now() - started < limitMs) {
    last = await attempt();
    if (last.status === status) return Math.round(performance.now() - started);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`no ${status} within ${limitMs} ms; last: ${last?.status} ${JSON.stringify(last?.body)}`);
}

async function storedConversionEvents(trackingIds: string[]): Promise<number> {
  if (trackingIds.length === 0) return 0;
  const rows = await queryDatabase<{ n: number | string }>(
    app.database,
    `SELECT COUNT(*) AS n FROM rule_conversion_events WHERE rule_id = ? AND tracking_id IN (${trackingIds.map(() => "?").join(", ")})`,
    [RULE, ...trackingIds],
  );
  return Number(rows[0].n);
}

async function storedExposures(trackingIds: string[]): Promise<number> {
  const rows = await queryDatabase<{ n: number | string }>(
    app.database,
    `SELECT COUNT(*) AS n FROM rule_exposures WHERE rule_id = ? AND tracking_id IN (${trackingIds.map(() => "?").join(", ")})`,
    [RULE, ...trackingIds],
  );
  return Number(rows[0].n);
}

async function startApp() {
  app = await startTestApp({
    DB_UNAVAILABLE_TIMEOUT_MS: String(TIMEOUT_MS),
    DEFAULT_ORGANISATION_ID: DEFAULT_ORG,
    // A cached key and host let the Zephr and cached-key calls reach the writer and contact lookup.
    API_KEY_CACHE_TTL_MS: "300000",
    SITE_CACHE_TTL_MS: "300000",
  });
  tenant = await createTenant(app, ["buyer@example.com"]);
  uncachedKey = (await app.server.services.apiKeys.create(tenant.organisationId, "uncached")).key;
  // Warm the caches (key, host) and check every path works before the outage.
  expect((await logConversion("warm-up", tenant.apiKey)).status).toBe(202);
  expect((await recordConversion("warm-up", `warm-${randomUUID()}`)).status).toBe(201);
  expect((await timed("warm-up", "/ready")).status).toBe(200);
}

const onMysql = testServerUrl() !== undefined;

// Each database gets the outage it can have: only the one under test is registered.
const onlyOn = (wanted: boolean) => (wanted ? describe : () => undefined);

onlyOn(onMysql)("a MariaDB server that stops answering", () => {
  let serverPid: number | undefined;
  const resume = () => {
    if (serverPid !== undefined) {
      try {
        process.kill(serverPid, "SIGCONT");
      } catch {
        // already gone
      }
    }
  };

  beforeAll(async () => {
    const url = new URL(testServerUrl() as string);
    if (!["127.0.0.1", "localhost", "::1"].includes(url.hostname)) {
      throw new Error(`the outage test pauses the local mariadbd; TEST_DATABASE_URL points to ${url.hostname}`);
    }
    const pids = execFileSync("pgrep", ["-x", "mariadbd"], { encoding: "utf8" }).trim().split("\n").filter(Boolean);
    if (pids.length !== 1) throw new Error(`expected one mariadbd process to pause, found ${pids.length}`);
    serverPid = Number(pids[0]);
    // Whatever happens to this process, the server is resumed.
    process.once("exit", resume);
    await startApp();
  });
  afterAll(async () => {
    resume();
    process.off("exit", resume);
    await app?.stop();
  });

  it("answers 503 within the bound while paused, and serves again within it after SIGCONT", async () => {
    const refusedVisitors: string[] = [];
    let answers: Timed[];
    let resumedAt: number;
    const pausedAt = performance.now();
    process.kill(serverPid as number, "SIGSTOP");
    try {
      const first = ingestWave("paused", refusedVisitors);
      // A second wave while the first one's connections are stuck: queueing must not lengthen it.
      await new Promise((resolve) => setTimeout(resolve, 3_000));
      const second = ingestWave("still paused", refusedVisitors);
      answers = await Promise.all([...first, ...second]);
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, PAUSE_MS - (performance.now() - pausedAt))));
    } finally {
      resume();
      resumedAt = performance.now();
    }
    console.info(
      `paused ${Math.round(resumedAt - pausedAt)} ms; answers: ${answers.map((a) => `${a.name} ${a.status} ${a.ms} ms`).join("; ")}`,
    );
    for (const answer of answers) expectRefusedInTime(answer);

    const readyAfter = await timeUntil(200, () => timed("ready", "/ready"), TIMEOUT_MS);
    const writesAfter = await timeUntil(201, () => recordConversion("after", `after-${randomUUID()}`), TIMEOUT_MS);
    console.info(`after SIGCONT: /ready 200 in ${readyAfter} ms, first 201 in ${writesAfter} ms`);
    expect(readyAfter).toBeLessThan(TIMEOUT_MS);
    expect(writesAfter).toBeLessThan(TIMEOUT_MS);
    expect((await logConversion("after", tenant.apiKey)).status).toBe(202);
    expect((await logConversion("after", uncachedKey)).status).toBe(202);

    // The refused batches were given up before their COMMIT: once the server has seen their
    // connections close, none of their events exists.
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(await storedConversionEvents(refusedVisitors)).toBe(0);
    expect(await storedExposures(refusedVisitors)).toBe(0);
  }, 60_000);

  it("keeps answering when every connection is killed (as a restart does), losing nothing acknowledged", async () => {
    const admin = await createConnection({ uri: (testServerUrl() as string).replace(/^mariadb:/, "mysql:") });
    const database = new URL(app.database.env.DATABASE_URL as string).pathname.slice(1);
    try {
      for (let round = 0; round < 2; round++) {
        const [rows] = await admin.query("SELECT ID AS id FROM information_schema.PROCESSLIST WHERE DB = ?", [
          database,
        ]);
        const ids = (rows as { id: number }[]).map((row) => row.id);
        expect(ids.length).toBeGreaterThan(0);
        for (const id of ids) await admin.query(`KILL CONNECTION ${Number(id)}`).catch(() => undefined);

        const visitors = Array.from({ length: 5 }, () => `killed-${randomUUID()}`);
        const answers = await Promise.all([
          ...visitors.map((visitor) => recordConversion("after kill", visitor)),
          logConversion("after kill /api/v2", tenant.apiKey),
          timed("after kill /ready", "/ready"),
        ]);
        console.info(`after KILL: ${answers.map((a) => `${a.name} ${a.status} ${a.ms} ms`).join("; ")}`);
        for (const answer of answers) {
          expect(answer.ms).toBeLessThan(TIMEOUT_MS);
          expect([200, 201, 202, 503]).toContain(answer.status);
        }
        // Stale connections before COMMIT are retried on fresh ones: in practice nobody sees the kill.
        const stored = answers.slice(0, visitors.length).filter((answer) => answer.status === 201).length;
        expect(stored).toBe(visitors.length);
        expect(await storedConversionEvents(visitors)).toBe(stored);
        expect((await timed("ready", "/ready")).status).toBe(200);
      }
    } finally {
      await admin.end();
    }
  }, 60_000);
});

onlyOn(!onMysql)("a SQLite file locked by another process", () => {
  beforeAll(startApp);
  afterAll(() => app?.stop());

  it("answers writes 503 within the bound while locked, reads still work, and writes resume at once", async () => {
    const Sqlite = createRequire(__filename)("better-sqlite3");
    const locker = new Sqlite(app.database.env.SQLITE_PATH);
    const refused: string[] = [];
    let answers: Timed[];
    try {
      locker.exec("BEGIN IMMEDIATE"); // holds the write lock, as a long admin transaction would
      const visitor = `locked-${randomUUID()}`;
      refused.push(visitor);
      answers = await Promise.all([
        recordConversion("locked zephr conversion", visitor),
        timed("locked /ready", "/ready"),
      ]);
    } finally {
      locker.exec("ROLLBACK");
      locker.close();
    }
    const [write, ready] = answers;
    console.info(`locked SQLite: write ${write.status} in ${write.ms} ms, /ready ${ready.status}`);
    expect(write.status).toBe(503);
    expect(write.ms).toBeLessThan(TIMEOUT_MS);
    expect(typeof write.body.message).toBe("string");
    expect(Number(write.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    // WAL readers never wait for the writer: the database still answers.
    expect(ready.status).toBe(200);
    expect(await storedConversionEvents(refused)).toBe(0);
    expect((await recordConversion("unlocked", `unlocked-${randomUUID()}`)).status).toBe(201);
  });
});
