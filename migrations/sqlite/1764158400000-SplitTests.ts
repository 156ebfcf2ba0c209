// Sites (public tenancy) and the split-test tables (SQLite).
import type { MigrationInterface, QueryRunner } from "typeorm";

export class SplitTests1764158400000 implements MigrationInterface {
  name = "SplitTests1764158400000";

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE TABLE "sites" ("host" varchar(253) PRIMARY KEY NOT NULL, "organisation_id" varchar(36) NOT NULL, "created_at" datetime(3) NOT NULL)`,
    );
    await queryRunner.query(`CREATE INDEX "idx_sites_organisation" ON "sites" ("organisation_id")`);
    await queryRunner.query(
      `CREATE TABLE "rule_outcomes" ("organisation_id" varchar(36) NOT NULL, "rule_id" varchar(255) NOT NULL, "outcome_id" varchar(255) NOT NULL, "exposures" integer NOT NULL DEFAULT (0), "first_seen_at" datetime(3) NOT NULL, "last_activity_at" datetime(3) NOT NULL, PRIMARY KEY ("organisation_id", "rule_id", "outcome_id"))`,
    );
    await queryRunner.query(
      `CREATE TABLE "rule_exposures" ("key_hash" varchar(64) PRIMARY KEY NOT NULL, "organisation_id" varchar(36) NOT NULL, "rule_id" varchar(255) NOT NULL, "outcome_id" varchar(255) NOT NULL, "tracking_id" varchar(128) NOT NULL, "user_id" varchar(255), "exposed_at" datetime(3) NOT NULL, "day" varchar(10) NOT NULL, "batch_id" varchar(36) NOT NULL)`,
    );
    await queryRunner.query(`CREATE INDEX "idx_rule_exposures_batch" ON "rule_exposures" ("batch_id")`);
    await queryRunner.query(
      `CREATE TABLE "rule_converters" ("key_hash" varchar(64) PRIMARY KEY NOT NULL, "organisation_id" varchar(36) NOT NULL, "rule_id" varchar(255) NOT NULL, "outcome_id" varchar(255) NOT NULL, "conversion_type" varchar(255) NOT NULL, "cohort_day" varchar(10) NOT NULL, "converted_at" datetime(3) NOT NULL, "batch_id" varchar(36) NOT NULL)`,
    );
    await queryRunner.query(`CREATE INDEX "idx_rule_converters_batch" ON "rule_converters" ("batch_id")`);
    await queryRunner.query(
      `CREATE TABLE "rule_conversion_events" ("id" varchar(36) PRIMARY KEY NOT NULL, "organisation_id" varchar(36) NOT NULL, "rule_id" varchar(255) NOT NULL, "outcome_id" varchar(255) NOT NULL, "tracking_id" varchar(128) NOT NULL, "user_id" varchar(255), "conversion" varchar(255) NOT NULL, "created_at" datetime(3) NOT NULL, "attributed" boolean NOT NULL, "cohort_day" varchar(10))`,
    );
    await queryRunner.query(
      `CREATE INDEX "idx_rule_conversion_events_rule_created" ON "rule_conversion_events" ("organisation_id", "rule_id", "created_at")`,
    );
    await queryRunner.query(
      `CREATE TABLE "rule_outcome_daily_stats" ("counter_key" varchar(64) PRIMARY KEY NOT NULL, "organisation_id" varchar(36) NOT NULL, "rule_id" varchar(255) NOT NULL, "outcome_id" varchar(255) NOT NULL, "conversion_type" varchar(255) NOT NULL, "day" varchar(10) NOT NULL, "exposures" integer NOT NULL DEFAULT (0), "converters" integer NOT NULL DEFAULT (0), "conversions" integer NOT NULL DEFAULT (0), "unattributed" integer NOT NULL DEFAULT (0))`,
    );
    await queryRunner.query(
      `CREATE INDEX "idx_rule_outcome_daily_stats_rule" ON "rule_outcome_daily_stats" ("organisation_id", "rule_id", "conversion_type", "day")`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    for (const table of [
      "rule_outcome_daily_stats",
      "rule_conversion_events",
      "rule_converters",
      "rule_exposures",
      "rule_outcomes",
      "sites",
    ]) {
      await queryRunner.query(`DROP TABLE "${table}"`);
    }
  }
}
