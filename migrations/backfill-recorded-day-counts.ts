// Fills the daily counters' recorded_converters / recorded_conversions (what was recorded on each
// day, whatever the cohort) from the (cohort day, conversion day) counters already stored, the way
// the writer would have (keys: SHA-256 of the JSON tuple, as src/rules/rule-event-store.ts). Its
// own copy of the key function: a migration must not change when the code it once ran with does.
// One rule at a time, so what it holds in memory is bounded by one rule's outcomes × days.
import { createHash } from "node:crypto";
import type { QueryRunner } from "typeorm";
import { insertRows } from "./insert-rows";

const keyHash = (...parts: string[]) => createHash("sha256").update(JSON.stringify(parts)).digest("hex");

const UPSERT = {
  sqlite: `ON CONFLICT (counter_key) DO UPDATE SET recorded_converters = excluded.recorded_converters,
    recorded_conversions = excluded.recorded_conversions`,
  mysql: `ON DUPLICATE KEY UPDATE recorded_converters = VALUES(recorded_converters),
    recorded_conversions = VALUES(recorded_conversions)`,
};

export async function backfillRecordedDayCounts(queryRunner: QueryRunner, dialect: "sqlite" | "mysql") {
  const rules: { organisation_id: string; rule_id: string }[] = await queryRunner.query(
    "SELECT DISTINCT organisation_id, rule_id FROM rule_outcome_conversion_days",
  );
  const columns = [
    "counter_key",
    "organisation_id",
    "rule_id",
    "outcome_id",
    "conversion_type",
    "day",
    "recorded_converters",
    "recorded_conversions",
  ];
  for (const { organisation_id, rule_id } of rules) {
    const sums: Record<string, string | number>[] = await queryRunner.query(
      `SELECT outcome_id, conversion_type, conversion_day, SUM(converters) AS converters, SUM(conversions) AS conversions
         FROM rule_outcome_conversion_days WHERE organisation_id = ? AND rule_id = ?
        GROUP BY outcome_id, conversion_type, conversion_day`,
      [organisation_id, rule_id],
    );
    const rows = sums.map((row) => {
      const scope = [
        organisation_id,
        rule_id,
        String(row.outcome_id),
        String(row.conversion_type),
        String(row.conversion_day),
      ];
      return [keyHash(...scope), ...scope, Number(row.converters), Number(row.conversions)];
    });
    await insertRows(queryRunner, "rule_outcome_daily_stats", columns, rows, UPSERT[dialect]);
  }
}
