// The group-commit writer, on its own: batching under load, isolation of a bad item, bounds, drain.
import { describe, expect, it } from "vitest";
import { BatchWriter, SECOND_LANE_EVENTS } from "../../src/db/batch-writer";
import { DatabaseUnreachable, Overloaded, ShuttingDown } from "../../src/errors";

function deferred() {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

/** A writer whose every batch is recorded as it starts and held until gate.resolve(). */
function gatedWriter(options: ConstructorParameters<typeof BatchWriter<number>>[1]) {
  const gate = deferred();
  const started: number[][] = [];
  const writer = new BatchWriter<number>(async (items) => {
    started.push(items);
    await gate.promise;
  }, options);
  return { gate, started, writer };
}

describe("BatchWriter", () => {
  it("writes at once when idle and gathers what arrives during a flush into the next batch", async () => {
    const batches: number[][] = [];
    const gate = deferred();
    const writer = new BatchWriter<number>(
      async (items) => {
        batches.push(items);
        if (batches.length === 1) await gate.promise;
      },
      { maxBatch: 100, maxQueue: 1000 },
    );
    const first = writer.enqueue(1);
    const rest = [2, 3, 4, 5].map((item) => writer.enqueue(item));
    await Promise.resolve();
    expect(batches).toEqual([[1]]);
    gate.resolve();
    await Promise.all([first, ...rest]);
    expect(batches).toEqual([[1], [2, 3, 4, 5]]);
  });

  it("caps the batch size", async () => {
    const sizes: number[] = [];
    const writer = new BatchWriter<number>(async (items) => void sizes.push(items.length), {
      maxBatch: 3,
      maxQueue: 1000,
    });
    await Promise.all(Array.from({ length: 10 }, (_, index) => writer.enqueue(index)));
    expect(sizes.reduce((sum, size) => sum + size, 0)).toBe(10);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(3);
  });

  it("counts events, not items: whole items up to maxBatch events per batch, a bigger item alone", async () => {
    // Each item is a number of events (a request's rows).
    const { gate, started: batches, writer } = gatedWriter({ maxBatch: 5, maxQueue: 20, sizeOf: (item) => item });
    const first = writer.enqueue(1);
    const rest = [2, 2, 2, 7, 1].map((item) => writer.enqueue(item));
    expect(writer.pending).toBe(14);
    await expect(writer.enqueue(7)).rejects.toBeInstanceOf(Overloaded);
    gate.resolve();
    await Promise.all([first, ...rest]);
    expect(batches).toEqual([[1], [2, 2], [2], [7], [1]]);
    expect(writer.pending).toBe(0);
  });

  it("fails only the item the database refuses, not its neighbours", async () => {
    const stored: number[] = [];
    const writer = new BatchWriter<number>(
      async (items) => {
        if (items.includes(13)) throw new Error("refused");
        stored.push(...items);
      },
      { maxBatch: 100, maxQueue: 1000 },
    );
    const results = await Promise.allSettled([10, 11, 12, 13, 14].map((item) => writer.enqueue(item)));
    expect(results.map((result) => result.status)).toEqual([
      "fulfilled",
      "fulfilled",
      "fulfilled",
      "rejected",
      "fulfilled",
    ]);
    expect(stored.sort()).toEqual([10, 11, 12, 14]);
  });

  it("refuses with Overloaded when the queue is full instead of growing", async () => {
    const gate = deferred();
    const writer = new BatchWriter<number>(() => gate.promise, { maxBatch: 1, maxQueue: 2 });
    const accepted = [writer.enqueue(1), writer.enqueue(2)];
    await Promise.resolve();
    const third = writer.enqueue(3);
    const fourth = writer.enqueue(4);
    await expect(fourth).rejects.toBeInstanceOf(Overloaded);
    gate.resolve();
    await Promise.all([...accepted, third]);
  });

  it("takes many items of one caller at once, answering each in order with its result or its refusal", async () => {
    const writer = new BatchWriter<number, string>(
      async (items) => items.map((item) => (item === 3 ? new Error("refused") : `stored ${item}`)),
      { maxBatch: 2, maxQueue: 100 },
    );
    const results = await writer.enqueueAll([1, 2, 3, 4, 5]);
    expect(results.slice(0, 2)).toEqual(["stored 1", "stored 2"]);
    expect(results[2]).toBeInstanceOf(Error);
    expect(results.slice(3)).toEqual(["stored 4", "stored 5"]);
  });

  it("queues all of one caller's items or none: a request is never half taken", async () => {
    const gate = deferred();
    const stored: number[] = [];
    const writer = new BatchWriter<number>(
      async (items) => {
        await gate.promise;
        stored.push(...items);
      },
      { maxBatch: 1, maxQueue: 4 },
    );
    const first = writer.enqueueAll([1, 2, 3]);
    await Promise.resolve();
    await expect(writer.enqueueAll([4, 5, 6])).rejects.toBeInstanceOf(Overloaded);
    const fits = writer.enqueueAll([7, 8]);
    gate.resolve();
    await Promise.all([first, fits]);
    expect(stored.sort()).toEqual([1, 2, 3, 7, 8]);
  });

  it(`writes order-free items beside the batch in flight once ${SECOND_LANE_EVENTS} wait, never a third`, async () => {
    const { gate, started, writer } = gatedWriter({ maxBatch: 4, maxQueue: 100, orderFree: () => true });
    const first = writer.enqueue(0);
    const waiting = writer.enqueueAll(Array.from({ length: SECOND_LANE_EVENTS - 1 }, (_, index) => index + 1));
    await Promise.resolve();
    expect(started).toEqual([[0]]); // fewer than SECOND_LANE_EVENTS waiting: they wait for the lane
    const last = writer.enqueue(SECOND_LANE_EVENTS);
    await Promise.resolve();
    // The second lane takes a batch (maxBatch); what is left waits: no third lane, however many wait.
    expect(started).toEqual([[0], [1, 2, 3, 4]]);
    const more = writer.enqueueAll(Array.from({ length: 10 }, (_, index) => 100 + index));
    await Promise.resolve();
    expect(started).toHaveLength(2);
    gate.resolve();
    await Promise.all([first, waiting, last, more]);
    expect(started.flat().sort((a, b) => a - b)).toEqual([
      ...Array.from({ length: SECOND_LANE_EVENTS + 1 }, (_, index) => index),
      ...Array.from({ length: 10 }, (_, index) => 100 + index),
    ]);
  });

  it("never writes two batches holding items whose order matters at once", async () => {
    const gate = deferred();
    let inFlight = 0;
    let mostAtOnce = 0;
    const order: number[] = [];
    const writer = new BatchWriter<number>(
      async (items) => {
        const ordered = items.some((item) => item % 2 === 1);
        if (ordered) inFlight++;
        mostAtOnce = Math.max(mostAtOnce, inFlight);
        await gate.promise;
        order.push(...items);
        if (ordered) inFlight--;
      },
      // Even items are order-free, odd ones are not.
      { maxBatch: 2, maxQueue: 100, orderFree: (item) => item % 2 === 0 },
    );
    const first = writer.enqueue(1);
    const ordered = writer.enqueueAll([3, 5]);
    await Promise.resolve();
    expect(inFlight).toBe(1);
    const free = writer.enqueueAll([2, 4]);
    await Promise.resolve();
    expect(inFlight).toBe(1); // [3, 5] waits for [1], and [2, 4] behind it
    gate.resolve();
    await Promise.all([first, ordered, free]);
    expect(mostAtOnce).toBe(1);
    expect(order.filter((item) => item % 2 === 1)).toEqual([1, 3, 5]);
  });

  it("drains everything accepted, then refuses new items", async () => {
    const stored: number[] = [];
    const writer = new BatchWriter<number>(
      async (items) => {
        await new Promise((resolve) => setTimeout(resolve, 5));
        stored.push(...items);
      },
      { maxBatch: 2, maxQueue: 1000 },
    );
    const pending = Array.from({ length: 7 }, (_, index) => writer.enqueue(index));
    await writer.drain();
    expect(stored.sort()).toEqual([0, 1, 2, 3, 4, 5, 6]);
    await Promise.all(pending);
    await expect(writer.enqueue(99)).rejects.toBeInstanceOf(ShuttingDown);
  });
});

describe("BatchWriter with a deadline", () => {
  const unreachable = () => new DatabaseUnreachable("not answering");

  it("answers an item still queued at its deadline without ever sending it", async () => {
    const gate = deferred();
    const sent: number[] = [];
    let deadline = Date.now() + 10_000;
    const writer = new BatchWriter<number>(
      async (items) => {
        sent.push(...items);
        await gate.promise;
      },
      { maxBatch: 100, maxQueue: 1000, deadline: () => deadline, expired: unreachable },
    );
    const first = writer.enqueue(1);
    deadline = Date.now() + 30;
    const second = writer.enqueue(2);
    await expect(second).rejects.toBeInstanceOf(DatabaseUnreachable);
    gate.resolve();
    await first;
    expect(sent).toEqual([1]);
  });

  it("holds an item to the deadline its request passes, not to a full budget from now", async () => {
    const gate = deferred();
    const sent: number[] = [];
    const writer = new BatchWriter<number>(
      async (items) => {
        sent.push(...items);
        await gate.promise;
      },
      { maxBatch: 100, maxQueue: 1000, deadline: () => Date.now() + 10_000, expired: unreachable },
    );
    const first = writer.enqueue(1);
    const started = Date.now();
    const late = writer.enqueue(2, Date.now() + 30);
    const batch = writer.enqueueAll([3, 4], Date.now() + 30);
    await expect(late).rejects.toBeInstanceOf(DatabaseUnreachable);
    const answers = await batch;
    expect(answers.every((answer) => answer instanceof DatabaseUnreachable)).toBe(true);
    expect(Date.now() - started).toBeLessThan(5_000);
    gate.resolve();
    await first;
    expect(sent).toEqual([1]);
  });

  it("hands each batch its earliest deadline, and retries items with time left once nothing was stored", async () => {
    const gate = deferred();
    const deadlines: (number | undefined)[] = [];
    const batches: number[][] = [];
    let deadline = Date.now() + 10_000;
    const writer = new BatchWriter<number>(
      async (items, batchDeadline) => {
        batches.push(items);
        deadlines.push(batchDeadline);
        if (batches.length === 1) await gate.promise;
        if (batches.length === 2) {
          await new Promise((resolve) => setTimeout(resolve, 40));
          throw unreachable();
        }
      },
      { maxBatch: 100, maxQueue: 1000, deadline: () => deadline },
    );
    const first = writer.enqueue(0);
    const far = deadline;
    deadline = Date.now() + 20;
    const early = writer.enqueue(1);
    const near = deadline;
    deadline = far;
    const late = writer.enqueue(2);
    gate.resolve();
    await first;
    // 1 and 2 share the batch given up at 1's deadline; 2, with time left, is tried again.
    await expect(early).rejects.toBeInstanceOf(DatabaseUnreachable);
    await late;
    expect(batches).toEqual([[0], [1, 2], [2]]);
    expect(deadlines).toEqual([far, near, far]);
  });

  it("never retries a batch whose commit outcome is unknown", async () => {
    let calls = 0;
    const writer = new BatchWriter<number>(
      async () => {
        calls++;
        throw new DatabaseUnreachable("unknown", 1, true);
      },
      { maxBatch: 100, maxQueue: 1000, deadline: () => Date.now() + 10_000 },
    );
    const results = await Promise.allSettled([writer.enqueue(1), writer.enqueue(2), writer.enqueue(3)]);
    expect(results.every((result) => result.status === "rejected")).toBe(true);
    expect(calls).toBe(2); // [1], then [2, 3]: each batch once, no item-by-item retry
  });
});
