// The daily counters also count converters and conversions by the day they were recorded, whatever
// the cohort, so that a series reads outcome × day rows (SQLite). Filled from the counters stored.
import type { MigrationInterface, QueryRunner } from "typeorm";
import { backfillRecordedDayCounts } from "../backfill-recorded-day-counts";

export class RecordedDayCounts1764849600000 implements MigrationInterface {
  name = "RecordedDayCounts1764849600000";

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `ALTER TABLE "rule_outcome_daily_stats" ADD COLUMN "recorded_converters" integer NOT NULL DEFAULT (0)`,
    );
    await queryRunner.query(
      `ALTER TABLE "rule_outcome_daily_stats" ADD COLUMN "recorded_conversions" integer NOT NULL DEFAULT (0)`,
    );
    await backfillRecordedDayCounts(queryRunner, "sqlite");
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `DELETE FROM "rule_outcome_daily_stats" WHERE "exposures" = 0 AND "converters" = 0 AND "conversions" = 0 AND "unattributed" = 0`,
    );
    await queryRunner.query(`ALTER TABLE "rule_outcome_daily_stats" DROP COLUMN "recorded_conversions"`);
    await queryRunner.query(`ALTER TABLE "rule_outcome_daily_stats" DROP COLUMN "recorded_converters"`);
  }
}
