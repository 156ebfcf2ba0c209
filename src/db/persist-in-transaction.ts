// Runs one batch's write in one transaction, retried when the database refused it for a reason
// that a retry cures: a MySQL deadlock or lock wait between instances writing the same keys, or
// SQLite's busy snapshot. The transaction is all-or-nothing, so a retry neither loses nor
// double-counts. Knows nothing of what is written: each domain brings its own write function.
// With a deadline (the writer's), a lost connection before COMMIT is retried too, and the batch is
// given up at the deadline with DatabaseUnreachable (see transaction.ts for what "given up" means).
import type { Logger } from "pino";
import type { DataSource, EntityManager } from "typeorm";
import { DatabaseUnreachable } from "../errors";
import type { PersistBatch } from "./batch-writer";
import { type DatabaseDeadline, isDatabaseUnreachableError } from "./deadline";
import { runInTransaction, type TransactionBound } from "./transaction";

const RETRYABLE_ERRNOS = new Set([1213, 1205]); // ER_LOCK_DEADLOCK, ER_LOCK_WAIT_TIMEOUT
// SQLite refuses at once (no busy wait) to upgrade a read transaction another process wrote under.
const RETRYABLE_CODES = new Set(["SQLITE_BUSY", "SQLITE_BUSY_SNAPSHOT"]);
const MAX_ATTEMPTS = 5;

/** Writes a batch; may answer each item (see PersistBatch). */
// biome-ignore lint/suspicious/noConfusingVoidType: a persist function that answers nothing returns Promise<void>
export type TransactionalWrite<T, R> = (manager: EntityManager, items: T[]) => Promise<void | readonly (R | Error)[]>;

export interface PersistOptions {
  /** Bounds each batch by the deadline the writer passes; without it a batch waits as long as the database. */
  deadline?: DatabaseDeadline;
  /** Told about batches whose commit outcome was learnt only after their callers were answered. */
  logger?: Logger;
}

/** A persist function for the BatchWriter: `write` in one transaction, retried when retryable. */
export function persistInTransaction<T, R>(
  dataSource: DataSource,
  write: TransactionalWrite<T, R>,
  options: PersistOptions = {},
): PersistBatch<T, R> {
  return async (items, deadline) => {
    const bound =
      deadline !== undefined && options.deadline ? transactionBound(options, deadline, items.length) : undefined;
    for (let attempt = 1; ; attempt++) {
      try {
        return await runInTransaction(dataSource, (manager) => write(manager, items), bound);
      } catch (error) {
        if (error instanceof DatabaseUnreachable) throw error;
        // Only a bounded transaction tells a connection lost before COMMIT (safe to retry) from one
        // lost during it (never retried: it may have committed).
        const unreachable = bound !== undefined && isDatabaseUnreachableError(error);
        const pause = 5 * attempt + Math.random() * 10;
        // A bounded batch retries for as long as its deadline allows (a locked SQLite file, a
        // connection lost before COMMIT); an unbounded one a few times.
        const retryable = (isRetryable(error) || unreachable) && (bound !== undefined || attempt < MAX_ATTEMPTS);
        if (!retryable || (bound && Date.now() + pause >= bound.deadline)) {
          throw bound && (unreachable || isRetryable(error)) ? bound.unreachable(false, error) : error;
        }
        await new Promise((resolve) => setTimeout(resolve, pause));
      }
    }
  };
}

function transactionBound(options: PersistOptions, deadline: number, size: number): TransactionBound {
  const limits = options.deadline as DatabaseDeadline;
  return {
    deadline,
    unreachable: (outcomeUnknown, cause) => limits.unreachable(outcomeUnknown, cause),
    onLateOutcome: ({ committed, error }) => {
      if (committed) {
        options.logger?.error(
          { events: size },
          "a batch whose requests were answered 503 (outcome unknown) committed afterwards: a retry without an Idempotency-Key stores these events twice",
        );
      } else {
        options.logger?.warn(
          { events: size, err: error },
          "a batch whose requests were answered 503 (outcome unknown) did not confirm its commit",
        );
      }
    },
  };
}

function isRetryable(error: unknown): boolean {
  const cause = (error as { driverError?: { errno?: number; code?: string } }).driverError ?? error;
  const { errno, code } = cause as { errno?: number; code?: string };
  return RETRYABLE_ERRNOS.has(errno as number) || RETRYABLE_CODES.has(code as string);
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
