// Logs stay proportional to what went wrong, not to the size of the request: a failed DataLoader
// batch is logged once, with its SQL and parameters cut, whatever the number of entities it held.
import { createRequire } from "node:module";
import { createConnection } from "mysql2/promise";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../helpers/database";
import {
  adminCommand,
  freePort,
  MAIN,
  type RunningProgram,
  startProgram,
  waitUntilAnswering,
} from "../helpers/processes";

let database: TestDatabase;
let server: RunningProgram;
let url: string;
let apiKey: string;

/** Makes every read of conversions fail, as a broken table or a lost grant would. */
async function breakConversionsTable(): Promise<void> {
  if (database.kind === "sqlite") {
    const Sqlite = createRequire(__filename)("better-sqlite3");
    const connection = new Sqlite(database.env.SQLITE_PATH);
    connection.exec("ALTER TABLE conversions RENAME TO conversions_gone");
    connection.close();
    return;
  }
  const connection = await createConnection({ uri: database.env.DATABASE_URL as string });
  await connection.query("RENAME TABLE conversions TO conversions_gone");
  await connection.end();
}

beforeAll(async () => {
  database = await createTestDatabase();
  const { id } = await adminCommand<{ id: string }>(["org:create", "--name", "Logs"], database.env);
  ({ key: apiKey } = await adminCommand<{ key: string }>(["apikey:create", "--org", id], database.env));
  const port = await freePort();
  url = `http://127.0.0.1:${port}`;
  server = startProgram(MAIN, [], { ...database.env, HOST: "127.0.0.1", PORT: String(port), LOG_LEVEL: "info" });
  await waitUntilAnswering(`${url}/health`, server, "main.js");
  await breakConversionsTable();
});
afterAll(async () => {
  server?.child.kill("SIGTERM");
  await server?.exited;
  await database?.drop();
});

describe("a failed batch of 1,000 entities", () => {
  it("is logged once, every line under 2 KB, the whole under 50 KB", async () => {
    const before = server.stdout().length;
    const representations = Array.from({ length: 1000 }, (_, index) => ({
      __typename: "Conversion",
      id: `${"x".repeat(30)}-${index}`,
    }));
    const response = await fetch(`${url}/graphql`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-api-key": apiKey },
      body: JSON.stringify({
        query: "query($r: [_Any!]!) { _entities(representations: $r) { ... on Conversion { id } } }",
        variables: { r: representations },
      }),
    });
    const body: any = await response.json();
    expect(body.errors).toHaveLength(1000);
    expect(body.errors[0]).toMatchObject({
      message: "Internal server error",
      extensions: { code: "INTERNAL_SERVER_ERROR" },
    });
    expect(JSON.stringify(body)).not.toMatch(/conversions_gone|SELECT|no such table/i);
    await new Promise((resolve) => setTimeout(resolve, 300));
    const written = server.stdout().slice(before);
    const lines = written.split("\n").filter(Boolean);
    const failures = lines.filter((line) => line.includes("GraphQL operation failed"));
    expect(failures).toHaveLength(1);
    for (const line of lines) expect(Buffer.byteLength(line)).toBeLessThanOrEqual(2048);
    expect(Buffer.byteLength(written)).toBeLessThanOrEqual(50 * 1024);
  });
});
