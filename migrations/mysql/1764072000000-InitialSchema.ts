// Tenants, API keys, contacts and logged conversions (MySQL 8 / MariaDB 10.11+).
import type { MigrationInterface, QueryRunner } from "typeorm";

const tableOptions = "ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci";

export class InitialSchema1764072000000 implements MigrationInterface {
  name = "InitialSchema1764072000000";

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE TABLE \`organisations\` (\`id\` varchar(36) NOT NULL, \`name\` varchar(200) NOT NULL, \`created_at\` datetime(3) NOT NULL, PRIMARY KEY (\`id\`)) ${tableOptions}`,
    );
    await queryRunner.query(
      `CREATE TABLE \`api_keys\` (\`id\` varchar(36) NOT NULL, \`organisation_id\` varchar(36) NOT NULL, \`name\` varchar(200) NULL, \`prefix\` varchar(32) NOT NULL, \`key_hash\` varchar(64) NOT NULL, \`created_at\` datetime(3) NOT NULL, \`revoked_at\` datetime(3) NULL, INDEX \`idx_api_keys_organisation\` (\`organisation_id\`), UNIQUE INDEX \`uq_api_keys_prefix\` (\`prefix\`), PRIMARY KEY (\`id\`)) ${tableOptions}`,
    );
    await queryRunner.query(
      `CREATE TABLE \`contacts\` (\`id\` varchar(36) NOT NULL, \`organisation_id\` varchar(36) NOT NULL, \`email\` varchar(320) NOT NULL, \`created_at\` datetime(3) NOT NULL, UNIQUE INDEX \`uq_contacts_organisation_email\` (\`organisation_id\`, \`email\`), PRIMARY KEY (\`id\`)) ${tableOptions}`,
    );
    await queryRunner.query(
      `CREATE TABLE \`conversions\` (\`id\` varchar(36) NOT NULL, \`organisation_id\` varchar(36) NOT NULL, \`contact_id\` varchar(36) NOT NULL, \`email\` varchar(320) NOT NULL, \`conversion_type\` varchar(63) NULL, \`conversion_data\` json NULL, \`created_at\` datetime(3) NOT NULL, INDEX \`idx_conversions_contact_created\` (\`contact_id\`, \`created_at\`), INDEX \`idx_conversions_organisation_email_created\` (\`organisation_id\`, \`email\`, \`created_at\`), INDEX \`idx_conversions_organisation_created\` (\`organisation_id\`, \`created_at\`, \`id\`), PRIMARY KEY (\`id\`)) ${tableOptions}`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query("DROP TABLE `conversions`");
    await queryRunner.query("DROP TABLE `contacts`");
    await queryRunner.query("DROP TABLE `api_keys`");
    await queryRunner.query("DROP TABLE `organisations`");
  }
}
