// The migration that added the series and crossover counters fills them from the fact rows already
// stored: what it computes must equal what the writer keeps. Events are recorded through the app,
// the writer's rows saved, the tables emptied and refilled by the migration's backfill, then compared.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { backfillRecordedDayCounts } from "../../migrations/backfill-recorded-day-counts";
import { backfillSeriesAndCrossovers } from "../../migrations/backfill-series-and-crossovers";
import { createTenant, http, startTestApp, type TestApp } from "../helpers/app";

let app: TestApp;
let now = new Date();

beforeAll(async () => {
  const bootstrap = await startTestApp();
  const tenant = await createTenant(bootstrap);
  await bootstrap.server.close();
  app = await startTestApp({ DEFAULT_ORGANISATION_ID: tenant.organisationId }, bootstrap.database, {
    clock: () => now,
  });
});
afterAll(() => app?.stop());

const TABLES = {
  rule_outcome_conversion_days:
    "counter_key, organisation_id, rule_id, outcome_id, conversion_type, cohort_day, conversion_day, converters, conversions",
  rule_visitor_outcomes: "key_hash, organisation_id, rule_id, tracking_id, outcomes",
  rule_crossovers: "counter_key, organisation_id, rule_id, visitors",
};

async function snapshot() {
  const rows: Record<string, unknown[]> = {};
  for (const [table, columns] of Object.entries(TABLES)) {
    const found: Record<string, unknown>[] = await app.server.dataSource.query(`SELECT ${columns} FROM ${table}`);
    rows[table] = found
      .map((row) =>
        Object.fromEntries(
          Object.entries(row).map(([key, value]) => [key, typeof value === "string" ? value : Number(value)]),
        ),
      )
      .sort((a, b) => (JSON.stringify(a) < JSON.stringify(b) ? -1 : 1));
  }
  return rows;
}

describe("backfillSeriesAndCrossovers", () => {
  it("gives the counters the writer keeps", async () => {
    const send = async (path: string, visitor: string, at: string, body: Record<string, string>) => {
      now = new Date(at);
      const response = await http(`${app.url}/zephr/public/rule-outcomes/v1/${path}`, {
        method: "POST",
        headers: { "content-type": "application/json", cookie: `blaize_tracking_id=${visitor}` },
        body: JSON.stringify(body),
      });
      expect(response.status).toBe(201);
    };
    for (let visitor = 0; visitor < 12; visitor++) {
      const day = `2026-04-0${1 + (visitor % 3)}`;
      await send("exposures", `v${visitor}`, `${day}T09:00:00Z`, {
        ruleId: "r1",
        outcomeId: visitor % 4 ? "A" : "A,B",
      });
      if (visitor % 3 === 0)
        await send("exposures", `v${visitor}`, "2026-04-05T09:00:00Z", { ruleId: "r1", outcomeId: "C" });
      if (visitor % 2 === 0) {
        await send("conversions", `v${visitor}`, `2026-04-0${4 + (visitor % 5)}T23:59:59.999Z`, {
          ruleId: "r1",
          outcomeId: "A,B,C",
          conversion: visitor % 4 ? "CUSTOMER" : "REGISTERED",
        });
        await send("conversions", `v${visitor}`, "2026-04-09T00:00:00Z", {
          ruleId: "r1",
          outcomeId: "A",
          conversion: "CUSTOMER",
        });
      }
      await send("exposures", `v${visitor}`, "2026-04-02T09:00:00Z", { ruleId: "r2", outcomeId: "X" });
    }
    await send("conversions", "stranger", "2026-04-03T09:00:00Z", {
      ruleId: "r1",
      outcomeId: "A",
      conversion: "CUSTOMER",
    });
    const written = await snapshot();
    expect(written.rule_crossovers).toHaveLength(1);
    expect(written.rule_outcome_conversion_days.length).toBeGreaterThan(10);

    const queryRunner = app.server.dataSource.createQueryRunner();
    try {
      for (const table of Object.keys(TABLES)) await queryRunner.query(`DELETE FROM ${table}`);
      await backfillSeriesAndCrossovers(queryRunner, app.database.kind);
    } finally {
      await queryRunner.release();
    }
    expect(await snapshot()).toEqual(written);

    // The recorded_* cells of the daily counters, refilled from the (cohort day, conversion day) cells.
    const DAILY = "rule_outcome_daily_stats";
    const daily = async () => {
      const found: Record<string, unknown>[] = await app.server.dataSource.query(
        `SELECT counter_key, organisation_id, rule_id, outcome_id, conversion_type, day, exposures, converters,
                conversions, unattributed, recorded_converters, recorded_conversions FROM ${DAILY} ORDER BY counter_key`,
      );
      return found.map((row) =>
        Object.fromEntries(Object.entries(row).map(([k, v]) => [k, typeof v === "string" ? v : Number(v)])),
      );
    };
    const kept = await daily();
    expect(kept.filter((row) => Number(row.recorded_converters) > 0).length).toBeGreaterThan(3);
    // Some cells exist only for what was recorded on a day no cohort started.
    const onlyRecorded = kept.filter((row) => row.exposures === 0 && row.converters === 0 && row.conversions === 0);
    expect(onlyRecorded.length).toBeGreaterThan(0);
    await app.server.dataSource.query(`UPDATE ${DAILY} SET recorded_converters = 0, recorded_conversions = 0`);
    await app.server.dataSource.query(
      `DELETE FROM ${DAILY} WHERE exposures = 0 AND converters = 0 AND conversions = 0 AND unattributed = 0`,
    );
    const refill = app.server.dataSource.createQueryRunner();
    try {
      await backfillRecordedDayCounts(refill, app.database.kind);
    } finally {
      await refill.release();
    }
    expect(await daily()).toEqual(kept);
  });
});
