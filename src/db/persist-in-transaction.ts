// Runs one batch's write in one transaction, retried when the database refused it for a reason
// that a retry cures: a MySQL deadlock or lock wait between instances writing the same keys, or
// SQLite's busy snapshot. The transaction is all-or-nothing, so a retry neither loses nor
// double-counts. Knows nothing of what is written: each domain brings its own write function.
import type { DataSource, EntityManager } from "typeorm";
import type { PersistBatch } from "./batch-writer";
import { runInTransaction } from "./transaction";

const RETRYABLE_ERRNOS = new Set([1213, 1205]); // ER_LOCK_DEADLOCK, ER_LOCK_WAIT_TIMEOUT
// SQLite refuses at once (no busy wait) to upgrade a read transaction another process wrote under.
const RETRYABLE_CODES = new Set(["SQLITE_BUSY", "SQLITE_BUSY_SNAPSHOT"]);
const MAX_ATTEMPTS = 5;

/** Writes a batch; may answer each item (see PersistBatch). */
// biome-ignore lint/suspicious/noConfusingVoidType: a persist function that answers nothing returns Promise<void>
export type TransactionalWrite<T, R> = (manager: EntityManager, items: T[]) => Promise<void | readonly (R | Error)[]>;

/** A persist function for the BatchWriter: `write` in one transaction, retried when retryable. */
export function persistInTransaction<T, R>(
  dataSource: DataSource,
  write: TransactionalWrite<T, R>,
): PersistBatch<T, R> {
  return (items) => inRetriedTransaction(dataSource, (manager) => write(manager, items));
}

/** `work` in one transaction, run again from the start when the database refused it retryably. */
export async function inRetriedTransaction<T>(
  dataSource: DataSource,
  work: (manager: EntityManager) => Promise<T>,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await runInTransaction(dataSource, work);
    } catch (error) {
      if (attempt >= MAX_ATTEMPTS || !isRetryable(error)) throw error;
      await new Promise((resolve) => setTimeout(resolve, 5 * attempt + Math.random() * 10));
    }
  }
}

function isRetryable(error: unknown): boolean {
  const cause = (error as { driverError?: { errno?: number; code?: string } }).driverError ?? error;
  const { errno, code } = cause as { errno?: number; code?: string };
  return RETRYABLE_ERRNOS.has(errno as number) || RETRYABLE_CODES.has(code as string);
}
