// Conversions are written and read through their contact (issue 10, the write path):
// - a foreign key to contacts: InnoDB checks the contact of each inserted conversion and share-locks
//   it, so the writer needs no locking lookup of its own (one statement and one round trip fewer
//   per batch) and an insert racing an erasure still waits for it and is refused;
// - the (organisation_id, email, created_at) index goes: reads by email go through contacts'
//   unique (organisation_id, email) to conversions' (contact_id, created_at) index, and every
//   stored event writes one B-tree fewer (about 15 % of the database's time per event).
import type { MigrationInterface, QueryRunner } from "typeorm";

export class ConversionsByContact1764936000000 implements MigrationInterface {
  name = "ConversionsByContact1764936000000";

  async up(queryRunner: QueryRunner): Promise<void> {
    // A conversion whose contact is gone (none should be: erasure deletes both in one transaction)
    // would make the constraint impossible to add.
    await queryRunner.query(
      "DELETE FROM `conversions` WHERE NOT EXISTS (SELECT 1 FROM `contacts` WHERE `contacts`.`id` = `conversions`.`contact_id`)",
    );
    await queryRunner.query(
      "ALTER TABLE `conversions` ADD CONSTRAINT `fk_conversions_contact` FOREIGN KEY (`contact_id`) REFERENCES `contacts`(`id`) ON DELETE NO ACTION ON UPDATE NO ACTION",
    );
    await queryRunner.query("DROP INDEX `idx_conversions_organisation_email_created` ON `conversions`");
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      "CREATE INDEX `idx_conversions_organisation_email_created` ON `conversions` (`organisation_id`, `email`, `created_at`)",
    );
    await queryRunner.query("ALTER TABLE `conversions` DROP FOREIGN KEY `fk_conversions_contact`");
  }
}
