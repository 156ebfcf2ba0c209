// The reviewed migrations and the entities agree: after migrating a fresh database, TypeORM
// finds nothing left to change. Runs on SQLite and on MariaDB (TEST_DATABASE_URL).
import "reflect-metadata";
import type { DataSource } from "typeorm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type DatabaseTarget, openDatabase, resolveDatabaseTarget } from "../../src/db/data-source";
import { entities } from "../../src/services";
import { createTestDatabase, type TestDatabase } from "../helpers/database";

let database: TestDatabase;
let target: DatabaseTarget;
let dataSource: DataSource;

beforeAll(async () => {
  database = await createTestDatabase();
  target = await resolveDatabaseTarget(database.env);
  dataSource = await openDatabase(target, entities);
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

  // TypeORM's schema builder does not compare collations, so the check above cannot see them.
  it("give every text column the collation its entity declares, else its table's", async () => {
    const declared = dataSource.entityMetadatas.flatMap((entity) =>
      // MariaDB's JSON is LONGTEXT with a fixed collation of its own (utf8mb4_bin).
      entity.columns
        .filter((column) => column.type !== "json")
        .map((column) => ({
          table: entity.tableName,
          column: column.databaseName,
          collation: column.collation,
        })),
    );
    if (database.kind === "sqlite") {
      // SQLite compares bytes (BINARY) unless told otherwise: nothing may tell it otherwise.
      expect(declared.filter((column) => column.collation !== undefined)).toEqual([]);
      const ddl: { sql: string }[] = await dataSource.query("SELECT sql FROM sqlite_master WHERE sql IS NOT NULL");
      expect(ddl.filter((row) => /collate/i.test(row.sql))).toEqual([]);
      return;
    }
    const actual: { table: string; column: string; collation: string; tableCollation: string }[] =
      await dataSource.query(
        `SELECT c.TABLE_NAME AS \`table\`, c.COLUMN_NAME AS \`column\`, c.COLLATION_NAME AS collation,
                t.TABLE_COLLATION AS tableCollation
           FROM information_schema.COLUMNS c
           JOIN information_schema.TABLES t ON t.TABLE_SCHEMA = c.TABLE_SCHEMA AND t.TABLE_NAME = c.TABLE_NAME
          WHERE c.TABLE_SCHEMA = DATABASE() AND c.COLLATION_NAME IS NOT NULL AND c.TABLE_NAME <> 'migrations'`,
      );
    expect(declared.filter((column) => column.collation !== undefined).length).toBeGreaterThan(10);
    const text = actual.filter((row) =>
      declared.some((column) => column.table === row.table && column.column === row.column),
    );
    const expected = text.map((row) => {
      const entityColumn = declared.find((column) => column.table === row.table && column.column === row.column);
      return { ...row, collation: entityColumn?.collation ?? row.tableCollation };
    });
    expect(text).toEqual(expected);
    const exact = target.kind === "mariadb" ? "utf8mb4_nopad_bin" : "utf8mb4_0900_bin";
    expect(actual.filter((row) => row.table === "contacts" && row.column === "email")).toEqual([
      expect.objectContaining({ collation: exact }),
    ]);
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
