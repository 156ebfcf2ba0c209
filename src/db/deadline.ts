// How long a request may wait for the database (DB_UNAVAILABLE_TIMEOUT_MS): a database that is
// paused, restarting or unreachable must cost a caller a 503 within that bound, never a hang.
// Each request gets one deadline when it arrives (request.databaseDeadline, set by
// http/request-deadline.ts), handed to the services it calls as an epoch-ms argument; every database
// wait on an ingest path is bounded by what is left of it. Passed explicitly, not through
// AsyncLocalStorage: on Node 20 that is a promise hook on every promise a request creates, about a
// tenth of the ingest paths' throughput (measured: REST 0.30 -> 0.33, GraphQL 0.49 -> 0.54 of the bare baselines).
import { DatabaseUnreachable } from "../errors";

// Driver errors that mean "no database to talk to", not "this query is wrong".
const UNREACHABLE_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ETIMEDOUT",
  "EPIPE",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ENOTFOUND",
  "EAI_AGAIN",
  "PROTOCOL_CONNECTION_LOST",
  "PROTOCOL_SEQUENCE_TIMEOUT",
  "ER_SERVER_SHUTDOWN",
  "ER_CON_COUNT_ERROR",
  "ER_CONNECTION_KILLED",
  "SQLITE_BUSY",
  "SQLITE_BUSY_SNAPSHOT",
  "SQLITE_BUSY_TIMEOUT",
  "SQLITE_LOCKED",
]);
// 1053 server shutdown, 1040 too many connections, 1927 connection killed, 2002/2003/2006/2013 client-side losses.
const UNREACHABLE_ERRNOS = new Set([1053, 1040, 1927, 2002, 2003, 2006, 2013]);
// mysql2 reports these without a code.
const UNREACHABLE_MESSAGES = [
  /^Queue limit reached/,
  /^Pool is closed/,
  /^Can't add new command when connection is in closed state/,
  /^Connection lost/,
];

/** Whether `error` (a driver error, or TypeORM's wrapper of one) means the database cannot be reached. */
export function isDatabaseUnreachableError(error: unknown): boolean {
  if (error instanceof DatabaseUnreachable) return true;
  if (error === null || typeof error !== "object") return false;
  const driverError = (error as { driverError?: unknown }).driverError;
  if (driverError && driverError !== error && isDatabaseUnreachableError(driverError)) return true;
  const { code, errno, message } = error as { code?: unknown; errno?: unknown; message?: unknown };
  if (typeof code === "string" && UNREACHABLE_CODES.has(code)) return true;
  if (typeof errno === "number" && UNREACHABLE_ERRNOS.has(errno)) return true;
  return typeof message === "string" && UNREACHABLE_MESSAGES.some((pattern) => pattern.test(message));
}

/** `error` as the 503 it stands for when it means the database cannot be reached; else undefined. */
export function asDatabaseUnreachable(error: unknown): DatabaseUnreachable | undefined {
  if (error instanceof DatabaseUnreachable) return error;
  if (!isDatabaseUnreachableError(error)) return undefined;
  return new DatabaseUnreachable(undefined, undefined, false, { cause: error });
}

export class DatabaseDeadline {
  /** Kept for the answer itself to travel once the database wait is given up. */
  private readonly marginMs: number;

  constructor(readonly timeoutMs: number) {
    this.marginMs = Math.min(500, Math.floor(timeoutMs / 10));
  }

  /** A full budget from now: the deadline of a request arriving now, or of work done outside any request. */
  at(): number {
    return Date.now() + this.timeoutMs - this.marginMs;
  }

  /** Seconds a refused caller should wait before retrying. */
  get retryAfterSeconds(): number {
    return Math.max(1, Math.ceil(this.timeoutMs / 2000));
  }

  /** The error a caller gets when the database did not answer in time. */
  unreachable(outcomeUnknown = false, cause?: unknown): DatabaseUnreachable {
    const message = outcomeUnknown
      ? "The database did not confirm the write in time; it may or may not be stored: retry (with an Idempotency-Key to avoid a duplicate)"
      : "The database is not answering, nothing was stored: retry shortly";
    return new DatabaseUnreachable(message, this.retryAfterSeconds, outcomeUnknown, { cause });
  }

  /**
   * `work`'s result, or DatabaseUnreachable when it fails for want of a database or has not settled
   * by the deadline. For reads: a read given up on keeps its connection until the database answers
   * or the connection breaks, which is harmless (it changes nothing).
   */
  async bound<T>(work: () => Promise<T>, deadline = this.at()): Promise<T> {
    if (Date.now() >= deadline) throw this.unreachable();
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(this.unreachable()), deadline - Date.now());
    });
    try {
      return await Promise.race([work(), expired]);
    } catch (error) {
      if (error instanceof DatabaseUnreachable || !isDatabaseUnreachableError(error)) throw error;
      throw this.unreachable(false, error);
    } finally {
      clearTimeout(timer);
    }
  }
}

/** `work` bounded by `deadline` (DatabaseDeadline.bound) when the service was given one, else as it is. */
export function boundedBy<T>(deadline: DatabaseDeadline | undefined, work: () => Promise<T>, at?: number): Promise<T> {
  return deadline ? deadline.bound(work, at) : work();
}
