// The reviewed migrations and the entities agree: after migrating a fresh database, TypeORM
// finds nothing left to change. Runs on SQLite and on MariaDB (TEST_DATABASE_URL).
import "reflect-metadata";
import type { DataSource } from "typeorm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openDatabase, resolveDatabaseTarget } from "../../src/db/data-source";
import { entities } from "../../src/services";
import { createTestDatabase, type TestDatabase } from "../helpers/database";

let database: TestDatabase;
let dataSource: DataSource;

beforeAll(async () => {
  database = await createTestDatabase();
  dataSource = await openDatabase(await resolveDatabaseTarget(database.env), entities);
});
afterAll(async () => {
  await dataSource?.destroy();
  await database?.drop();
});

describe("migrations", () => {
  it("leave no schema change pending for the entities", async () => {
    const pending = await dataSource.driver.createSchemaBuilder().log();
    expect(pending.upQueries.map((query) => query.query)).toEqual([]);
  });

  it("are all applied, and applying again changes nothing", async () => {
    expect(await dataSource.showMigrations()).toBe(false);
    expect(await dataSource.runMigrations()).toEqual([]);
  });

  it("pick the driver from the server itself", async () => {
    const target = await resolveDatabaseTarget(database.env);
    if (database.kind === "sqlite") expect(target.kind).toBe("sqlite");
    else expect(["mysql", "mariadb"]).toContain(target.kind);
    const [row] =
      database.kind === "sqlite" ? [{ version: "sqlite" }] : await dataSource.query("SELECT VERSION() AS version");
    if (target.kind === "mariadb") expect(row.version).toMatch(/mariadb/i);
  });
});
