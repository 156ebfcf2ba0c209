// Multi-row INSERT / upsert statements in the two dialects the service speaks (MySQL/MariaDB and
// SQLite), for the set-based writes TypeORM's query builder cannot express (conflict handling
// that adds to counters). Rows are chunked to stay under bind-parameter limits.
import { escape as mysqlEscape } from "mysql2";
import type { EntityManager } from "typeorm";

export type Dialect = "mysql" | "sqlite";

export function dialectOf(manager: EntityManager): Dialect {
  const type = manager.connection.options.type;
  return type === "mysql" || type === "mariadb" ? "mysql" : "sqlite";
}

const twoDigits = (n: number) => (n < 10 ? `0${n}` : `${n}`);
let lastTime = Number.NaN;
let lastText = "";

/**
 * A UTC timestamp as both databases store DATETIME(3), and as TypeORM writes it on SQLite:
 * "2031-05-06 07:08:09.123". Written once per row of every batch, so composed by hand (a third of
 * toISOString's cost) and the last one remembered (the rows of a request share their time).
 */
export function toDbTimestamp(date: Date): string {
  const time = date.getTime();
  if (time === lastTime) return lastText;
  const year = date.getUTCFullYear();
  const ms = date.getUTCMilliseconds();
  lastText =
    year >= 1000 && year <= 9999
      ? `${year}-${twoDigits(date.getUTCMonth() + 1)}-${twoDigits(date.getUTCDate())} ` +
        `${twoDigits(date.getUTCHours())}:${twoDigits(date.getUTCMinutes())}:${twoDigits(date.getUTCSeconds())}.` +
        `${ms < 10 ? "00" : ms < 100 ? "0" : ""}${ms}`
      : date.toISOString().replace("T", " ").replace("Z", "");
  lastTime = time;
  return lastText;
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
  await writeRows(manager, table, columns, rows, conflict);
}

/**
 * Whether an INSERT can hand back its rows (`INSERT ... RETURNING`: MariaDB 10.5 and later, as
 * TypeORM's driver reports it), saving the SELECT that would read them back.
 */
export function insertCanReturn(manager: EntityManager): boolean {
  return dialectOf(manager) === "mysql" && manager.connection.driver.isReturningSqlSupported("insert");
}

/**
 * insertRows() that answers `returning` of the rows it names: from the INSERT itself where the database can
 * (insertCanReturn(); on MariaDB a conflicting row comes back too, with its values after the update, its old
 * ones when nothing is updated), else by `readBack` once the rows are written.
 */
export async function insertRowsReturning<T>(
  manager: EntityManager,
  table: string,
  columns: string[],
  rows: unknown[][],
  conflict: UpsertOptions | undefined,
  returning: string[],
  readBack: () => Promise<T[]>,
): Promise<T[]> {
  if (rows.length === 0) return [];
  if (insertCanReturn(manager)) {
    return writeRows<T>(manager, table, columns, rows, conflict, ` RETURNING ${returning.join(", ")}`);
  }
  await writeRows(manager, table, columns, rows, conflict);
  return readBack();
}

async function writeRows<T>(
  manager: EntityManager,
  table: string,
  columns: string[],
  rows: unknown[][],
  conflict?: UpsertOptions,
  returning = "",
): Promise<T[]> {
  const results: T[] = [];
  if (rows.length === 0) return results;
  const dialect = dialectOf(manager);
  const rowsPerStatement = Math.max(1, Math.floor(MAX_PARAMETERS_PER_STATEMENT / columns.length));
  const placeholders = `(${columns.map(() => "?").join(", ")})`;
  const suffix = (conflict ? conflictClause(dialect, conflict) : "") + returning;
  const head = `INSERT INTO ${table} (${columns.join(", ")}) VALUES `;
  for (let start = 0; start < rows.length; start += rowsPerStatement) {
    const end = Math.min(rows.length, start + rowsPerStatement);
    let answer: unknown;
    if (dialect === "mysql") {
      // The values escaped by the driver's own escape() straight into the text: what mysql2's
      // format() makes of "?" placeholders, without scanning a statement of thousands of them.
      answer = await manager.query(`${head}${literalRows(rows, start, end)}${suffix}`);
    } else {
      const chunk = rows.slice(start, end);
      answer = await manager.query(`${head}${chunk.map(() => placeholders).join(", ")}${suffix}`, chunk.flat());
    }
    if (returning && Array.isArray(answer)) for (const row of answer) results.push(row as T);
  }
  return results;
}

/** Rows [start, end) as MySQL VALUES tuples: "(1, 'a', NULL), (2, 'b', NULL)". */
function literalRows(rows: unknown[][], start: number, end: number): string {
  let text = "";
  for (let r = start; r < end; r++) {
    const row = rows[r];
    text += r === start ? "(" : ", (";
    for (let c = 0; c < row.length; c++) text += (c === 0 ? "" : ", ") + literal(row[c]);
    text += ")";
  }
  return text;
}

/**
 * Statement text of this module's callers (never a client's) with each "?" replaced by its value as
 * a literal: for MySQL statements whose long value lists are written out the same way.
 */
function withLiterals(sql: string, values: unknown[]): string {
  const parts = sql.split("?");
  if (parts.length !== values.length + 1)
    throw new Error(`${parts.length - 1} placeholders for ${values.length} values`);
  let text = parts[0];
  for (let index = 0; index < values.length; index++) text += literal(values[index]) + parts[index + 1];
  return text;
}

/** One value as a MySQL literal. Only the kinds the writers bind: dates come as toDbTimestamp text. */
function literal(value: unknown): string {
  if (value === null || value === undefined) return "NULL";
  if (typeof value === "string") return mysqlEscape(value);
  if (typeof value === "number" && Number.isFinite(value)) return String(value);
  if (typeof value === "boolean") return value ? "1" : "0";
  throw new TypeError(`SQL values here are strings, finite numbers, booleans or null, not ${typeof value}`);
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
  const mysql = dialectOf(manager) === "mysql";
  for (let start = 0; start < values.length; start += MAX_PARAMETERS_PER_STATEMENT) {
    const chunk = values.slice(start, start + MAX_PARAMETERS_PER_STATEMENT);
    const rows = mysql
      ? await manager.query(`${withLiterals(sqlBeforeIn, leading)} IN (${chunk.map(literal).join(", ")})${sqlAfterIn}`)
      : await manager.query(`${sqlBeforeIn} IN (${chunk.map(() => "?").join(", ")})${sqlAfterIn}`, [
          ...leading,
          ...chunk,
        ]);
    for (const row of rows) results.push(row);
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
