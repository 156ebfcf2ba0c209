// Group commit: events from concurrent requests share one transaction. The writer flushes at once
// when idle and gathers new events while a flush is in flight, so the batch size follows the load
// (no timer to wait out). A request is answered only when the batch holding its event committed.
// The persist function may answer each item on its own: a value (e.g. "stored" or "replayed") or
// an Error that refuses that item alone while its neighbours commit.
// With a deadline (DB_UNAVAILABLE_TIMEOUT_MS), an item still queued at its request's deadline is
// answered 503 and never sent; a batch is handed its earliest item's deadline, and a batch the
// database could not take is not retried item by item against a database that is away.
import type { Logger } from "pino";
import { DatabaseUnreachable, Overloaded, ShuttingDown } from "../errors";

export interface BatchWriterOptions<T = unknown> {
  /** Events persisted by one call of the persist function at most (an item bigger than that alone). */
  maxBatch: number;
  /** Events waiting at most; beyond it enqueue() rejects with Overloaded. */
  maxQueue: number;
  /** How many events an item holds (a request's rows, stored together); 1 when unset. */
  sizeOf?: (item: T) => number;
  /**
   * The deadline (epoch ms) of an item enqueued without its request's: a full budget from now.
   * Unset: items wait as long as it takes, whatever deadline they come with.
   */
  deadline?: () => number;
  /** The error of an item whose deadline passed while it was queued. */
  expired?: () => Error;
  /**
   * Items whose order against other items does not matter (they touch no row another batch may
   * write): once SECOND_LANE_EVENTS of them wait, they are written beside the batch in flight, on a
   * second connection, instead of after it. Unset: one batch at a time, in queue order.
   */
  orderFree?: (item: T) => boolean;
}

/** Batches in flight at once at most: the second only beside a batch that leaves it free to run. */
const MAX_LANES = 2;

/**
 * Order-free events waiting that open the second lane. A batch's time under load is mostly its turns of
 * the busy event loop (25 events took 3.8-4.7 ms, their commit 0.4 ms), so a second batch in flight
 * overlaps those waits: REST logConversion at 50 connections measured 0.26-0.30 x the bare route against
 * 0.20-0.24 when the second lane waited for a full batch (500), the batches half the size.
 */
export const SECOND_LANE_EVENTS = 8;

/** Who waits for queued items: one caller per item (enqueue) or one for many (enqueueAll). */
interface Waiter<R> {
  resolve(index: number, result: R): void;
  reject(index: number, error: unknown): void;
}

interface PendingItem<T, R> {
  item: T;
  /** Its events (sizeOf). */
  size: number;
  deadline: number;
  waiter: Waiter<R>;
  /** The item's place among its waiter's items. */
  index: number;
}

/**
 * Stores a batch in one transaction. Either nothing (every item is stored, its result undefined)
 * or one entry per item, in order: its result, or an Error refusing that item (nothing of it stored).
 * `deadline` (epoch ms, when the writer has one): when the batch's first caller stops waiting.
 */
// biome-ignore lint/suspicious/noConfusingVoidType: a persist function that answers nothing returns Promise<void>
export type PersistBatch<T, R> = (items: T[], deadline?: number) => Promise<void | readonly (R | Error)[]>;

/**
 * Where a domain hands its events: resolves once the event is committed. Domains depend on this
 * narrow view, typed with their own events; the composition root owns the one writer behind it.
 * `deadline`: the epoch ms at which the request stops waiting (its database deadline); unset: the writer's.
 */
export interface EventSink<T, R = void> {
  enqueue(item: T, deadline?: number): Promise<R>;
  enqueueAll(items: readonly T[], deadline?: number): Promise<(R | Error)[]>;
}

/** Told about every batch written (for metrics): its events, how long it took, whether it committed. */
export type BatchObserver = (batch: { size: number; seconds: number; ok: boolean }) => void;

export class BatchWriter<T, R = void> implements EventSink<T, R> {
  private readonly queue: PendingItem<T, R>[] = [];
  /** Events of the queued items. */
  private queued = 0;
  private observer?: BatchObserver;
  /** Settles when no lane runs any more. */
  private flushing: Promise<void> | null = null;
  private idle?: () => void;
  private lanes = 0;
  /** Whether a lane writes a batch holding items whose order matters. */
  private orderedInFlight = false;
  private closed = false;
  private expiryTimer: NodeJS.Timeout | null = null;

  constructor(
    private readonly persist: PersistBatch<T, R>,
    private readonly options: BatchWriterOptions<T>,
    private readonly logger?: Logger,
  ) {}

  /** Resolves with the item's result once committed; rejects if it could not be stored or was refused. */
  enqueue(item: T, requestDeadline?: number): Promise<R> {
    if (this.closed) return Promise.reject(new ShuttingDown());
    const size = this.options.sizeOf?.(item) ?? 1;
    if (this.queued + size > this.options.maxQueue) return Promise.reject(new Overloaded());
    const deadline = this.deadlineOf(requestDeadline);
    return new Promise<R>((resolve, reject) => {
      this.queued += size;
      this.queue.push({
        item,
        size,
        deadline,
        waiter: { resolve: (_, result) => resolve(result), reject: (_, error) => reject(error) },
        index: 0,
      });
      this.startFlushing();
    });
  }

  /**
   * One request's many items (a batch endpoint): all of them are queued, or none when they do not
   * fit (Overloaded), so a request is never half taken. Resolves once every item is settled, with
   * each one's result or the Error that refused it, in order. One waiter for all: no promise per item.
   */
  enqueueAll(items: readonly T[], requestDeadline?: number): Promise<(R | Error)[]> {
    if (items.length === 0) return Promise.resolve([]);
    if (this.closed) return Promise.reject(new ShuttingDown());
    const sizes = items.map((item) => this.options.sizeOf?.(item) ?? 1);
    const total = sizes.reduce((sum, size) => sum + size, 0);
    if (this.queued + total > this.options.maxQueue) return Promise.reject(new Overloaded());
    const deadline = this.deadlineOf(requestDeadline);
    return new Promise<(R | Error)[]>((done) => {
      const results: (R | Error)[] = new Array(items.length);
      let unsettled = items.length;
      const settle = (index: number, result: R | Error) => {
        results[index] = result;
        if (--unsettled === 0) done(results);
      };
      const waiter: Waiter<R> = {
        resolve: settle,
        reject: (index, error) => settle(index, error instanceof Error ? error : new Error(String(error))),
      };
      this.queued += total;
      for (let index = 0; index < items.length; index++)
        this.queue.push({ item: items[index], size: sizes[index], deadline, waiter, index });
      this.startFlushing();
    });
  }

  /** An item's deadline: its request's, else the writer's own (a full budget from now), else none. */
  private deadlineOf(requestDeadline: number | undefined): number {
    if (!this.options.deadline) return Number.POSITIVE_INFINITY;
    return requestDeadline ?? this.options.deadline();
  }

  private startFlushing(): void {
    this.openLane();
    this.watchExpiry();
  }

  /**
   * Starts a lane (a loop writing batch after batch) when none runs, and a second one beside it
   * when SECOND_LANE_EVENTS order-free items wait: the batch size follows the load, and a second
   * connection shares the waiting.
   */
  private openLane(): void {
    if (this.queue.length === 0 || this.lanes >= MAX_LANES) return;
    if (this.lanes > 0 && !(this.options.orderFree && this.queued >= SECOND_LANE_EVENTS)) return;
    this.lanes++;
    if (this.lanes === 1) this.flushing = new Promise((resolve) => (this.idle = resolve));
    void this.lane();
  }

  /** Events waiting for the database. */
  get pending(): number {
    return this.queued;
  }

  observe(observer: BatchObserver): void {
    this.observer = observer;
  }

  /** Refuses new items and waits until every accepted item is stored (or failed). */
  async drain(): Promise<void> {
    this.closed = true;
    while (this.flushing) await this.flushing;
  }

  /**
   * Writes batches until the queue is empty. A batch holding items whose order matters is not
   * started while the other lane writes such a batch: that lane takes it next.
   */
  private async lane(): Promise<void> {
    try {
      while (this.queue.length > 0) {
        this.expireQueued();
        // Whole items up to maxBatch events (at least one item, however big).
        let count = 0;
        let events = 0;
        let ordered = false;
        while (count < this.queue.length && (count === 0 || events + this.queue[count].size <= this.options.maxBatch)) {
          ordered ||= !this.options.orderFree?.(this.queue[count].item);
          events += this.queue[count++].size;
        }
        if (count === 0 || (ordered && this.orderedInFlight)) break;
        const batch = this.queue.splice(0, count);
        this.queued -= events;
        if (ordered) this.orderedInFlight = true;
        this.openLane();
        try {
          await this.persistBatch(batch);
        } finally {
          if (ordered) this.orderedInFlight = false;
        }
      }
    } finally {
      this.lanes--;
      if (this.lanes === 0) {
        this.flushing = null;
        this.idle?.();
        if (this.expiryTimer) clearTimeout(this.expiryTimer);
        this.expiryTimer = null;
      }
    }
  }

  /** One timer for the whole queue, set for its oldest item: cheap at any rate of events. */
  private watchExpiry(): void {
    if (this.expiryTimer || this.queue.length === 0) return;
    const next = this.queue[0].deadline;
    if (!Number.isFinite(next)) return;
    this.expiryTimer = setTimeout(
      () => {
        this.expiryTimer = null;
        this.expireQueued();
        this.watchExpiry();
      },
      Math.max(0, next - Date.now()),
    );
    this.expiryTimer.unref();
  }

  /** Answers (503) every queued item whose request stopped waiting; none of them was sent. */
  private expireQueued(): void {
    const now = Date.now();
    if (!this.queue.some((pending) => pending.deadline <= now)) return;
    const kept = this.queue.filter((pending) => pending.deadline > now);
    this.queued = kept.reduce((sum, pending) => sum + pending.size, 0);
    for (const pending of this.queue) {
      if (pending.deadline <= now)
        pending.waiter.reject(pending.index, this.options.expired?.() ?? new DatabaseUnreachable());
    }
    this.queue.splice(0, this.queue.length, ...kept);
  }

  private async persistBatch(batch: PendingItem<T, R>[]): Promise<void> {
    const started = process.hrtime.bigint();
    const events = batch.reduce((sum, pending) => sum + pending.size, 0);
    const report = (ok: boolean) =>
      this.observer?.({ size: events, seconds: Number(process.hrtime.bigint() - started) / 1e9, ok });
    const deadline = batch.reduce(
      (earliest, pending) => Math.min(earliest, pending.deadline),
      Number.POSITIVE_INFINITY,
    );
    try {
      const results = await this.persist(
        batch.map((pending) => pending.item),
        Number.isFinite(deadline) ? deadline : undefined,
      );
      report(true);
      for (let index = 0; index < batch.length; index++) {
        const pending = batch[index];
        const result = results?.[index];
        if (result instanceof Error) pending.waiter.reject(pending.index, result);
        else pending.waiter.resolve(pending.index, result as R);
      }
    } catch (error) {
      report(false);
      if (error instanceof DatabaseUnreachable) {
        // Given up at the earliest item's deadline with nothing stored: the items whose requests
        // still wait go back to the head of the queue (their own deadline bounds them); the
        // others are answered. An unknown outcome is never retried: it may have been stored.
        const now = Date.now();
        const again: PendingItem<T, R>[] = [];
        for (const pending of batch) {
          if (!error.outcomeUnknown && pending.deadline > now) again.push(pending);
          else pending.waiter.reject(pending.index, error);
        }
        this.queue.unshift(...again);
        this.queued += again.reduce((sum, pending) => sum + pending.size, 0);
        return;
      }
      if (batch.length === 1) {
        batch[0].waiter.reject(batch[0].index, error);
        return;
      }
      // One bad item must not fail its neighbours: retry each alone so only the culprit fails.
      this.logger?.warn({ err: error, size: batch.length }, "batch insert failed; retrying items one by one");
      for (const pending of batch) await this.persistBatch([pending]);
    }
  }
}
