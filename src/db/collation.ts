// Identifiers (emails after normalisation, rule, outcome and tracking ids, conversion types, user
// ids, API key prefixes) are compared byte for byte, trailing spaces included, on every database.
// SQLite's default BINARY collation does that already. MySQL and MariaDB need a binary NO PAD
// collation on each such column: utf8mb4_unicode_ci merges "jose" and "josé", "Purchase" and
// "purchase", and utf8mb4_bin still treats "purchase " as "purchase".
import type { DataSource } from "typeorm";

/** What an entity column comparing exactly declares: MariaDB's name of the collation. */
export const EXACT_COLLATION = "utf8mb4_nopad_bin";

/** The exact collation as each database names it; SQLite has none to name (its default is exact). */
export const EXACT_COLLATION_BY_KIND = {
  sqlite: undefined,
  mariadb: EXACT_COLLATION,
  mysql: "utf8mb4_0900_bin",
} as const;

/**
 * Gives the entity columns declaring EXACT_COLLATION the name this database knows, so the
 * metadata says what the migrations created (the schema builder, and test/db, read it).
 */
export function nameExactCollation(dataSource: DataSource, kind: keyof typeof EXACT_COLLATION_BY_KIND): void {
  for (const entity of dataSource.entityMetadatas) {
    for (const column of entity.columns) {
      if (column.collation === EXACT_COLLATION) column.collation = EXACT_COLLATION_BY_KIND[kind];
    }
  }
}
