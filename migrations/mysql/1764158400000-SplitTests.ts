// Sites (public tenancy) and the split-test tables (MySQL 8 / MariaDB 10.11+). Rule, outcome,
// conversion and tracking ids are compared byte for byte (utf8mb4_bin), as on SQLite.
import type { MigrationInterface, QueryRunner } from "typeorm";

const caseInsensitive = "ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci";
const exact = "ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin";

export class SplitTests1764158400000 implements MigrationInterface {
  name = "SplitTests1764158400000";

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE TABLE \`sites\` (\`host\` varchar(253) NOT NULL, \`organisation_id\` varchar(36) NOT NULL, \`created_at\` datetime(3) NOT NULL, INDEX \`idx_sites_organisation\` (\`organisation_id\`), PRIMARY KEY (\`host\`)) ${caseInsensitive}`,
    );
    await queryRunner.query(
      `CREATE TABLE \`rule_outcomes\` (\`organisation_id\` varchar(36) NOT NULL, \`rule_id\` varchar(255) NOT NULL, \`outcome_id\` varchar(255) NOT NULL, \`exposures\` int NOT NULL DEFAULT '0', \`first_seen_at\` datetime(3) NOT NULL, \`last_activity_at\` datetime(3) NOT NULL, PRIMARY KEY (\`organisation_id\`, \`rule_id\`, \`outcome_id\`)) ${exact}`,
    );
    await queryRunner.query(
      `CREATE TABLE \`rule_exposures\` (\`key_hash\` varchar(64) NOT NULL, \`organisation_id\` varchar(36) NOT NULL, \`rule_id\` varchar(255) NOT NULL, \`outcome_id\` varchar(255) NOT NULL, \`tracking_id\` varchar(128) NOT NULL, \`user_id\` varchar(255) NULL, \`exposed_at\` datetime(3) NOT NULL, \`day\` varchar(10) NOT NULL, \`batch_id\` varchar(36) NOT NULL, INDEX \`idx_rule_exposures_batch\` (\`batch_id\`), PRIMARY KEY (\`key_hash\`)) ${exact}`,
    );
    await queryRunner.query(
      `CREATE TABLE \`rule_converters\` (\`key_hash\` varchar(64) NOT NULL, \`organisation_id\` varchar(36) NOT NULL, \`rule_id\` varchar(255) NOT NULL, \`outcome_id\` varchar(255) NOT NULL, \`conversion_type\` varchar(255) NOT NULL, \`cohort_day\` varchar(10) NOT NULL, \`converted_at\` datetime(3) NOT NULL, \`batch_id\` varchar(36) NOT NULL, INDEX \`idx_rule_converters_batch\` (\`batch_id\`), PRIMARY KEY (\`key_hash\`)) ${exact}`,
    );
    await queryRunner.query(
      `CREATE TABLE \`rule_conversion_events\` (\`id\` varchar(36) NOT NULL, \`organisation_id\` varchar(36) NOT NULL, \`rule_id\` varchar(255) NOT NULL, \`outcome_id\` varchar(255) NOT NULL, \`tracking_id\` varchar(128) NOT NULL, \`user_id\` varchar(255) NULL, \`conversion\` varchar(255) NOT NULL, \`created_at\` datetime(3) NOT NULL, \`attributed\` tinyint NOT NULL, \`cohort_day\` varchar(10) NULL, INDEX \`idx_rule_conversion_events_rule_created\` (\`organisation_id\`, \`rule_id\`, \`created_at\`), PRIMARY KEY (\`id\`)) ${exact}`,
    );
    await queryRunner.query(
      `CREATE TABLE \`rule_outcome_daily_stats\` (\`counter_key\` varchar(64) NOT NULL, \`organisation_id\` varchar(36) NOT NULL, \`rule_id\` varchar(255) NOT NULL, \`outcome_id\` varchar(255) NOT NULL, \`conversion_type\` varchar(255) NOT NULL, \`day\` varchar(10) NOT NULL, \`exposures\` int NOT NULL DEFAULT '0', \`converters\` int NOT NULL DEFAULT '0', \`conversions\` int NOT NULL DEFAULT '0', \`unattributed\` int NOT NULL DEFAULT '0', INDEX \`idx_rule_outcome_daily_stats_rule\` (\`organisation_id\`, \`rule_id\`, \`conversion_type\`, \`day\`), PRIMARY KEY (\`counter_key\`)) ${exact}`,
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
      await queryRunner.query(`DROP TABLE \`${table}\``);
    }
  }
}
