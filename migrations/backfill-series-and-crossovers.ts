// Fills the series and crossover counters from the fact rows stored before they existed, the way
// the writer would have (keys: SHA-256 of the JSON tuple, as src/rules/rule-event-store.ts). Its
// own copy of the key function: a migration must not change when the code it once ran with does.
import { createHash } from "node:crypto";
import type { QueryRunner } from "typeorm";
import { insertRows } from "./insert-rows";

const keyHash = (...parts: string[]) => createHash("sha256").update(JSON.stringify(parts)).digest("hex");
/** The dialect's expression for the UTC day (YYYY-MM-DD) of a DATETIME(3) column (stored in UTC). */
const DAY_OF = {
  sqlite: (column: string) => `substr(${column}, 1, 10)`,
  mysql: (column: string) => `DATE_FORMAT(${column}, '%Y-%m-%d')`,
};

export async function backfillSeriesAndCrossovers(queryRunner: QueryRunner, dialect: "sqlite" | "mysql") {
  const dayOf = DAY_OF[dialect];
  const cells = new Map<string, unknown[]>();
  const cell = (row: Record<string, string>) => {
    const scope = [row.organisation_id, row.rule_id, row.outcome_id, row.conversion_type, row.cohort_day, row.day];
    const key = keyHash(...scope);
    const values = cells.get(key) ?? [key, ...scope, 0, 0];
    cells.set(key, values);
    return values;
  };
  const converters: Record<string, string>[] = await queryRunner.query(
    `SELECT organisation_id, rule_id, outcome_id, conversion_type, cohort_day, ${dayOf("converted_at")} AS day, COUNT(*) AS n
       FROM rule_converters GROUP BY organisation_id, rule_id, outcome_id, conversion_type, cohort_day, ${dayOf("converted_at")}`,
  );
  for (const row of converters) (cell(row)[7] as number) += Number(row.n);
  // Attributed events count under their own type and under "any" ('').
  for (const type of ["conversion", "''"]) {
    const conversions: Record<string, string>[] = await queryRunner.query(
      `SELECT organisation_id, rule_id, outcome_id, ${type} AS conversion_type, cohort_day, ${dayOf("created_at")} AS day, COUNT(*) AS n
         FROM rule_conversion_events WHERE attributed = 1
        GROUP BY organisation_id, rule_id, outcome_id, ${type}, cohort_day, ${dayOf("created_at")}`,
    );
    for (const row of conversions) (cell(row)[8] as number) += Number(row.n);
  }
  await insertRows(
    queryRunner,
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
    [...cells.values()],
  );

  const visitors: Record<string, string>[] = await queryRunner.query(
    `SELECT organisation_id, rule_id, tracking_id, COUNT(*) AS n FROM rule_exposures GROUP BY organisation_id, rule_id, tracking_id`,
  );
  await insertRows(
    queryRunner,
    "rule_visitor_outcomes",
    ["key_hash", "organisation_id", "rule_id", "tracking_id", "outcomes"],
    visitors.map((row) => [
      keyHash(row.organisation_id, row.rule_id, row.tracking_id),
      row.organisation_id,
      row.rule_id,
      row.tracking_id,
      Number(row.n),
    ]),
  );
  const crossovers = new Map<string, unknown[]>();
  for (const row of visitors) {
    if (Number(row.n) < 2) continue;
    const key = keyHash(row.organisation_id, row.rule_id);
    const values = crossovers.get(key) ?? [key, row.organisation_id, row.rule_id, 0];
    (values[3] as number)++;
    crossovers.set(key, values);
  }
  await insertRows(
    queryRunner,
    "rule_crossovers",
    ["counter_key", "organisation_id", "rule_id", "visitors"],
    [...crossovers.values()],
  );
}
