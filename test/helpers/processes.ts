// Runs the compiled programs as users do (`node dist/src/...`, built by the global setup), and
// reads what they stored straight from the database with its driver, not through the service.
import { type ChildProcess, spawn } from "node:child_process";
import { createRequire } from "node:module";
import { createServer } from "node:net";
import { join } from "node:path";
import { createConnection } from "mysql2/promise";
import { CONFIG_VARIABLES } from "../../src/config";
import type { TestDatabase } from "./database";

const ROOT = join(__dirname, "..", "..");
export const ADMIN_CLI = join(ROOT, "dist", "src", "admin", "cli.js");
export const MAIN = join(ROOT, "dist", "src", "main.js");
export const MIGRATE_CLI = join(ROOT, "dist", "src", "db", "migrate-cli.js");

export type ProgramEnv = Record<string, string | undefined>;

function childEnv(env: ProgramEnv): NodeJS.ProcessEnv {
  const inherited: NodeJS.ProcessEnv = { ...process.env };
  for (const name of [...CONFIG_VARIABLES, "NODE_OPTIONS"]) delete inherited[name];
  return { ...inherited, ...env };
}

export interface ProcessResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** True when the test killed it for running too long. */
  timedOut: boolean;
}

export interface RunningProgram {
  child: ChildProcess;
  /** Output so far. */
  stdout(): string;
  stderr(): string;
  /** Settles when the process has exited and its output is closed. */
  exited: Promise<ProcessResult>;
}

/** Starts `node <script> ...args`; kills it with SIGKILL if it outlives timeoutMs. */
export function startProgram(script: string, args: string[], env: ProgramEnv, timeoutMs = 60_000): RunningProgram {
  const child = spawn(process.execPath, [script, ...args], { env: childEnv(env), stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
    stdout += chunk;
  });
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
    stderr += chunk;
  });
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    child.kill("SIGKILL");
  }, timeoutMs);
  const exited = new Promise<ProcessResult>((resolve, reject) => {
    child.on("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, timedOut });
    });
  });
  return { child, stdout: () => stdout, stderr: () => stderr, exited };
}

export function runProgram(script: string, args: string[], env: ProgramEnv, timeoutMs?: number) {
  return startProgram(script, args, env, timeoutMs).exited;
}

/** `npm run admin -- ...args`, whatever its outcome. */
export function runAdmin(args: string[], env: ProgramEnv, timeoutMs?: number): Promise<ProcessResult> {
  return runProgram(ADMIN_CLI, args, { LOG_LEVEL: "silent", ...env }, timeoutMs);
}

/**
 * The JSON object an admin command printed: exactly one, on the last line of stdout. Throws,
 * naming what is wrong, when the output breaks that contract.
 */
export function adminResult<T = Record<string, unknown>>(stdout: string): T {
  if (!stdout.endsWith("\n")) throw new Error(`stdout does not end with a line break: ${JSON.stringify(stdout)}`);
  const lines = stdout.slice(0, -1).split("\n");
  const parse = (line: string) => {
    try {
      return JSON.parse(line) as unknown;
    } catch {
      return undefined;
    }
  };
  const isObject = (value: unknown) => value !== null && typeof value === "object" && !Array.isArray(value);
  const last = parse(lines[lines.length - 1]);
  if (!isObject(last)) throw new Error(`the last line of stdout is not a JSON object: ${JSON.stringify(stdout)}`);
  if (lines.slice(0, -1).some((line) => isObject(parse(line))))
    throw new Error(`stdout holds more than one JSON object: ${JSON.stringify(stdout)}`);
  return last as T;
}

/** Runs an admin command that must succeed (exit 0, one JSON object) and returns its object. */
export async function adminCommand<T = Record<string, unknown>>(
  args: string[],
  env: ProgramEnv,
  timeoutMs?: number,
): Promise<T> {
  const run = await runAdmin(args, env, timeoutMs);
  if (run.code !== 0)
    throw new Error(`admin ${args.join(" ")} exited with ${run.code ?? run.signal}: ${run.stderr.trim()}`);
  return adminResult<T>(run.stdout);
}

/**
 * Resolves once GET `url` answers 200. Throws, with the program's stderr, when it exits first, and
 * when it does not answer within `timeoutMs`.
 */
export async function waitUntilAnswering(
  url: string,
  program: RunningProgram,
  name: string,
  timeoutMs = 30_000,
): Promise<void> {
  let exit: ProcessResult | undefined;
  program.exited.then(
    (result) => {
      exit = result;
    },
    () => {}, // a failure to spawn surfaces where the test awaits `exited`
  );
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (exit) throw new Error(`${name} exited with ${exit.code ?? exit.signal} before it answered: ${exit.stderr}`);
    try {
      const response = await fetch(url);
      if (response.status === 200) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${name} did not answer GET ${url} within ${timeoutMs / 1000} s: ${program.stderr()}`);
}

/** A TCP port nobody listens on right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

interface SqliteConnection {
  prepare(sql: string): { all(...params: unknown[]): unknown[] };
  close(): void;
}
type SqliteConstructor = new (path: string, options: { readonly: boolean; fileMustExist: boolean }) => SqliteConnection;

/** Runs one SQL query (`?` placeholders) on a test database over a connection of its own. */
export async function queryDatabase<T = Record<string, unknown>>(
  database: TestDatabase,
  sql: string,
  params: unknown[] = [],
): Promise<T[]> {
  if (database.kind === "sqlite") {
    const Sqlite = createRequire(__filename)("better-sqlite3") as SqliteConstructor;
    const connection = new Sqlite(database.env.SQLITE_PATH, { readonly: true, fileMustExist: true });
    try {
      return connection.prepare(sql).all(...params) as T[];
    } finally {
      connection.close();
    }
  }
  const connection = await createConnection({ uri: database.env.DATABASE_URL as string });
  try {
    const [rows] = await connection.query(sql, params);
    return rows as T[];
  } finally {
    await connection.end();
  }
}
