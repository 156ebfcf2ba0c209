// Counters for the results as they stood on each day (converters and conversions by cohort day and
// conversion day) and for crossovers (visitors exposed to two or more outcomes of a rule), filled
// from the fact rows already stored (MySQL 8 / MariaDB 10.11+; ids compared byte for byte).
import type { MigrationInterface, QueryRunner } from "typeorm";
import { backfillSeriesAndCrossovers } from "../backfill-series-and-crossovers";
import { exactCollation } from "./1764244800000-ExactIdentifiers";

export class OutcomeSeriesAndCrossovers1764763200000 implements MigrationInterface {
  name = "OutcomeSeriesAndCrossovers1764763200000";

  async up(queryRunner: QueryRunner): Promise<void> {
    // Ids and types are identifiers: the server's binary NO PAD collation, like the other rule tables.
    const exact = `ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=${await exactCollation(queryRunner)}`;
    await queryRunner.query(
      `CREATE TABLE \`rule_outcome_conversion_days\` (\`counter_key\` varchar(64) NOT NULL, \`organisation_id\` varchar(36) NOT NULL, \`rule_id\` varchar(255) NOT NULL, \`outcome_id\` varchar(255) NOT NULL, \`conversion_type\` varchar(255) NOT NULL, \`cohort_day\` varchar(10) NOT NULL, \`conversion_day\` varchar(10) NOT NULL, \`converters\` int NOT NULL DEFAULT '0', \`conversions\` int NOT NULL DEFAULT '0', INDEX \`idx_rule_outcome_conversion_days_rule\` (\`organisation_id\`, \`rule_id\`, \`conversion_type\`, \`cohort_day\`), PRIMARY KEY (\`counter_key\`)) ${exact}`,
    );
    await queryRunner.query(
      `CREATE TABLE \`rule_visitor_outcomes\` (\`key_hash\` varchar(64) NOT NULL, \`organisation_id\` varchar(36) NOT NULL, \`rule_id\` varchar(255) NOT NULL, \`tracking_id\` varchar(128) NOT NULL, \`outcomes\` int NOT NULL DEFAULT '0', PRIMARY KEY (\`key_hash\`)) ${exact}`,
    );
    await queryRunner.query(
      `CREATE TABLE \`rule_crossovers\` (\`counter_key\` varchar(64) NOT NULL, \`organisation_id\` varchar(36) NOT NULL, \`rule_id\` varchar(255) NOT NULL, \`visitors\` int NOT NULL DEFAULT '0', PRIMARY KEY (\`counter_key\`)) ${exact}`,
    );
    await backfillSeriesAndCrossovers(queryRunner, "mysql");
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query("DROP TABLE `rule_crossovers`");
    await queryRunner.query("DROP TABLE `rule_visitor_outcomes`");
    await queryRunner.query("DROP TABLE `rule_outcome_conversion_days`");
  }
}
