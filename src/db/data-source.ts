// The TypeORM data source: the embedded SQLite file by default, MySQL 8 / MariaDB when DATABASE_URL
// says so. The same entities serve both; the schema comes only from the reviewed migrations.
// The entities themselves come from the composition root: this layer knows no domain.
import { mkdirSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { createConnection } from "mysql2/promise";
import { DataSource, type DataSourceOptions } from "typeorm";
import { mysqlMigrations } from "../../migrations/mysql";
import { sqliteMigrations } from "../../migrations/sqlite";
import { nameExactCollation } from "./collation";

export type DatabaseKind = "sqlite" | "mysql" | "mariadb";

/** The database cannot be used; the message is one line fit for an operator. */
export class DatabaseUnavailable extends Error {}

export interface DatabaseTarget {
  kind: DatabaseKind;
  options: DataSourceOptions;
  /** For logs: where the data lives, without credentials. */
  description: string;
}

export interface DatabaseSettings {
  DATABASE_URL?: string;
  SQLITE_PATH: string;
  /** Bounds connecting (MySQL) and waiting for a locked file (SQLite); see DatabaseDeadline. */
  DB_UNAVAILABLE_TIMEOUT_MS?: number;
}

const DEFAULT_UNAVAILABLE_TIMEOUT_MS = 5_000;

export async function resolveDatabaseTarget(settings: DatabaseSettings): Promise<DatabaseTarget> {
  const url = settings.DATABASE_URL?.trim();
  const timeoutMs = settings.DB_UNAVAILABLE_TIMEOUT_MS ?? DEFAULT_UNAVAILABLE_TIMEOUT_MS;
  if (!url) return sqliteTarget(settings.SQLITE_PATH, timeoutMs);
  if (url.startsWith("sqlite:")) return sqliteTarget(url.slice("sqlite:".length).replace(/^\/\//, ""), timeoutMs);
  if (/^(mysql|mariadb):\/\//.test(url)) return mysqlTarget(url, timeoutMs);
  throw new DatabaseUnavailable("DATABASE_URL must start with mysql://, mariadb:// or sqlite:");
}

function sqliteTarget(path: string, timeoutMs: number): DatabaseTarget {
  const inMemory = path === ":memory:";
  const database = inMemory ? path : resolve(path);
  if (!inMemory) mkdirSync(dirname(database), { recursive: true });
  return {
    kind: "sqlite",
    description: `sqlite ${database}`,
    options: {
      type: "better-sqlite3",
      database,
      migrations: sqliteMigrations,
      migrationsTransactionMode: "each",
      enableWAL: !inMemory,
      // Admin commands and the server may share the file: wait for a lock instead of failing. The
      // wait blocks the process (better-sqlite3 is synchronous), so it is short, a twentieth of a
      // request's budget at most: the writer retries within the budget, then answers 503.
      prepareDatabase: (db: { pragma: (sql: string) => unknown }) => {
        db.pragma(`busy_timeout = ${Math.min(250, Math.max(10, Math.floor(timeoutMs / 20)))}`);
      },
    },
  };
}

async function mysqlTarget(url: string, timeoutMs: number): Promise<DatabaseTarget> {
  const parsed = new URL(url);
  const where = `${parsed.hostname}:${parsed.port || 3306}${parsed.pathname}`;
  if (parsed.pathname.length <= 1) throw new DatabaseUnavailable(`DATABASE_URL names no database (${where})`);
  const mysqlUrl = url.replace(/^mariadb:/, "mysql:");
  // Ask the server what it is: TypeORM's "mariadb" and "mysql" drivers differ in how they read
  // the schema back, and the wrong one reports phantom schema changes.
  let version: string;
  try {
    const probe = await createConnection({ uri: mysqlUrl, connectTimeout: 10_000 });
    try {
      const [rows] = await probe.query("SELECT VERSION() AS version");
      version = String((rows as { version: string }[])[0]?.version ?? "");
    } finally {
      await probe.end();
    }
  } catch (error) {
    throw new DatabaseUnavailable(describeMysqlError(error, where));
  }
  const kind: DatabaseKind = /mariadb/i.test(version) ? "mariadb" : "mysql";
  return {
    kind,
    description: `${kind} ${version} at ${where}`,
    options: {
      type: kind,
      url: mysqlUrl,
      migrations: mysqlMigrations,
      migrationsTransactionMode: "each",
      timezone: "Z",
      charset: "utf8mb4_unicode_ci",
      extra: {
        connectionLimit: 20,
        // mysql2 captures a stack trace for every query by default (`trace`): a few percent of the
        // ingest path's CPU for call sites no log shows.
        trace: false,
        // A paused server accepts TCP but never greets: give up on a new connection within the
        // request's budget (mysql2's default is 10 s).
        connectTimeout: timeoutMs,
        // Waiters for a connection are bounded: past them a request fails at once (503) instead of
        // queueing behind connections stuck on a database that does not answer.
        queueLimit: 200,
        // Idle connections are probed and dropped, so few stale ones remain after a restart.
        enableKeepAlive: true,
        keepAliveInitialDelay: 10_000,
        maxIdle: 10,
        idleTimeout: 60_000,
      },
    },
  };
}

function describeMysqlError(error: unknown, where: string): string {
  const e = error as { code?: string; errno?: number; message?: string };
  switch (e.code) {
    case "ER_BAD_DB_ERROR":
      return `Database does not exist at ${where}: create it first (the service creates only its own tables)`;
    case "ER_ACCESS_DENIED_ERROR":
    case "ER_DBACCESS_DENIED_ERROR":
    case "ER_ACCESS_DENIED_NO_PASSWORD_ERROR":
      return `Access denied to ${where}: check the user and password in DATABASE_URL`;
    case "ECONNREFUSED":
      return `Cannot connect to ${where}: connection refused (is the server running?)`;
    case "ENOTFOUND":
    case "EAI_AGAIN":
      return `Cannot resolve the database host of ${where}`;
    case "ETIMEDOUT":
      return `Cannot connect to ${where}: timed out`;
    default:
      return `Cannot use the database at ${where}: ${e.code ?? e.message ?? "unknown error"}`;
  }
}

/** The entity classes the data source maps (none for a connection that only migrates). */
export type EntityList = NonNullable<DataSourceOptions["entities"]>;

/** Connects and applies pending migrations. */
export async function openDatabase(target: DatabaseTarget, entities: EntityList = []): Promise<DataSource> {
  const dataSource = new DataSource({ ...target.options, entities } as DataSourceOptions);
  try {
    await dataSource.initialize();
  } catch (error) {
    throw new DatabaseUnavailable(`Cannot open ${target.description}: ${(error as Error).message}`);
  }
  nameExactCollation(dataSource, target.kind);
  await dataSource.runMigrations({ transaction: "each" });
  return dataSource;
}
