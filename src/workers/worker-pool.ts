// A bounded pool of worker threads for CPU-bound work that would hold the event loop too long (domain-free).
// A task is a name and a structured-clonable input, answered by the worker's serveTasks (task-server.ts); it
// waits for the first free worker, and past maxQueue waiting tasks it is refused with Overloaded.
import { existsSync } from "node:fs";
import { join, relative, sep } from "node:path";
import { Worker } from "node:worker_threads";
import type { Logger } from "pino";
import { Overloaded } from "../errors";
import type { TaskReply, TaskRequest } from "./task-server";

export interface WorkerPoolOptions {
  /** The worker's script, compiled JavaScript (see compiledScript). */
  script: string;
  /** Worker threads at most; each is started when first needed (or by prestart) and runs one task at a time. */
  size: number;
  /**
   * A task each thread that prestart starts runs first, its answer dropped: the first real tasks then find
   * the thread's modules loaded and its code compiled by V8 (a cold thread took several times as long).
   */
  warmUp?: { task: string; input: unknown };
  /** Tasks waiting for a free worker at most; one more is refused (Overloaded, 503). */
  maxQueue: number;
  logger?: Logger;
}

interface Task {
  request: TaskRequest;
  resolve(value: unknown): void;
  reject(error: Error): void;
}

interface PoolWorker {
  thread: Worker;
  task: Task | null;
}

export class WorkerPool {
  private readonly workers: PoolWorker[] = [];
  private readonly queue: Task[] = [];
  private nextId = 0;
  private closed = false;

  constructor(private readonly options: WorkerPoolOptions) {}

  /** The task's answer, computed on a worker thread; rejects with the worker's error, or Overloaded. */
  run<T>(task: string, input: unknown): Promise<T> {
    if (this.closed) return Promise.reject(new Error("the worker pool is closed"));
    // Tasks wait only while every thread is busy (else dispatch hands them out at once): a full queue with
    // no thread free or left to start means the pool is saturated. maxQueue 0: never wait, still run.
    if (!this.hasFreeThread() && this.queue.length >= this.options.maxQueue) {
      return Promise.reject(new Overloaded("Too many computations are waiting, retry shortly"));
    }
    return new Promise<T>((resolve, reject) => {
      this.queue.push({
        request: { id: this.nextId++, task, input },
        resolve: resolve as (value: unknown) => void,
        reject,
      });
      this.dispatch();
    });
  }

  /**
   * Starts every thread now, each running the warm-up task first: a thread's start (loading its modules, about
   * 100 ms) and its cold code then delay no request. A task that arrives meanwhile waits for the warm-up.
   * Settles when every warm-up has (a failed one is logged: it costs only the first tasks' speed).
   */
  prestart(): Promise<void> {
    const { warmUp } = this.options;
    const warmUps: Promise<void>[] = [];
    for (let started = this.workers.length; started < this.options.size && !this.closed; started++) {
      if (!warmUp) {
        this.start();
        continue;
      }
      // Every thread started so far is busy with its warm-up: this one starts a thread of its own.
      warmUps.push(
        this.run(warmUp.task, warmUp.input).then(
          () => undefined,
          (error) => {
            if (!this.closed) this.options.logger?.warn({ err: error }, "a worker thread's warm-up failed");
          },
        ),
      );
    }
    return Promise.all(warmUps).then(() => undefined);
  }

  /** Worker threads at most: how many tasks can run at once. */
  get size(): number {
    return this.options.size;
  }

  /** Tasks waiting and running, and the threads started. */
  get load(): { queued: number; running: number; threads: number } {
    const running = this.workers.filter((worker) => worker.task !== null).length;
    return { queued: this.queue.length, running, threads: this.workers.length };
  }

  /** Refuses new tasks, fails the waiting ones, and stops every thread (a running task fails too). */
  async close(): Promise<void> {
    this.closed = true;
    for (const task of this.queue.splice(0)) task.reject(new Error("the worker pool is closed"));
    await Promise.all(this.workers.map((worker) => worker.thread.terminate()));
  }

  /** Whether a task would start at once: a thread idle, or one more that may be started. */
  private hasFreeThread(): boolean {
    return this.workers.length < this.options.size || this.workers.some((worker) => worker.task === null);
  }

  private dispatch(): void {
    while (this.queue.length > 0) {
      let worker = this.workers.find((candidate) => candidate.task === null);
      if (!worker && this.workers.length < this.options.size) worker = this.start();
      if (!worker) return;
      const task = this.queue.shift() as Task;
      worker.task = task;
      // A busy thread keeps the process alive; an idle one does not.
      worker.thread.ref();
      worker.thread.postMessage(task.request);
    }
  }

  private start(): PoolWorker {
    const worker: PoolWorker = { thread: new Worker(this.options.script), task: null };
    worker.thread.unref();
    worker.thread.on("message", (reply: TaskReply) => {
      const task = worker.task;
      if (!task || task.request.id !== reply.id) return;
      worker.task = null;
      worker.thread.unref();
      if ("error" in reply) task.reject(Object.assign(new Error(reply.error.message), { name: reply.error.name }));
      else task.resolve(reply.result);
      this.dispatch();
    });
    // A thread that fails outside a task's handler, or exits, is dropped; its task fails; the next task starts
    // a new one.
    const drop = (error: Error) => {
      const at = this.workers.indexOf(worker);
      if (at < 0) return;
      this.workers.splice(at, 1);
      const task = worker.task;
      worker.task = null;
      task?.reject(error);
      if (!this.closed) {
        this.options.logger?.error({ err: error }, "a worker thread failed");
        this.dispatch();
      }
    };
    worker.thread.on("error", drop);
    worker.thread.on("exit", (code) => drop(new Error(`the worker thread exited with code ${code}`)));
    this.workers.push(worker);
    return worker;
  }
}

/**
 * The compiled JavaScript of the module `name` in `directory` (a caller's __dirname): beside it when running
 * from dist/; when running the TypeScript sources (vitest), its counterpart under dist/, which the tests'
 * global setup builds. A worker thread runs JavaScript only.
 */
export function compiledScript(directory: string, name: string): string {
  const beside = join(directory, `${name}.js`);
  if (existsSync(beside)) return beside;
  const sources = directory.lastIndexOf(`${sep}src`);
  if (sources < 0) return beside;
  const root = directory.slice(0, sources);
  return join(root, "dist", relative(root, directory), `${name}.js`);
}
