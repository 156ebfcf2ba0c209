// Conversions reference their contact (a foreign key, enforced: TypeORM turns SQLite's
// foreign_keys pragma on), and are read by email through it, so their own (organisation_id, email,
// created_at) index goes. SQLite adds a constraint only by rebuilding the table.
import type { MigrationInterface, QueryRunner } from "typeorm";

const COLUMNS = `"id", "organisation_id", "contact_id", "email", "conversion_type", "conversion_data", "created_at"`;

export class ConversionsByContact1764936000000 implements MigrationInterface {
  name = "ConversionsByContact1764936000000";

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "idx_conversions_organisation_email_created"`);
    await rebuild(
      queryRunner,
      `, CONSTRAINT "fk_conversions_contact" FOREIGN KEY ("contact_id") REFERENCES "contacts" ("id") ON DELETE NO ACTION ON UPDATE NO ACTION`,
      // A conversion whose contact is gone would fail the constraint (none should be).
      ` WHERE "contact_id" IN (SELECT "id" FROM "contacts")`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await rebuild(queryRunner, "", "");
    await queryRunner.query(
      `CREATE INDEX "idx_conversions_organisation_email_created" ON "conversions" ("organisation_id", "email", "created_at")`,
    );
  }
}

/** The conversions table again, with `constraints` after its columns, keeping the rows `where` selects. */
async function rebuild(queryRunner: QueryRunner, constraints: string, where: string): Promise<void> {
  await queryRunner.query(`DROP INDEX "idx_conversions_organisation_created"`);
  await queryRunner.query(`DROP INDEX "idx_conversions_contact_created"`);
  await queryRunner.query(
    `CREATE TABLE "temporary_conversions" ("id" varchar(36) PRIMARY KEY NOT NULL, "organisation_id" varchar(36) NOT NULL, "contact_id" varchar(36) NOT NULL, "email" varchar(320) NOT NULL, "conversion_type" varchar(63), "conversion_data" json, "created_at" datetime(3) NOT NULL${constraints})`,
  );
  await queryRunner.query(
    `INSERT INTO "temporary_conversions" (${COLUMNS}) SELECT ${COLUMNS} FROM "conversions"${where}`,
  );
  await queryRunner.query(`DROP TABLE "conversions"`);
  await queryRunner.query(`ALTER TABLE "temporary_conversions" RENAME TO "conversions"`);
  await queryRunner.query(
    `CREATE INDEX "idx_conversions_organisation_created" ON "conversions" ("organisation_id", "created_at", "id")`,
  );
  await queryRunner.query(
    `CREATE INDEX "idx_conversions_contact_created" ON "conversions" ("contact_id", "created_at")`,
  );
}
