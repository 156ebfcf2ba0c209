// Used Idempotency-Keys, each stored with the event it guards (see src/idempotency/).
import type { MigrationInterface, QueryRunner } from "typeorm";

export class IdempotencyKeys1764676800000 implements MigrationInterface {
  name = "IdempotencyKeys1764676800000";

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE TABLE "idempotency_keys" ("organisation_id" varchar(36) NOT NULL, "scope" varchar(128) NOT NULL, "idempotency_key" varchar(255) NOT NULL, "fingerprint" varchar(64) NOT NULL, "response" text NOT NULL, "created_at" datetime(3) NOT NULL, "batch_id" varchar(36) NOT NULL, PRIMARY KEY ("organisation_id", "scope", "idempotency_key"))`,
    );
    await queryRunner.query(`CREATE INDEX "idx_idempotency_keys_created" ON "idempotency_keys" ("created_at")`);
    await queryRunner.query(`CREATE INDEX "idx_idempotency_keys_batch" ON "idempotency_keys" ("batch_id")`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE "idempotency_keys"`);
  }
}
