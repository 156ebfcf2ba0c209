// Tenants, API keys, contacts and logged conversions (SQLite).
import type { MigrationInterface, QueryRunner } from "typeorm";

export class InitialSchema1764072000000 implements MigrationInterface {
  name = "InitialSchema1764072000000";

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE TABLE "organisations" ("id" varchar(36) PRIMARY KEY NOT NULL, "name" varchar(200) NOT NULL, "created_at" datetime(3) NOT NULL)`,
    );
    await queryRunner.query(
      `CREATE TABLE "api_keys" ("id" varchar(36) PRIMARY KEY NOT NULL, "organisation_id" varchar(36) NOT NULL, "name" varchar(200), "prefix" varchar(32) NOT NULL, "key_hash" varchar(64) NOT NULL, "created_at" datetime(3) NOT NULL, "revoked_at" datetime(3))`,
    );
    await queryRunner.query(`CREATE INDEX "idx_api_keys_organisation" ON "api_keys" ("organisation_id")`);
    await queryRunner.query(`CREATE UNIQUE INDEX "uq_api_keys_prefix" ON "api_keys" ("prefix")`);
    await queryRunner.query(
      `CREATE TABLE "contacts" ("id" varchar(36) PRIMARY KEY NOT NULL, "organisation_id" varchar(36) NOT NULL, "email" varchar(320) NOT NULL, "created_at" datetime(3) NOT NULL)`,
    );
    await queryRunner.query(
      `CREATE UNIQUE INDEX "uq_contacts_organisation_email" ON "contacts" ("organisation_id", "email")`,
    );
    await queryRunner.query(
      `CREATE TABLE "conversions" ("id" varchar(36) PRIMARY KEY NOT NULL, "organisation_id" varchar(36) NOT NULL, "contact_id" varchar(36) NOT NULL, "email" varchar(320) NOT NULL, "conversion_type" varchar(63), "conversion_data" json, "created_at" datetime(3) NOT NULL)`,
    );
    await queryRunner.query(
      `CREATE INDEX "idx_conversions_contact_created" ON "conversions" ("contact_id", "created_at")`,
    );
    await queryRunner.query(
      `CREATE INDEX "idx_conversions_organisation_email_created" ON "conversions" ("organisation_id", "email", "created_at")`,
    );
    await queryRunner.query(
      `CREATE INDEX "idx_conversions_organisation_created" ON "conversions" ("organisation_id", "created_at", "id")`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE "conversions"`);
    await queryRunner.query(`DROP TABLE "contacts"`);
    await queryRunner.query(`DROP TABLE "api_keys"`);
    await queryRunner.query(`DROP TABLE "organisations"`);
  }
}
