// A fresh database per test file: a temporary SQLite file, or a new database on the MariaDB/MySQL
// server named by TEST_DATABASE_URL. A server that cannot be reached fails the run.
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createConnection } from "mysql2/promise";

export interface TestDatabase {
  kind: "sqlite" | "mysql";
  /** Settings for loadConfig(): DATABASE_URL or SQLITE_PATH. */
  env: { DATABASE_URL?: string; SQLITE_PATH: string };
  drop(): Promise<void>;
}

export function testServerUrl(): string | undefined {
  return process.env.TEST_DATABASE_URL?.trim() || undefined;
}

export async function assertTestDatabaseReachable(): Promise<void> {
  const url = testServerUrl();
  if (!url) return;
  try {
    const connection = await createConnection({ uri: url.replace(/^mariadb:/, "mysql:"), connectTimeout: 5_000 });
    await connection.end();
  } catch (error) {
    throw new Error(`TEST_DATABASE_URL=${url} is not reachable: ${(error as Error).message}`);
  }
}

export async function createTestDatabase(): Promise<TestDatabase> {
  const serverUrl = testServerUrl();
  if (!serverUrl) {
    const dir = mkdtempSync(join(tmpdir(), "conversions-test-"));
    return {
      kind: "sqlite",
      env: { SQLITE_PATH: join(dir, "test.sqlite") },
      drop: async () => rmSync(dir, { recursive: true, force: true }),
    };
  }
  const name = `conv_test_${randomBytes(6).toString("hex")}`;
  const admin = await createConnection({ uri: serverUrl.replace(/^mariadb:/, "mysql:") });
  await admin.query(`CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`);
  await admin.end();
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return {
    kind: "mysql",
    env: { DATABASE_URL: url.toString(), SQLITE_PATH: "./unused.sqlite" },
    drop: async () => {
      const connection = await createConnection({ uri: serverUrl.replace(/^mariadb:/, "mysql:") });
      await connection.query(`DROP DATABASE IF EXISTS \`${name}\``);
      await connection.end();
    },
  };
}
