// Identifiers compared byte for byte, trailing spaces included (MySQL 8 / MariaDB 10.11+):
// emails, API key prefixes and hashes, conversion types, and every text column of the split-test
// tables (rule, outcome and tracking ids, conversion types, user ids) move to the server's binary
// NO PAD collation: utf8mb4_nopad_bin on MariaDB, utf8mb4_0900_bin on MySQL 8. (utf8mb4_bin, used
// until now by the split-test tables, still treats "purchase " as "purchase".)
//
// No existing rows can collide: equality under the new collation is byte equality, which is finer
// than under the old ones (utf8mb4_unicode_ci, utf8mb4_bin with PAD SPACE), so values that were
// distinct stay distinct and every unique key that held still holds. Rows only stop matching each
// other ("Purchase" and "purchase", "josé" and "jose"). The reverse direction can merge rows, so
// down() refuses when a unique key would collide.
import type { MigrationInterface, QueryRunner } from "typeorm";

/** Columns of the first tables that hold identifiers; their other columns keep utf8mb4_unicode_ci. */
const IDENTIFIER_COLUMNS: Record<string, string[]> = {
  api_keys: [
    "`prefix` varchar(32) CHARACTER SET utf8mb4 COLLATE {} NOT NULL",
    "`key_hash` varchar(64) CHARACTER SET utf8mb4 COLLATE {} NOT NULL",
  ],
  contacts: ["`email` varchar(320) CHARACTER SET utf8mb4 COLLATE {} NOT NULL"],
  conversions: [
    "`email` varchar(320) CHARACTER SET utf8mb4 COLLATE {} NOT NULL",
    "`conversion_type` varchar(63) CHARACTER SET utf8mb4 COLLATE {} NULL",
  ],
};

/** Tables made only of identifiers and keys: converted whole, so columns added later are exact too. */
const SPLIT_TEST_TABLES = [
  "rule_outcomes",
  "rule_exposures",
  "rule_converters",
  "rule_conversion_events",
  "rule_outcome_daily_stats",
];

/** Unique keys over converted columns, checked before down() makes them coarser again. */
const UNIQUE_KEYS: { table: string; columns: string[]; collation: string }[] = [
  { table: "api_keys", columns: ["prefix"], collation: "utf8mb4_unicode_ci" },
  { table: "contacts", columns: ["organisation_id", "email"], collation: "utf8mb4_unicode_ci" },
  { table: "rule_outcomes", columns: ["organisation_id", "rule_id", "outcome_id"], collation: "utf8mb4_bin" },
];

/** The server's binary NO PAD collation; one line naming the server when it has none. */
export async function exactCollation(queryRunner: QueryRunner): Promise<string> {
  const [{ version }] = (await queryRunner.query("SELECT VERSION() AS version")) as { version: string }[];
  const wanted = /mariadb/i.test(version) ? "utf8mb4_nopad_bin" : "utf8mb4_0900_bin";
  const found = await queryRunner.query("SHOW COLLATION WHERE `Collation` = ?", [wanted]);
  if (found.length === 0) {
    throw new Error(
      `this server (${version}) has no ${wanted} collation, needed to compare identifiers exactly: use MySQL 8.0+ or MariaDB 10.11+`,
    );
  }
  return wanted;
}

export class ExactIdentifiers1764244800000 implements MigrationInterface {
  name = "ExactIdentifiers1764244800000";

  async up(queryRunner: QueryRunner): Promise<void> {
    const collation = await exactCollation(queryRunner);
    for (const [table, columns] of Object.entries(IDENTIFIER_COLUMNS)) {
      const changes = columns.map((column) => `MODIFY ${column.replaceAll("{}", collation)}`).join(", ");
      await queryRunner.query(`ALTER TABLE \`${table}\` ${changes}`);
    }
    for (const table of SPLIT_TEST_TABLES) {
      await queryRunner.query(`ALTER TABLE \`${table}\` CONVERT TO CHARACTER SET utf8mb4 COLLATE ${collation}`);
    }
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    for (const { table, columns, collation } of UNIQUE_KEYS) {
      const key = columns.map((column) => `\`${column}\` COLLATE ${collation}`).join(", ");
      const [{ n }] = await queryRunner.query(
        `SELECT COUNT(*) AS n FROM (SELECT 1 FROM \`${table}\` GROUP BY ${key} HAVING COUNT(*) > 1) collisions`,
      );
      if (Number(n) > 0) {
        throw new Error(
          `cannot undo ExactIdentifiers: ${n} value(s) of ${table} (${columns.join(", ")}) would collide under ${collation}`,
        );
      }
    }
    for (const table of SPLIT_TEST_TABLES) {
      await queryRunner.query(`ALTER TABLE \`${table}\` CONVERT TO CHARACTER SET utf8mb4 COLLATE utf8mb4_bin`);
    }
    for (const [table, columns] of Object.entries(IDENTIFIER_COLUMNS)) {
      const changes = columns.map((column) => `MODIFY ${column.replaceAll("{}", "utf8mb4_unicode_ci")}`).join(", ");
      await queryRunner.query(`ALTER TABLE \`${table}\` ${changes}`);
    }
  }
}
