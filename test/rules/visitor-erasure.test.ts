// Erasing a visitor (npm run admin -- visitor:erase): every exposure, conversion event and
// converter fact of that visitor in the organisation is deleted, and the counters lose exactly
// what those rows contributed. The proof: a twin organisation that received the same events minus
// the visitor's shows identical statistics afterwards, for every conversion type and window.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTenant, graphql, startSecondInstance, startTestApp, type Tenant, type TestApp } from "../helpers/app";
import { adminCommand, queryDatabase } from "../helpers/processes";
import { rawRequest } from "../helpers/raw-http";

const ERASED = "visitor-to-forget";
let now = new Date();
let app: TestApp;
let erased: Tenant; // receives every event, the erased visitor's included
let twin: Tenant; // receives the same events but the erased visitor's

const HOSTS = new Map<string, string>();

beforeAll(async () => {
  app = await startTestApp({}, undefined, { clock: () => now });
  erased = await createTenant(app);
  twin = await createTenant(app);
  HOSTS.set(erased.organisationId, "erased.example.test");
  HOSTS.set(twin.organisationId, "twin.example.test");
  for (const [organisationId, host] of HOSTS) await app.server.services.sites.add(organisationId, host);
});
afterAll(() => app?.stop());

type Event = [visitor: string, at: string, outcomeId: string, conversion?: string];
const RULE = "erasure-rule";
// Exposures (no conversion) and conversions, in time order; the erased visitor sees an outcome
// nobody else sees, converts with a type nobody else uses, converts unattributed, crosses over.
const EVENTS: Event[] = [
  ["v1", "2026-05-01T09:00:00Z", "A"],
  ["v2", "2026-05-01T09:05:00Z", "B"],
  [ERASED, "2026-05-01T09:10:00Z", "B", "CUSTOMER"], // unattributed: not exposed yet
  [ERASED, "2026-05-01T10:00:00Z", "A"],
  [ERASED, "2026-05-01T10:01:00Z", "B"],
  [ERASED, "2026-05-01T10:02:00Z", "ONLY-FORGOTTEN"],
  ["v3", "2026-05-02T08:00:00Z", "A"],
  ["v1", "2026-05-02T12:00:00Z", "A", "REGISTERED"],
  [ERASED, "2026-05-02T12:30:00Z", "A", "REGISTERED"],
  [ERASED, "2026-05-03T12:30:00Z", "A", "rare"],
  [ERASED, "2026-05-03T12:31:00Z", "ONLY-FORGOTTEN", "CUSTOMER"],
  ["v2", "2026-05-03T13:00:00Z", "B", "CUSTOMER"],
  ["v2", "2026-05-04T13:00:00Z", "B", "CUSTOMER"],
  [ERASED, "2026-05-04T14:00:00Z", "B", "CUSTOMER"],
  ["v3", "2026-05-05T10:00:00Z", "C", "CUSTOMER"], // unattributed
];

async function record(organisationId: string, [visitor, at, outcomeId, conversion]: Event) {
  now = new Date(at);
  const path = conversion ? "conversions" : "exposures";
  const response = await rawRequest(`${app.url}/zephr/public/rule-outcomes/v1/${path}`, {
    method: "POST",
    headers: {
      host: HOSTS.get(organisationId) as string,
      "content-type": "application/json",
      cookie: `blaize_tracking_id=${visitor}`,
    },
    body: JSON.stringify({ ruleId: RULE, outcomeId, conversion }),
  });
  expect(response.status).toBe(201);
}

const STATS = `query($ruleId: ID!, $conversion: String, $from: String, $to: String) {
  outcomeConversionStats(ruleId: $ruleId, conversion: $conversion, from: $from, to: $to, pValueAdjustment: HOLM) {
    ruleId conversion totalExposures sampleRatioMismatchPValue sampleRatioMismatch crossoverVisitors baselineOutcomeId
    outcomes { outcomeId exposures converters conversions unattributedConversions conversionRate
      confidenceInterval { lower upper } uplift pValue probabilityToBeBest
      difference differenceInterval { lower upper } upliftInterval { lower upper } chanceToBeatBaseline expectedLoss
      sequentialDifferenceInterval { lower upper } sequentialPValue adjustedPValue adjustedSequentialPValue
      sampleSize(relativeMde: 0.2) { exposuresPerOutcome daysRemaining } }
  }
  outcomeConversionSeries(ruleId: $ruleId, conversion: $conversion, from: $from, to: $to) {
    from to days { day outcomes { outcomeId exposures converters conversions conversionRate
      confidenceInterval { lower upper } uplift pValue sequentialPValue probabilityToBeBest } }
  }
}`;

async function stats(tenant: Tenant, variables: Record<string, unknown>) {
  // The series runs to 31 May unless told: the same days in both organisations.
  const response = await graphql(
    app,
    STATS,
    { ruleId: RULE, to: "2026-05-31", ...variables },
    { "x-api-key": tenant.apiKey },
  );
  expect(response.body.errors).toBeUndefined();
  return response.body.data;
}

async function rules(tenant: Tenant) {
  const response = await graphql(app, "{ rules { edges { node { ruleId outcomeIds exposures } } } }", undefined, {
    "x-api-key": tenant.apiKey,
  });
  return response.body.data.rules.edges;
}

const FILTERS = [
  {},
  { conversion: "CUSTOMER" },
  { conversion: "REGISTERED" },
  { conversion: "rare" },
  { from: "2026-05-02" },
  { to: "2026-05-01" },
  { from: "2026-05-03", to: "2026-05-05", conversion: "CUSTOMER" },
  { from: "2026-05-01", to: "2026-05-03", conversion: "CUSTOMER" },
];

describe("visitor:erase", () => {
  it("leaves the statistics exactly as if the visitor had never been recorded", async () => {
    for (const event of EVENTS) {
      await record(erased.organisationId, event);
      if (event[0] !== ERASED) await record(twin.organisationId, event);
    }
    // Before: the visitor shows, a crossover among others.
    expect(await stats(erased, {})).not.toEqual(await stats(twin, {}));
    expect((await stats(erased, {})).outcomeConversionStats.crossoverVisitors).toBe(1);

    const env = { ...app.database.env, LOG_LEVEL: "silent" };
    const result = await adminCommand(["visitor:erase", "--org", erased.organisationId, "--tracking-id", ERASED], env);
    expect(result).toEqual({ exposures: 3, conversions: 5 });

    for (const filter of FILTERS)
      expect(await stats(erased, filter), JSON.stringify(filter)).toEqual(await stats(twin, filter));
    expect(await rules(erased)).toEqual(await rules(twin));
    for (const table of ["rule_exposures", "rule_conversion_events"]) {
      const rows = await queryDatabase(
        app.database,
        `SELECT COUNT(*) AS n FROM ${table} WHERE organisation_id = ? AND tracking_id = ?`,
        [erased.organisationId, ERASED],
      );
      expect(Number(rows[0].n), table).toBe(0);
    }
    const [converters] = await queryDatabase(
      app.database,
      "SELECT (SELECT COUNT(*) FROM rule_converters WHERE organisation_id = ?) - (SELECT COUNT(*) FROM rule_converters WHERE organisation_id = ?) AS n",
      [erased.organisationId, twin.organisationId],
    );
    expect(Number(converters.n)).toBe(0);

    // Idempotent, and scoped: erasing again deletes nothing; the twin's visitors are untouched.
    expect(await adminCommand(["visitor:erase", "--org", erased.organisationId, "--tracking-id", ERASED], env)).toEqual(
      {
        exposures: 0,
        conversions: 0,
      },
    );
    expect(await adminCommand(["visitor:erase", "--org", erased.organisationId, "--tracking-id", "v1"], env)).toEqual({
      exposures: 1,
      conversions: 1,
    });
    const twinBefore = (await stats(twin, {})).outcomeConversionStats;
    expect(twinBefore.outcomes.find((outcome: { outcomeId: string }) => outcome.outcomeId === "A").exposures).toBe(2);
  });
});

describe("erasing while two instances write", () => {
  it("forgets the visitor's idempotency keys: a retry is recorded afresh, others' keys still replay", async () => {
    const host = HOSTS.get(erased.organisationId) as string;
    now = new Date("2026-07-01T10:00:00Z");
    const send = (visitor: string, path: "exposures" | "conversions", eventId: string) =>
      rawRequest(`${app.url}/zephr/public/rule-outcomes/v1/${path}`, {
        method: "POST",
        headers: { host, "content-type": "application/json", cookie: `blaize_tracking_id=${visitor}` },
        body: JSON.stringify({
          ruleId: "keyed-rule",
          outcomeId: "A",
          eventId,
          ...(path === "conversions" ? { conversion: "CUSTOMER" } : {}),
        }),
      });
    for (const visitor of ["keyed-visitor", "keyed-other"]) {
      expect((await send(visitor, "exposures", "seen-1")).status).toBe(201);
      expect((await send(visitor, "conversions", "bought-1")).status).toBe(201);
      expect((await send(visitor, "conversions", "bought-1")).headers["idempotent-replayed"]).toBe("true");
    }
    const keysOf = async (visitor: string) =>
      Number(
        (
          await queryDatabase(
            app.database,
            "SELECT COUNT(*) AS n FROM idempotency_keys WHERE organisation_id = ? AND scope = ?",
            [erased.organisationId, visitor],
          )
        )[0].n,
      );
    expect(await keysOf("keyed-visitor")).toBe(2);

    await app.server.services.rules.eraseVisitor(erased.organisationId, "keyed-visitor");
    expect([await keysOf("keyed-visitor"), await keysOf("keyed-other")]).toEqual([0, 2]);
    // The same event id is a new event now: recorded, not replayed.
    const retried = await send("keyed-visitor", "conversions", "bought-1");
    expect([retried.status, retried.headers["idempotent-replayed"]]).toEqual([201, undefined]);
    const [stored] = await queryDatabase(
      app.database,
      "SELECT COUNT(*) AS n FROM rule_conversion_events WHERE organisation_id = ? AND tracking_id = ?",
      [erased.organisationId, "keyed-visitor"],
    );
    expect(Number(stored.n)).toBe(1);
    expect((await send("keyed-other", "conversions", "bought-1")).headers["idempotent-replayed"]).toBe("true");
  });

  it("keeps every counter equal to what the remaining raw rows say", async () => {
    const rule = "busy-erasure-rule";
    const host = HOSTS.get(erased.organisationId) as string;
    const second = await startSecondInstance(app);
    try {
      now = new Date("2026-06-01T10:00:00Z");
      const send = (base: string, visitor: string, body: Record<string, string>) =>
        rawRequest(`${base}/zephr/public/rule-outcomes/v1/${body.conversion ? "conversions" : "exposures"}`, {
          method: "POST",
          headers: { host, "content-type": "application/json", cookie: `blaize_tracking_id=${visitor}` },
          body: JSON.stringify({ ruleId: rule, ...body }),
        });
      const forgotten = ["w0", "w1", "w2", "w3", "w4"];
      const writes: Promise<unknown>[] = [];
      const erasures: Promise<unknown>[] = [];
      for (let round = 0; round < 4; round++) {
        for (let index = 0; index < 10; index++) {
          const visitor = `w${index}`;
          for (const base of [app.url, second.url]) {
            writes.push(send(base, visitor, { outcomeId: index % 2 ? "A,B" : "A" }));
            writes.push(send(base, visitor, { outcomeId: "A", conversion: round % 2 ? "CUSTOMER" : "REGISTERED" }));
          }
        }
        for (const visitor of forgotten) {
          erasures.push(app.server.services.rules.eraseVisitor(erased.organisationId, visitor));
          erasures.push(second.services.rules.eraseVisitor(erased.organisationId, visitor));
        }
      }
      await Promise.all([...writes, ...erasures]);
      for (const visitor of forgotten) await app.server.services.rules.eraseVisitor(erased.organisationId, visitor);

      const one = async (sql: string, params: unknown[]) =>
        Number((await app.server.dataSource.query(sql, params))[0].n);
      const scope = [erased.organisationId, rule];
      for (const outcomeId of ["A", "B"]) {
        const counters = await app.server.dataSource.query(
          `SELECT COALESCE(SUM(exposures), 0) AS exposures, COALESCE(SUM(converters), 0) AS converters,
                  COALESCE(SUM(conversions), 0) AS conversions, COALESCE(SUM(unattributed), 0) AS unattributed
             FROM rule_outcome_daily_stats WHERE organisation_id = ? AND rule_id = ? AND outcome_id = ? AND conversion_type = ''`,
          [...scope, outcomeId],
        );
        const where = "organisation_id = ? AND rule_id = ? AND outcome_id = ?";
        expect(
          {
            exposures: Number(counters[0].exposures),
            converters: Number(counters[0].converters),
            conversions: Number(counters[0].conversions),
            unattributed: Number(counters[0].unattributed),
          },
          outcomeId,
        ).toEqual({
          exposures: await one(`SELECT COUNT(*) AS n FROM rule_exposures WHERE ${where}`, [...scope, outcomeId]),
          converters: await one(`SELECT COUNT(*) AS n FROM rule_converters WHERE ${where} AND conversion_type = ''`, [
            ...scope,
            outcomeId,
          ]),
          conversions: await one(`SELECT COUNT(*) AS n FROM rule_conversion_events WHERE ${where} AND attributed = 1`, [
            ...scope,
            outcomeId,
          ]),
          unattributed: await one(
            `SELECT COUNT(*) AS n FROM rule_conversion_events WHERE ${where} AND attributed = 0`,
            [...scope, outcomeId],
          ),
        });
      }
      const left = await one(
        `SELECT COUNT(*) AS n FROM rule_exposures WHERE organisation_id = ? AND tracking_id IN (${forgotten.map(() => "?").join(", ")})`,
        [erased.organisationId, ...forgotten],
      );
      expect(left).toBe(0);
      const kept = await one(
        "SELECT COUNT(*) AS n FROM rule_exposures WHERE organisation_id = ? AND rule_id = ?",
        scope,
      );
      // w5…w9 remain: each saw A, the odd ones B too.
      expect(kept).toBe(8);
    } finally {
      await second.close();
    }
  });
});
