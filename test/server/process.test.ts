// The service as a process, run compiled as users run it: `node dist/src/main.js`. It refuses to
// start on a bad configuration or an unusable database with one line on stderr and exit code 1,
// and on SIGTERM it answers what is in flight, stores every event it acknowledged, and exits 0.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { request as httpRequest } from "node:http";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase, testServerUrl } from "../helpers/database";
import {
  adminCommand,
  freePort,
  MAIN,
  MIGRATE_CLI,
  type ProcessResult,
  type ProgramEnv,
  queryDatabase,
  runProgram,
  startProgram,
  waitUntilAnswering,
} from "../helpers/processes";

let scratch: string;
beforeAll(() => {
  scratch = mkdtempSync(join(tmpdir(), "process-test-"));
});
afterAll(() => {
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

/** Starting must fail fast: one line on stderr, no stack trace, exit code 1. */
function expectOneLineFailure(run: ProcessResult, message: RegExp) {
  expect(run.timedOut).toBe(false);
  expect(run.code).toBe(1);
  expect(run.stderr.endsWith("\n")).toBe(true);
  expect(run.stderr.trimEnd().split("\n")).toEqual([expect.stringMatching(message)]);
  expect(run.stderr).not.toContain("    at ");
}

function start(env: ProgramEnv) {
  return runProgram(MAIN, [], { HOST: "127.0.0.1", PORT: "0", ...env }, 30_000);
}

describe("start-up failures", () => {
  it("a DATABASE_URL of an unsupported kind", async () => {
    const run = await start({ DATABASE_URL: "postgres://db.example.com/conversions" });
    expectOneLineFailure(run, /DATABASE_URL must start with mysql:\/\/, mariadb:\/\/ or sqlite:/);
  });

  it("a SQLite file that is not a database", async () => {
    const path = join(scratch, "notes.sqlite");
    writeFileSync(path, "These are my notes, not a database.\n".repeat(200));
    const run = await start({ SQLITE_PATH: path });
    expectOneLineFailure(run, /Cannot open sqlite .*notes\.sqlite: file is not a database/);
  });

  it("a MySQL server that refuses connections", async () => {
    const port = await freePort();
    const run = await start({ DATABASE_URL: `mysql://conversions:s3cret-pw@127.0.0.1:${port}/conversions` });
    expectOneLineFailure(run, new RegExp(`Cannot connect to 127\\.0\\.0\\.1:${port}/conversions: connection refused`));
    expect(run.stderr).not.toContain("s3cret-pw");
  });

  it("a port already taken", async () => {
    const port = await freePort();
    const taken: Server = createServer();
    await new Promise<void>((resolve) => taken.listen(port, "127.0.0.1", resolve));
    try {
      const run = await start({ SQLITE_PATH: join(scratch, "port-taken.sqlite"), PORT: String(port) });
      expectOneLineFailure(run, /EADDRINUSE/);
    } finally {
      await new Promise((resolve) => taken.close(resolve));
    }
  });

  const serverUrl = testServerUrl();
  if (serverUrl) {
    it("a MySQL database that does not exist", async () => {
      const url = new URL(serverUrl);
      url.pathname = `/conv_missing_${Date.now().toString(36)}`;
      const run = await start({ DATABASE_URL: url.toString() });
      expectOneLineFailure(run, /Database does not exist at .*conv_missing_.*: create it first/);
    });

    it("a MySQL user that does not exist", async () => {
      const url = new URL(serverUrl);
      // A fixed name, so that the server answers the same on every run: MariaDB fakes the handshake
      // of an unknown user with one of its real accounts, chosen by a hash of the name.
      url.username = "conversions_no_such_user";
      url.password = "wrong-pw-123";
      const run = await start({ DATABASE_URL: url.toString() });
      expectOneLineFailure(run, /Access denied to .*: check the user and password in DATABASE_URL/);
      expect(run.stderr).not.toContain("wrong-pw-123");
    });

    it("a wrong password", async () => {
      const url = new URL(serverUrl);
      url.password = "wrong-pw-123";
      const run = await start({ DATABASE_URL: url.toString() });
      expectOneLineFailure(run, /Access denied to .*: check the user and password in DATABASE_URL/);
      expect(run.stderr).not.toContain("wrong-pw-123");
    });
  }
});

describe("invalid configuration", () => {
  const cases: [string, ProgramEnv, RegExp][] = [
    ["PORT=abc", { PORT: "abc" }, /^Invalid configuration: PORT: /],
    ["PORT=70000", { PORT: "70000" }, /^Invalid configuration: PORT: /],
    ["LOG_LEVEL=loud", { LOG_LEVEL: "loud" }, /^Invalid configuration: LOG_LEVEL: /],
    ["SHUTDOWN_TIMEOUT_MS=soon", { SHUTDOWN_TIMEOUT_MS: "soon" }, /^Invalid configuration: SHUTDOWN_TIMEOUT_MS: /],
  ];
  for (const [label, env, message] of cases) {
    it(`${label} stops it, naming the variable`, async () => {
      const run = await start({ SQLITE_PATH: join(scratch, "config.sqlite"), ...env });
      expectOneLineFailure(run, message);
    });
  }
});

describe("npm run migrate", () => {
  it("applies the migrations to a fresh database, prints them, and changes nothing the second time", async () => {
    const database = await createTestDatabase();
    try {
      const first = await runProgram(MIGRATE_CLI, [], { ...database.env, LOG_LEVEL: "silent" }, 60_000);
      expect(first.code).toBe(0);
      const report = JSON.parse(first.stdout.trim().split("\n").at(-1) as string);
      expect(report.migrations).toEqual([
        "InitialSchema1764072000000",
        "SplitTests1764158400000",
        "ExactIdentifiers1764244800000",
      ]);
      const again = await runProgram(MIGRATE_CLI, [], { ...database.env, LOG_LEVEL: "silent" }, 60_000);
      expect(again.code).toBe(0);
      expect(JSON.parse(again.stdout.trim()).migrations).toEqual(report.migrations);
      const tables = await queryDatabase<{ n: number | string }>(
        database,
        database.kind === "sqlite"
          ? "SELECT COUNT(*) AS n FROM sqlite_master WHERE type = 'table' AND name = 'rule_outcome_daily_stats'"
          : "SELECT COUNT(*) AS n FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name = 'rule_outcome_daily_stats'",
        [],
      );
      expect(Number(tables[0].n)).toBe(1);
    } finally {
      await database.drop();
    }
  });

  it("creates the folder of the default SQLite file", async () => {
    const path = join(scratch, "nested", "deeper", "conversions.sqlite");
    const run = await runProgram(MIGRATE_CLI, [], { SQLITE_PATH: path }, 60_000);
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout.trim()).database).toContain(path);
  });
});

describe("graceful shutdown on SIGTERM", () => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createTestDatabase();
  });
  afterAll(() => database?.drop());

  it("answers or refuses every request in flight, stores every event it acknowledged, and exits 0", async () => {
    const env = { ...database.env };
    const { id: organisationId } = await adminCommand<{ id: string }>(["org:create", "--name", "Shutdown"], env);
    const { key } = await adminCommand<{ key: string }>(["apikey:create", "--org", organisationId], env);
    await adminCommand(["contacts:add", "--org", organisationId, "--email", "buyer@example.com"], env);

    const port = await freePort();
    const server = startProgram(
      MAIN,
      [],
      // A grace period generous enough for a slow machine: hitting it would exit 1 and fail the test.
      {
        ...env,
        HOST: "127.0.0.1",
        PORT: String(port),
        LOG_LEVEL: "info",
        NODE_ENV: "production",
        SHUTDOWN_TIMEOUT_MS: "30000",
      },
      60_000,
    );
    await waitUntilAnswering(`http://127.0.0.1:${port}/health`, server, "main.js");

    const REQUESTS = 300;
    let answered = 0;
    const outcomes = await Promise.all(
      Array.from({ length: REQUESTS }, async (_, index) => {
        try {
          const status = await postConversion(port, key, `shutdown-${index}`, {
            email: "buyer@example.com",
            conversion_type: `shutdown-${index}`,
          });
          // The first answer is in: stop the server while the others are still outstanding.
          if (answered++ === 0) server.child.kill("SIGTERM");
          return { index, status };
        } catch (error) {
          return { index, error: (error as NodeJS.ErrnoException).code ?? String(error) };
        }
      }),
    );
    const exit = await server.exited;

    expect(exit.timedOut).toBe(false);
    expect(exit.signal).toBeNull();
    expect(exit.code).toBe(0);

    // Refused during shutdown is fine (503, or the connection closed); failing is not.
    const statuses = outcomes.flatMap((outcome) => (outcome.status === undefined ? [] : [outcome.status]));
    expect(statuses.filter((status) => status !== 202 && status !== 503)).toEqual([]);
    const acknowledged = outcomes.filter((outcome) => outcome.status === 202).map((outcome) => outcome.index);
    expect(acknowledged.length).toBeGreaterThan(0);

    // Every 202 is a stored row; none is stored twice.
    const rows = await queryDatabase<{ conversion_type: string }>(
      database,
      "SELECT conversion_type FROM conversions WHERE organisation_id = ?",
      [organisationId],
    );
    const stored = rows.map((row) => row.conversion_type);
    expect(new Set(stored).size).toBe(stored.length);
    const storedIndexes = new Set(stored.map((type) => Number(type.replace("shutdown-", ""))));
    expect(acknowledged.filter((index) => !storedIndexes.has(index))).toEqual([]);

    // Every request the server began to handle was answered, and nothing went wrong on the way down.
    const log = exit.stdout
      .split("\n")
      .filter((line) => line.startsWith("{"))
      .map((line) => JSON.parse(line) as { level: number; reqId?: string; req?: unknown; res?: unknown });
    const begun = log.filter((entry) => entry.req && entry.reqId?.startsWith("shutdown-")).map((entry) => entry.reqId);
    const finished = new Set(log.filter((entry) => entry.res).map((entry) => entry.reqId));
    const answeredIds = new Set(
      outcomes.filter((outcome) => outcome.status).map((outcome) => `shutdown-${outcome.index}`),
    );
    expect(begun.length).toBeGreaterThan(0);
    expect(begun.filter((id) => !finished.has(id) || !answeredIds.has(id as string))).toEqual([]);
    expect(log.filter((entry) => entry.level >= 50)).toEqual([]);
  }, 90_000);
});

/**
 * POST /api/v2/conversions on a connection of its own (Connection: close), as a webhook sender
 * does; resolves with the status, rejects when the connection fails.
 */
function postConversion(port: number, apiKey: string, requestId: string, body: unknown): Promise<number> {
  return new Promise((resolve, reject) => {
    const request = httpRequest(
      {
        host: "127.0.0.1",
        port,
        path: "/api/v2/conversions",
        method: "POST",
        agent: false,
        headers: { "content-type": "application/json", "x-api-key": apiKey, "x-request-id": requestId },
      },
      (response) => {
        response.resume();
        response.on("end", () => resolve(response.statusCode as number));
        response.on("error", reject);
      },
    );
    request.on("error", reject);
    request.end(JSON.stringify(body));
  });
}
