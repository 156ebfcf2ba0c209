// The service under test, in its own process: the compiled service started with startServer() and
// its real settings from the environment bench/run.js passes (MariaDB, LOG_LEVEL as shipped,
// request logs to stdout, which run.js points at /dev/null). Besides serving HTTP it answers the
// bench's setup commands over IPC, in-process as the admin command line would: create tenants,
// expose visitors, count stored rows, and seed a rule with millions of events through the
// service's own write path (services.writer.enqueue, the BatchWriter every request goes through).
"use strict";

require("reflect-metadata");
const { randomBytes } = require("node:crypto");
const { loadConfig } = require("../dist/src/config");
const { startServer } = require("../dist/src/server");
const { timeOrderedUuid } = require("../dist/src/db/time-ordered-id");
const { serveParent } = require("./child");

const DAY_MS = 86_400_000;
const OUTCOMES = ["A", "B", "C"];
/** Per mille of visitors of each outcome who convert: close enough for probabilityToBeBest to be undecided. */
const CONVERTING_PER_MILLE = [330, 350, 370];
const CONVERSION_TYPES = ["view_pricing", "signup", "purchase"];
const DAYS = 30;
/**
 * Rows of one queued item, and items in flight at once, while seeding. The writer's queue bound
 * (WRITER_MAX_QUEUE) counts rows: the items in flight must fit in it. Two: one written, the next
 * ready. An item is given up at the writer's deadline counted from when it is queued, so an item
 * never waits behind more than one other.
 */
const ITEM_ROWS = Number(process.env.BENCH_ITEM_ROWS || 2_000);
const ITEMS_IN_FLIGHT = Number(process.env.BENCH_ITEMS_IN_FLIGHT || 2);
/** Attempts of one seeding item before the seeding fails. */
const SEED_ATTEMPTS = 10;
const COUNTED_TABLES = new Set(["conversions", "rule_conversion_events", "rule_exposures"]);

/** A deterministic 32-bit hash of (visitor, salt): the seeded rule is the same in every run. */
function mix(v, salt) {
  let h = Math.imul(v ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(salt + 1, 0xc2b2ae35);
  h = Math.imul(h ^ (h >>> 16), 0x7feb352d);
  h = Math.imul(h ^ (h >>> 15), 0x846ca68b);
  return (h ^ (h >>> 16)) >>> 0;
}

/**
 * The events of visitors [from, to) of one rule, in the order a day of traffic would bring them
 * roughly: first the visitors' first exposures (one of the last 30 days, one outcome each), then
 * their repeat exposures (0-14 each, stored nothing but still checked by the database), then the
 * conversions of about a third of them (1-10 each, of three types, after the first exposure).
 */
function* blockEvents(base, from, to, now) {
  const firstAt = (v) => now - (1 + (v % DAYS)) * DAY_MS + (mix(v, 1) % (DAY_MS - 3 * 3_600_000));
  const { organisationId, ruleId } = base;
  const row = (v, at) => ({
    organisationId,
    ruleId,
    outcomeId: OUTCOMES[v % 3],
    trackingId: `t${v}`,
    userId: null,
    at: new Date(at),
  });
  for (let v = from; v < to; v++) yield { kind: "exposures", first: true, row: row(v, firstAt(v)) };
  for (let v = from; v < to; v++) {
    for (let k = 0, n = mix(v, 2) % 15; k < n; k++)
      yield { kind: "exposures", row: row(v, firstAt(v) + (k + 1) * 420_000) };
  }
  for (let v = from; v < to; v++) {
    if (mix(v, 4) % 1000 >= CONVERTING_PER_MILLE[v % 3]) continue;
    for (let j = 0, n = 1 + (mix(v, 5) % 10); j < n; j++) {
      const conversion = CONVERSION_TYPES[mix(v, 6 + j) % 3];
      yield {
        kind: "ruleConversions",
        row: { ...row(v, firstAt(v) + (j + 1) * 540_000), id: timeOrderedUuid(), conversion },
      };
    }
  }
}

/** A driver's duplicate-key error (MySQL ER_DUP_ENTRY, SQLite's unique constraint), or TypeORM's wrapper of one. */
function isDuplicateKey(error) {
  const driver = error?.driverError ?? error;
  return driver?.code === "ER_DUP_ENTRY" || /UNIQUE constraint failed/.test(String(driver?.message));
}

async function main() {
  const config = loadConfig({ ...process.env, HOST: "127.0.0.1", PORT: "0" });
  if (ITEM_ROWS * ITEMS_IN_FLIGHT > config.WRITER_MAX_QUEUE) {
    throw new Error(
      `${ITEMS_IN_FLIGHT} items of ${ITEM_ROWS} rows in flight exceed WRITER_MAX_QUEUE=${config.WRITER_MAX_QUEUE}`,
    );
  }
  const server = await startServer(config);
  const { services } = server;
  /** Seeding progress per rule, so a rule can be grown from one size to the next. */
  const seeded = new Map();

  async function createTenant(name, contacts) {
    const organisation = await services.organisations.create(`bench ${name} ${randomBytes(3).toString("hex")}`);
    const { key } = await services.apiKeys.create(organisation.id, "bench");
    const emails = Array.from({ length: contacts }, (_, i) => `buyer${i}@bench.test`);
    if (contacts > 0) await services.contacts.upsert(organisation.id, emails);
    return { organisationId: organisation.id, key, emails };
  }

  /**
   * Stores one seeding item through the writer, re-sending it when the writer refuses it (503: the
   * database did not answer within DB_UNAVAILABLE_TIMEOUT_MS once the tables outgrow the buffer
   * pool, or the queue is full), as a client would. A re-sent item whose first attempt was stored
   * after all (an unknown outcome) fails on its conversion ids: it is stored once, so that is done.
   */
  async function storeItem(item, attempt = 1) {
    try {
      return await services.writer.enqueue(item);
    } catch (error) {
      const refused = error?.httpStatus === 503;
      if (attempt > 1 && item.kind === "ruleConversions" && isDuplicateKey(error)) return;
      if (!refused || attempt >= SEED_ATTEMPTS) throw error;
      await new Promise((resolve) => setTimeout(resolve, 1_000 * attempt));
      return storeItem(item, attempt + 1);
    }
  }

  /** Grows the rule to `total` events, ITEM_ROWS rows per queued item, ITEMS_IN_FLIGHT items at once. */
  async function seed({ organisationId, ruleId, total }) {
    const key = `${organisationId}/${ruleId}`;
    const state = seeded.get(key) ?? { events: 0, nextVisitor: 0, firstExposures: 0, conversions: 0, now: Date.now() };
    seeded.set(key, state);
    const started = performance.now();
    const inFlight = new Set();
    const items = { exposures: [], ruleConversions: [] };
    const send = async (kind) => {
      const rows = items[kind];
      items[kind] = [];
      if (rows.length === 0) return;
      const done = storeItem({ kind, rows });
      inFlight.add(done);
      done.finally(() => inFlight.delete(done)).catch(() => {});
      if (inFlight.size >= ITEMS_IN_FLIGHT) await Promise.race(inFlight);
    };
    const base = { organisationId, ruleId };
    while (state.events < total) {
      const from = state.nextVisitor;
      const to = from + Math.min(50_000, Math.max(100, Math.ceil((total - state.events) / 10)));
      for (const event of blockEvents(base, from, to, state.now)) {
        if (state.events >= total) break;
        items[event.kind].push(event.row);
        state.events++;
        if (event.first) state.firstExposures++;
        if (event.kind === "ruleConversions") state.conversions++;
        if (items[event.kind].length >= ITEM_ROWS) await send(event.kind);
      }
      // A block's conversions follow its exposures: flush those before the next block begins.
      await send("exposures");
      await send("ruleConversions");
      state.nextVisitor = to;
    }
    await Promise.all(inFlight);
    return {
      events: state.events,
      visitors: state.firstExposures,
      conversions: state.conversions,
      seconds: (performance.now() - started) / 1000,
    };
  }

  serveParent(
    server.url,
    {
      restTenant: ({ name, contacts }) => createTenant(name, contacts),
      /** A site (the tenant of public calls) and `visitors` visitors exposed to A or B beforehand. */
      zephrTenant: async ({ name, visitors, ruleId }) => {
        const tenant = await createTenant(name, 0);
        const host = `${name}-${randomBytes(4).toString("hex")}.bench.test`;
        await services.sites.add(tenant.organisationId, host);
        const at = new Date(Date.now() - 60_000);
        const rows = Array.from({ length: visitors }, (_, i) => ({
          organisationId: tenant.organisationId,
          ruleId,
          outcomeId: i % 2 === 0 ? "A" : "B",
          trackingId: `v${i}`,
          userId: null,
          at,
        }));
        await services.writer.enqueue({ kind: "exposures", rows });
        return { ...tenant, host };
      },
      seed,
      count: async ({ table, organisationId }) => {
        if (!COUNTED_TABLES.has(table)) throw new Error(`not a counted table: ${table}`);
        const [{ n }] = await services.dataSource.query(
          `SELECT COUNT(*) AS n FROM ${table} WHERE organisation_id = ?`,
          [organisationId],
        );
        return Number(n);
      },
    },
    () => server.close(),
  );
}

main().catch((error) => {
  console.error(`bench service failed to start: ${error.stack ?? error}`);
  process.exit(1);
});
