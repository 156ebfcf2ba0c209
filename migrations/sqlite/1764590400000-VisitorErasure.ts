// Indexes that find one visitor's split-test rows, so erasing a visitor reads only their rows.
import type { MigrationInterface, QueryRunner } from "typeorm";

export class VisitorErasure1764590400000 implements MigrationInterface {
  name = "VisitorErasure1764590400000";

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE INDEX "idx_rule_exposures_visitor" ON "rule_exposures" ("organisation_id", "tracking_id")`,
    );
    await queryRunner.query(
      `CREATE INDEX "idx_rule_conversion_events_visitor" ON "rule_conversion_events" ("organisation_id", "tracking_id")`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "idx_rule_conversion_events_visitor"`);
    await queryRunner.query(`DROP INDEX "idx_rule_exposures_visitor"`);
  }
}
