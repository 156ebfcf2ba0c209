// Transactions that stay separate on every database. TypeORM's SQLite drivers share one
// connection (and one query runner) per data source, so two concurrent transactions would nest
// as savepoints of each other: a rollback of one could undo the other's acknowledged writes.
// On SQLite they are therefore run one at a time; MySQL gives each its own pooled connection.
//
// A bounded transaction (for the writer) is given up at a deadline, and how depends on whether
// its COMMIT was sent. Before: its connection is closed, so the server rolls it back and the
// caller's 503 is the truth ("nothing stored"). After: nobody can know until the server answers;
// the caller gets a 503 saying the outcome is unknown, the transaction is left to finish, and its
// real outcome is reported (logged) when it arrives. We never answer "stored" for a write that
// is not known to be committed, and never leave a late commit unreported.
//
// Bounded transactions run on connections of their own with autocommit off, kept between
// transactions: the first statement opens the transaction, so there is no START TRANSACTION round
// trip (a third of a batch of logged conversions: START, INSERT, COMMIT). Such a connection never
// goes back to the pool, where a plain query would then never commit: it is kept for the next
// bounded transaction only when its last one ended cleanly, and closed otherwise.
import type { DataSource, EntityManager, QueryRunner } from "typeorm";
import { isDatabaseUnreachableError } from "./deadline";

const sqliteQueues = new WeakMap<DataSource, Promise<unknown>>();

export interface TransactionBound {
  /** Epoch milliseconds past which the transaction is given up. */
  deadline: number;
  /** The error the caller gets when it is given up (outcomeUnknown: its COMMIT was sent). */
  unreachable(outcomeUnknown: boolean, cause?: unknown): Error;
  /** How a transaction given up on after its COMMIT was sent really ended. */
  onLateOutcome?(outcome: { committed: boolean; error?: unknown }): void;
}

export function runInTransaction<T>(
  dataSource: DataSource,
  work: (manager: EntityManager) => Promise<T>,
  bound?: TransactionBound,
): Promise<T> {
  const type = dataSource.options.type;
  if (type !== "better-sqlite3")
    return bound ? boundedTransaction(dataSource, work, bound) : dataSource.transaction(work);
  const previous = sqliteQueues.get(dataSource) ?? Promise.resolve();
  // SQLite cannot hang (each statement waits at most busy_timeout), but a transaction that waited
  // its turn past the deadline is not started: its caller has been, or is being, answered 503.
  const current = previous
    .catch(() => undefined)
    .then(() => {
      if (bound && Date.now() >= bound.deadline) throw bound.unreachable(false);
      return dataSource.transaction(work);
    });
  sqliteQueues.set(dataSource, current);
  return current;
}

const GIVEN_UP = Symbol("given up at the deadline");

/** Idle connections with autocommit off, per data source (see the top of the file). */
const manualCommitConnections = new WeakMap<DataSource, QueryRunner[]>();
/** Idle connections kept at most: the writer runs two batches at a time at most. */
const MAX_IDLE_MANUAL_COMMIT = 4;

/** An idle connection with autocommit off, or a new one from the pool set so. */
async function manualCommitRunner(dataSource: DataSource): Promise<QueryRunner> {
  const idle = manualCommitConnections.get(dataSource) ?? [];
  for (let runner = idle.pop(); runner; runner = idle.pop()) {
    if (isOpen(runner)) return runner;
    // One the server closed while it was idle (a restart, wait_timeout) is let go, never to the pool.
    await discard(runner);
  }
  const runner = dataSource.createQueryRunner();
  try {
    await runner.connect();
    await runner.query("SET autocommit = 0");
  } catch (error) {
    await discard(runner);
    throw error;
  }
  return runner;
}

/** Closes a connection of a bounded transaction: it leaves the pool for good (autocommit may be off). */
async function discard(runner: QueryRunner): Promise<void> {
  closeConnection(runner);
  await runner.release().catch(() => undefined);
}

/** Keeps a connection whose transaction ended cleanly for the next one; closes it otherwise. */
async function putBack(dataSource: DataSource, runner: QueryRunner, clean: boolean): Promise<void> {
  let idle = manualCommitConnections.get(dataSource);
  if (!idle) {
    idle = [];
    manualCommitConnections.set(dataSource, idle);
  }
  if (clean && dataSource.isInitialized && idle.length < MAX_IDLE_MANUAL_COMMIT) {
    idle.push(runner);
    return;
  }
  await discard(runner);
}

/** A MySQL transaction on a connection of its own, given up at the deadline (see the top of the file). */
function boundedTransaction<T>(
  dataSource: DataSource,
  work: (manager: EntityManager) => Promise<T>,
  bound: TransactionBound,
): Promise<T> {
  if (Date.now() >= bound.deadline) return Promise.reject(bound.unreachable(false));
  let runner: QueryRunner | undefined;
  let commitSent = false;
  let givenUp = false;
  const attempt = (async () => {
    // Whether the connection's transaction ended (committed or rolled back) and it can be kept.
    let clean = false;
    try {
      runner = await manualCommitRunner(dataSource);
      if (givenUp) throw GIVEN_UP;
      // Autocommit is off: the work's first statement opens the transaction.
      const result = await work(runner.manager);
      // The caller was answered 503 "nothing stored": then the COMMIT must never be sent.
      if (givenUp) throw GIVEN_UP;
      commitSent = true;
      await runner.query("COMMIT");
      clean = true;
      return result;
    } catch (error) {
      if (commitSent) {
        // A lost connection during COMMIT leaves the outcome unknown: never retried as "not stored".
        throw isDatabaseUnreachableError(error) ? bound.unreachable(true, error) : error;
      }
      if (!givenUp && runner) {
        clean = await runner.query("ROLLBACK").then(
          () => true,
          () => false,
        );
      }
      throw error;
    } finally {
      if (runner) await putBack(dataSource, runner, clean && !givenUp);
    }
  })();
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => {
        givenUp = true;
        if (!commitSent) {
          // Nothing is committed without a COMMIT: closing the connection makes the server roll back.
          if (runner) closeConnection(runner);
          reject(bound.unreachable(false));
          return;
        }
        reject(bound.unreachable(true));
        attempt.then(
          () => bound.onLateOutcome?.({ committed: true }),
          (error) => bound.onLateOutcome?.({ committed: false, error }),
        );
      },
      Math.max(0, bound.deadline - Date.now()),
    );
  });
  attempt.catch(() => undefined); // settled by the race below, or reported by onLateOutcome
  return Promise.race([attempt, expired]).finally(() => clearTimeout(timer));
}

interface Mysql2Connection {
  destroy(): void;
  stream?: { destroy(): void };
  _closing?: boolean;
  _fatalError?: unknown;
}

function isOpen(runner: QueryRunner): boolean {
  const connection = (runner as unknown as { databaseConnection?: Mysql2Connection }).databaseConnection;
  return connection !== undefined && !connection._closing && !connection._fatalError;
}

/** Closes the runner's pooled mysql2 connection for good (it leaves the pool). */
function closeConnection(runner: QueryRunner): void {
  const connection = (runner as unknown as { databaseConnection?: Mysql2Connection }).databaseConnection;
  if (!connection) return;
  connection.destroy();
  connection.stream?.destroy();
}
