// Used Idempotency-Keys, each stored with the event it guards (see src/idempotency/).
import type { MigrationInterface, QueryRunner } from "typeorm";
import { exactCollation } from "./1764244800000-ExactIdentifiers";

export class IdempotencyKeys1764676800000 implements MigrationInterface {
  name = "IdempotencyKeys1764676800000";

  async up(queryRunner: QueryRunner): Promise<void> {
    // Keys and scopes (tracking ids) are identifiers: compared byte for byte, like the others.
    const collation = await exactCollation(queryRunner);
    await queryRunner.query(
      "CREATE TABLE `idempotency_keys` (`organisation_id` varchar(36) NOT NULL, `scope` varchar(128) NOT NULL, `idempotency_key` varchar(255) NOT NULL, `fingerprint` varchar(64) NOT NULL, `response` text NOT NULL, `created_at` datetime(3) NOT NULL, `batch_id` varchar(36) NOT NULL, INDEX `idx_idempotency_keys_created` (`created_at`), INDEX `idx_idempotency_keys_batch` (`batch_id`), PRIMARY KEY (`organisation_id`, `scope`, `idempotency_key`)) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=" +
        collation,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query("DROP TABLE `idempotency_keys`");
  }
}
