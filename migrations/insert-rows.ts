// The backfills' multi-row INSERT, ROWS_PER_STATEMENT rows a statement (migrations only: it stays as
// the migrations that use it ran).
import type { QueryRunner } from "typeorm";

const ROWS_PER_STATEMENT = 500;

/** Inserts `rows` into `table`; `onConflict` (e.g. an upsert clause of the dialect) ends each statement. */
export async function insertRows(
  queryRunner: QueryRunner,
  table: string,
  columns: string[],
  rows: unknown[][],
  onConflict = "",
): Promise<void> {
  const placeholders = `(${columns.map(() => "?").join(", ")})`;
  for (let start = 0; start < rows.length; start += ROWS_PER_STATEMENT) {
    const chunk = rows.slice(start, start + ROWS_PER_STATEMENT);
    await queryRunner.query(
      `INSERT INTO ${table} (${columns.join(", ")}) VALUES ${chunk.map(() => placeholders).join(", ")} ${onConflict}`,
      chunk.flat(),
    );
  }
}
