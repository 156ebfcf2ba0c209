// Multi-row INSERT / upsert statements in the two dialects the service speaks (MySQL/MariaDB and
// SQLite), for the set-based writes TypeORM's query builder cannot express (conflict handling
// that adds to counters). Rows are chunked to stay under bind-parameter limits.
import type { EntityManager } from "typeorm";

export type Dialect = "mysql" | "sqlite";

export function dialectOf(manager: EntityManager): Dialect {
  const type = manager.connection.options.type;
  return type === "mysql" || type === "mariadb" ? "mysql" : "sqlite";
}

/** A UTC timestamp as both databases store DATETIME(3), and as TypeORM writes it on SQLite. */
export function toDbTimestamp(date: Date): string {
  return date.toISOString().replace("T", " ").replace("Z", "");
}

/** Reads a DATETIME back: mysql2 gives a Date (timezone Z), SQLite the stored text. */
export function fromDbTimestamp(value: unknown): Date {
  if (value instanceof Date) return value;
  return new Date(`${String(value).replace(" ", "T")}Z`);
}

export type ConflictUpdate = "add" | "max";

export interface UpsertOptions {
  /** The unique key the conflict is detected on. */
  conflictKey: string[];
  /** Columns updated on conflict and how; none: the existing row is kept unchanged. */
  updates?: Record<string, ConflictUpdate>;
}

const MAX_PARAMETERS_PER_STATEMENT = 8_000;

export async function insertRows(
  manager: EntityManager,
  table: string,
  columns: string[],
  rows: unknown[][],
  conflict?: UpsertOptions,
): Promise<void> {
  if (rows.length === 0) return;
  const dialect = dialectOf(manager);
  const rowsPerStatement = Math.max(1, Math.floor(MAX_PARAMETERS_PER_STATEMENT / columns.length));
  const placeholders = `(${columns.map(() => "?").join(", ")})`;
  const suffix = conflict ? conflictClause(dialect, conflict) : "";
  for (let start = 0; start < rows.length; start += rowsPerStatement) {
    const chunk = rows.slice(start, start + rowsPerStatement);
    const sql = `INSERT INTO ${table} (${columns.join(", ")}) VALUES ${chunk.map(() => placeholders).join(", ")}${suffix}`;
    await manager.query(sql, chunk.flat());
  }
}

function conflictClause(dialect: Dialect, { conflictKey, updates = {} }: UpsertOptions): string {
  const entries = Object.entries(updates);
  if (dialect === "mysql") {
    // Updating a key column to itself is MySQL's precise "ignore duplicates" (INSERT IGNORE would
    // also swallow unrelated errors).
    if (entries.length === 0) return ` ON DUPLICATE KEY UPDATE ${conflictKey[0]} = ${conflictKey[0]}`;
    const sets = entries.map(([column, how]) =>
      how === "add"
        ? `${column} = ${column} + VALUES(${column})`
        : `${column} = GREATEST(${column}, VALUES(${column}))`,
    );
    return ` ON DUPLICATE KEY UPDATE ${sets.join(", ")}`;
  }
  if (entries.length === 0) return ` ON CONFLICT (${conflictKey.join(", ")}) DO NOTHING`;
  const sets = entries.map(([column, how]) =>
    how === "add" ? `${column} = ${column} + excluded.${column}` : `${column} = MAX(${column}, excluded.${column})`,
  );
  return ` ON CONFLICT (${conflictKey.join(", ")}) DO UPDATE SET ${sets.join(", ")}`;
}

/**
 * SELECT ... WHERE column IN (...) over many values, chunked; `leading` binds the placeholders
 * before the IN list, `sqlAfterIn` follows it (e.g. a locking clause).
 */
export async function selectWhereIn<T>(
  manager: EntityManager,
  sqlBeforeIn: string,
  values: unknown[],
  leading: unknown[] = [],
  sqlAfterIn = "",
): Promise<T[]> {
  const results: T[] = [];
  for (let start = 0; start < values.length; start += MAX_PARAMETERS_PER_STATEMENT) {
    const chunk = values.slice(start, start + MAX_PARAMETERS_PER_STATEMENT);
    const sql = `${sqlBeforeIn} IN (${chunk.map(() => "?").join(", ")})${sqlAfterIn}`;
    results.push(...(await manager.query(sql, [...leading, ...chunk])));
  }
  return results;
}

/**
 * DELETE FROM table WHERE column IN (...) [AND condition] over many values, chunked;
 * `conditionParameters` bind the condition's placeholders.
 */
export async function deleteWhereIn(
  manager: EntityManager,
  table: string,
  column: string,
  values: unknown[],
  condition?: string,
  conditionParameters: unknown[] = [],
): Promise<void> {
  for (let start = 0; start < values.length; start += MAX_PARAMETERS_PER_STATEMENT) {
    const chunk = values.slice(start, start + MAX_PARAMETERS_PER_STATEMENT);
    const where = `${column} IN (${chunk.map(() => "?").join(", ")})${condition ? ` AND ${condition}` : ""}`;
    await manager.query(`DELETE FROM ${table} WHERE ${where}`, [...chunk, ...conditionParameters]);
  }
}
