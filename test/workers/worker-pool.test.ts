// The statistics threads' pool on its own: tasks answered on worker threads, their errors, a bounded queue
// refused with Overloaded, a thread that dies replaced, and close() failing what waits and ending every thread.
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { Overloaded } from "../../src/errors";
import { compiledScript, WorkerPool } from "../../src/workers/worker-pool";

const SCRIPT = join(__dirname, "fixtures", "test-tasks.worker.js");
const pools: WorkerPool[] = [];
const pool = (size: number, maxQueue: number, warmUp?: { task: string; input: unknown }) => {
  const created = new WorkerPool({ script: SCRIPT, size, maxQueue, warmUp });
  pools.push(created);
  return created;
};
afterEach(async () => {
  await Promise.all(pools.splice(0).map((created) => created.close()));
});

describe("WorkerPool", () => {
  it("answers tasks on as many threads as it may start, started when first needed", async () => {
    const workers = pool(2, 10);
    expect(workers.load.threads).toBe(0);
    expect(await Promise.all([1, 2, 3, 4, 5].map((value) => workers.run<number>("square", value)))).toEqual([
      1, 4, 9, 16, 25,
    ]);
    expect(workers.load).toEqual({ queued: 0, running: 0, threads: 2 });
  });

  it("starts every thread on prestart, each running the warm-up task before the first real one", async () => {
    const workers = pool(2, 10, { task: "hold", input: 300 });
    const started = performance.now();
    workers.prestart();
    expect(workers.load).toEqual({ queued: 0, running: 2, threads: 2 });
    // Each thread is held by its warm-up: a task waits for it, and gets its own answer, not the warm-up's.
    expect(await Promise.all([workers.run<number>("square", 6), workers.run<number>("square", 7)])).toEqual([36, 49]);
    expect(performance.now() - started).toBeGreaterThanOrEqual(290);
    expect(workers.load.queued).toBe(0);
    workers.prestart();
    expect(workers.load.threads).toBe(2);
  });

  it("keeps serving when the warm-up task fails", async () => {
    const workers = pool(1, 10, { task: "fail", input: "no warm-up here" });
    workers.prestart();
    expect(await workers.run<number>("square", 5)).toBe(25);
  });

  it("rejects with the handler's error, by name and message", async () => {
    const failure = await pool(1, 1)
      .run("fail", "out of range")
      .catch((error: Error) => error);
    expect(failure).toBeInstanceOf(Error);
    expect(failure).toMatchObject({ name: "RangeError", message: "out of range" });
  });

  it("refuses a task past maxQueue waiting ones with Overloaded, and runs the others", async () => {
    const workers = pool(1, 2);
    const running = workers.run("hold", 300);
    const waiting = [workers.run<number>("square", 3), workers.run<number>("square", 4)];
    expect(workers.load).toEqual({ queued: 2, running: 1, threads: 1 });
    await expect(workers.run("square", 5)).rejects.toBeInstanceOf(Overloaded);
    expect(await running).toBe(300);
    expect(await Promise.all(waiting)).toEqual([9, 16]);
  });

  it("with maxQueue 0 runs a task on a free thread and refuses one only while every thread is busy", async () => {
    const workers = pool(1, 0);
    expect(await workers.run<number>("square", 3)).toBe(9);
    const running = workers.run("hold", 200);
    await expect(workers.run("square", 4)).rejects.toBeInstanceOf(Overloaded);
    expect(await running).toBe(200);
    expect(await workers.run<number>("square", 5)).toBe(25);
  });

  it("replaces a thread that ends, failing only its task", async () => {
    const workers = pool(1, 4);
    await expect(workers.run("exit", null)).rejects.toThrow(/exited with code 3/);
    expect(await workers.run<number>("square", 7)).toBe(49);
  });

  it("fails waiting and running tasks on close, ends its threads, and refuses new tasks", async () => {
    const workers = pool(1, 4);
    const running = workers.run("hold", 2_000).catch((error: Error) => error);
    const waiting = workers.run("square", 2).catch((error: Error) => error);
    const started = performance.now();
    await workers.close();
    expect(performance.now() - started).toBeLessThan(1_000);
    expect(await waiting).toBeInstanceOf(Error);
    expect(await running).toBeInstanceOf(Error);
    expect(workers.load.threads).toBe(0);
    await expect(workers.run("square", 2)).rejects.toThrow(/closed/);
  });
});

describe("compiledScript", () => {
  it("is the module itself under dist/, and its compiled counterpart for the TypeScript sources", () => {
    const root = join(__dirname, "..", "..");
    expect(compiledScript(join(root, "src", "rules"), "rule-figures.worker")).toBe(
      join(root, "dist", "src", "rules", "rule-figures.worker.js"),
    );
    expect(compiledScript(join(root, "dist", "src", "rules"), "rule-figures.worker")).toBe(
      join(root, "dist", "src", "rules", "rule-figures.worker.js"),
    );
  });
});
