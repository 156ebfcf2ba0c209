// The daily counters also count converters and conversions by the day they were recorded, whatever
// the cohort, so that a series reads outcome × day rows (MySQL 8 / MariaDB 10.11+). Filled from the
// counters stored.
import type { MigrationInterface, QueryRunner } from "typeorm";
import { backfillRecordedDayCounts } from "../backfill-recorded-day-counts";

export class RecordedDayCounts1764849600000 implements MigrationInterface {
  name = "RecordedDayCounts1764849600000";

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      "ALTER TABLE `rule_outcome_daily_stats` ADD `recorded_converters` int NOT NULL DEFAULT '0', ADD `recorded_conversions` int NOT NULL DEFAULT '0'",
    );
    await backfillRecordedDayCounts(queryRunner, "mysql");
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      "DELETE FROM `rule_outcome_daily_stats` WHERE `exposures` = 0 AND `converters` = 0 AND `conversions` = 0 AND `unattributed` = 0",
    );
    await queryRunner.query(
      "ALTER TABLE `rule_outcome_daily_stats` DROP COLUMN `recorded_conversions`, DROP COLUMN `recorded_converters`",
    );
  }
}
