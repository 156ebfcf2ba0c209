// Counters for the results as they stood on each day (converters and conversions by cohort day and
// conversion day) and for crossovers (visitors exposed to two or more outcomes of a rule), filled
// from the fact rows already stored (SQLite).
import type { MigrationInterface, QueryRunner } from "typeorm";
import { backfillSeriesAndCrossovers } from "../backfill-series-and-crossovers";

export class OutcomeSeriesAndCrossovers1764763200000 implements MigrationInterface {
  name = "OutcomeSeriesAndCrossovers1764763200000";

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE TABLE "rule_outcome_conversion_days" ("counter_key" varchar(64) PRIMARY KEY NOT NULL, "organisation_id" varchar(36) NOT NULL, "rule_id" varchar(255) NOT NULL, "outcome_id" varchar(255) NOT NULL, "conversion_type" varchar(255) NOT NULL, "cohort_day" varchar(10) NOT NULL, "conversion_day" varchar(10) NOT NULL, "converters" integer NOT NULL DEFAULT (0), "conversions" integer NOT NULL DEFAULT (0))`,
    );
    await queryRunner.query(
      `CREATE INDEX "idx_rule_outcome_conversion_days_rule" ON "rule_outcome_conversion_days" ("organisation_id", "rule_id", "conversion_type", "cohort_day")`,
    );
    await queryRunner.query(
      `CREATE TABLE "rule_visitor_outcomes" ("key_hash" varchar(64) PRIMARY KEY NOT NULL, "organisation_id" varchar(36) NOT NULL, "rule_id" varchar(255) NOT NULL, "tracking_id" varchar(128) NOT NULL, "outcomes" integer NOT NULL DEFAULT (0))`,
    );
    await queryRunner.query(
      `CREATE TABLE "rule_crossovers" ("counter_key" varchar(64) PRIMARY KEY NOT NULL, "organisation_id" varchar(36) NOT NULL, "rule_id" varchar(255) NOT NULL, "visitors" integer NOT NULL DEFAULT (0))`,
    );
    await backfillSeriesAndCrossovers(queryRunner, "sqlite");
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE "rule_crossovers"`);
    await queryRunner.query(`DROP TABLE "rule_visitor_outcomes"`);
    await queryRunner.query(`DROP TABLE "rule_outcome_conversion_days"`);
  }
}
