// INSERT ... RETURNING where the database has it (MariaDB 10.5+): the split-test writer learns
// which fact rows its batch inserted, and the visitors' outcome counts after its upsert, from the
// INSERT itself instead of reading them back. Elsewhere (SQLite here, MySQL) it is refused and the
// writer reads back. Runs on SQLite and on MariaDB (TEST_DATABASE_URL).
import "reflect-metadata";
import type { DataSource } from "typeorm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openDatabase, resolveDatabaseTarget } from "../../src/db/data-source";
import { insertCanReturn, insertRows, insertRowsReturning } from "../../src/db/sql";
import { entities } from "../../src/services";
import { createTestDatabase, type TestDatabase, testServerUrl } from "../helpers/database";

let database: TestDatabase;
let dataSource: DataSource;

beforeAll(async () => {
  database = await createTestDatabase();
  dataSource = await openDatabase(await resolveDatabaseTarget(database.env), entities);
  await dataSource.query(
    "CREATE TABLE returning_probe (key_hash VARCHAR(64) PRIMARY KEY, batch_id VARCHAR(36), n INT)",
  );
});
afterAll(async () => {
  await dataSource?.destroy();
  await database?.drop();
});

const columns = ["key_hash", "batch_id", "n"];
const byKeyHash = <T extends { key_hash: string }>(rows: T[]) =>
  [...rows].sort((a, b) => (a.key_hash < b.key_hash ? -1 : 1));

describe("insertRowsReturning", () => {
  if (!testServerUrl()) {
    it("is refused where the database cannot return the rows of an INSERT (SQLite)", async () => {
      expect(insertCanReturn(dataSource.manager)).toBe(false);
      await expect(
        insertRowsReturning(dataSource.manager, "returning_probe", columns, [["z", "b0", 1]], undefined, ["key_hash"]),
      ).rejects.toThrow("cannot return");
      expect(await dataSource.query("SELECT key_hash FROM returning_probe WHERE key_hash = 'z'")).toEqual([]);
    });
    return;
  }

  it("answers every row named: inserted ones as written, conflicting ones as they stand (MariaDB)", async () => {
    const manager = dataSource.manager;
    expect(insertCanReturn(manager)).toBe(true);
    await insertRows(manager, "returning_probe", columns, [["a", "old", 5]]);
    const facts = await insertRowsReturning<{ key_hash: string; batch_id: string }>(
      manager,
      "returning_probe",
      columns,
      [
        ["a", "new", 1],
        ["b", "new", 1],
      ],
      { conflictKey: ["key_hash"] },
      ["key_hash", "batch_id"],
    );
    // The batch id tells the row this statement inserted from the one that was there.
    expect(byKeyHash(facts)).toEqual([
      { key_hash: "a", batch_id: "old" },
      { key_hash: "b", batch_id: "new" },
    ]);
    const counts = await insertRowsReturning<{ key_hash: string; n: number }>(
      manager,
      "returning_probe",
      columns,
      [
        ["a", "x", 2],
        ["c", "x", 3],
      ],
      { conflictKey: ["key_hash"], updates: { n: "add" } },
      ["key_hash", "n"],
    );
    expect(byKeyHash(counts).map((row) => [row.key_hash, Number(row.n)])).toEqual([
      ["a", 7],
      ["c", 3],
    ]);
  });
});
