// The worker-thread side of worker-pool.ts (domain-free): answers each task the pool posts with its
// handler's result, or with the error it threw (its name and message; a structured clone drops the class).
import { parentPort } from "node:worker_threads";

export interface TaskRequest {
  id: number;
  task: string;
  input: unknown;
}

export type TaskReply = { id: number; result: unknown } | { id: number; error: { name: string; message: string } };

// biome-ignore lint/suspicious/noExplicitAny: each handler declares its own input.
export type TaskHandlers = Record<string, (input: any) => unknown>;

/** Serves the pool's tasks on this worker thread, one at a time, until the pool terminates it. */
export function serveTasks(handlers: TaskHandlers): void {
  const port = parentPort;
  if (!port) throw new Error("serveTasks runs on a worker thread");
  port.on("message", async ({ id, task, input }: TaskRequest) => {
    try {
      const handler = handlers[task];
      if (!handler) throw new Error(`no handler for the task ${task}`);
      port.postMessage({ id, result: await handler(input) } satisfies TaskReply);
    } catch (error) {
      const { name, message } = error instanceof Error ? error : new Error(String(error));
      port.postMessage({ id, error: { name, message } } satisfies TaskReply);
    }
  });
}
