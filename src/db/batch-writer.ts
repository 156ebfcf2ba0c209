// Group commit: events from concurrent requests share one transaction. The writer flushes at once
// when idle and gathers new events while a flush is in flight, so the batch size follows the load
// (no timer to wait out). A request is answered only when the batch holding its event committed.
// The persist function may answer each item on its own: a value (e.g. "stored" or "replayed") or
// an Error that refuses that item alone while its neighbours commit.
import type { Logger } from "pino";
import { Overloaded, ShuttingDown } from "../errors";

export interface BatchWriterOptions {
  /** Items persisted by one call of the persist function at most. */
  maxBatch: number;
  /** Items waiting at most; beyond it enqueue() rejects with Overloaded. */
  maxQueue: number;
  /**
   * Batches written at the same time at most (default 1). A second one in flight keeps the
   * database busy while the first commits; on SQLite transactions run one at a time anyway.
   */
  concurrency?: number;
}

interface PendingItem<T, R> {
  item: T;
  resolve: (result: R) => void;
  reject: (error: unknown) => void;
}

/**
 * Stores a batch in one transaction. Either nothing (every item is stored, its result undefined)
 * or one entry per item, in order: its result, or an Error refusing that item (nothing of it stored).
 */
// biome-ignore lint/suspicious/noConfusingVoidType: a persist function that answers nothing returns Promise<void>
export type PersistBatch<T, R> = (items: T[]) => Promise<void | readonly (R | Error)[]>;

/**
 * Where a domain hands its events: resolves once the event is committed. Domains depend on this
 * narrow view, typed with their own events; the composition root owns the one writer behind it.
 */
export interface EventSink<T, R = void> {
  enqueue(item: T): Promise<R>;
}

/** Told about every batch written (for metrics). */
export type BatchObserver = (batch: { size: number; seconds: number; ok: boolean }) => void;

export class BatchWriter<T, R = void> implements EventSink<T, R> {
  private readonly queue: PendingItem<T, R>[] = [];
  private observer?: BatchObserver;
  /** The flush loops running: at most `concurrency`, each writing one batch at a time. */
  private readonly flushing = new Set<Promise<void>>();
  private closed = false;

  constructor(
    private readonly persist: PersistBatch<T, R>,
    private readonly options: BatchWriterOptions,
    private readonly logger?: Logger,
  ) {}

  /** Resolves with the item's result once committed; rejects if it could not be stored or was refused. */
  enqueue(item: T): Promise<R> {
    if (this.closed) return Promise.reject(new ShuttingDown());
    if (this.queue.length >= this.options.maxQueue) return Promise.reject(new Overloaded());
    return new Promise<R>((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      if (this.flushing.size < (this.options.concurrency ?? 1)) {
        const loop: Promise<void> = this.flushLoop().finally(() => this.flushing.delete(loop));
        this.flushing.add(loop);
      }
    });
  }

  get pending(): number {
    return this.queue.length;
  }

  observe(observer: BatchObserver): void {
    this.observer = observer;
  }

  /** Refuses new items and waits until every accepted item is stored (or failed). */
  async drain(): Promise<void> {
    this.closed = true;
    while (this.flushing.size > 0) await Promise.all(this.flushing);
  }

  private async flushLoop(): Promise<void> {
    while (this.queue.length > 0) {
      const batch = this.queue.splice(0, this.options.maxBatch);
      await this.persistBatch(batch);
    }
  }

  private async persistBatch(batch: PendingItem<T, R>[]): Promise<void> {
    const started = process.hrtime.bigint();
    const report = (ok: boolean) =>
      this.observer?.({ size: batch.length, seconds: Number(process.hrtime.bigint() - started) / 1e9, ok });
    try {
      const results = await this.persist(batch.map((pending) => pending.item));
      report(true);
      batch.forEach((pending, index) => {
        const result = results?.[index];
        if (result instanceof Error) pending.reject(result);
        else pending.resolve(result as R);
      });
    } catch (error) {
      report(false);
      if (batch.length === 1) {
        batch[0].reject(error);
        return;
      }
      // One bad item must not fail its neighbours: retry each alone so only the culprit fails.
      this.logger?.warn({ err: error, size: batch.length }, "batch insert failed; retrying items one by one");
      for (const pending of batch) await this.persistBatch([pending]);
    }
  }
}
