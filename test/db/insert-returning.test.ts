// INSERT ... RETURNING where the database has it (MariaDB 10.5+): the split-test writer learns
// which fact rows its batch inserted, and the visitors' outcome counts after its upsert, from the
// INSERT itself instead of reading them back. Elsewhere (SQLite here, MySQL) the rows are written
// and then read back. Runs on SQLite and on MariaDB (TEST_DATABASE_URL).
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

/** insertRowsReturning into the probe table, counting the read-backs it needed. */
async function write<T>(
  rows: unknown[][],
  conflict: Parameters<typeof insertRowsReturning>[4],
  returning: string[],
  readBackSql: string,
) {
  let readBacks = 0;
  const answered = await insertRowsReturning<T>(
    dataSource.manager,
    "returning_probe",
    columns,
    rows,
    conflict,
    returning,
    () => {
      readBacks++;
      return dataSource.query(readBackSql);
    },
  );
  return { answered, readBacks };
}

describe("insertRowsReturning", () => {
  it("answers every row named: inserted ones as written, conflicting ones as they stand", async () => {
    await insertRows(dataSource.manager, "returning_probe", columns, [["a", "old", 5]]);
    const facts = await write<{ key_hash: string; batch_id: string }>(
      [
        ["a", "new", 1],
        ["b", "new", 1],
      ],
      { conflictKey: ["key_hash"] },
      ["key_hash", "batch_id"],
      "SELECT key_hash, batch_id FROM returning_probe WHERE key_hash IN ('a', 'b')",
    );
    // The batch id tells the row this statement inserted from the one that was there.
    expect(byKeyHash(facts.answered)).toEqual([
      { key_hash: "a", batch_id: "old" },
      { key_hash: "b", batch_id: "new" },
    ]);
    const counts = await write<{ key_hash: string; n: number }>(
      [
        ["a", "x", 2],
        ["c", "x", 3],
      ],
      { conflictKey: ["key_hash"], updates: { n: "add" } },
      ["key_hash", "n"],
      "SELECT key_hash, n FROM returning_probe WHERE key_hash IN ('a', 'c')",
    );
    expect(byKeyHash(counts.answered).map((row) => [row.key_hash, Number(row.n)])).toEqual([
      ["a", 7],
      ["c", 3],
    ]);
    // From the INSERT itself on MariaDB; read back where the database cannot return (SQLite here).
    const canReturn = Boolean(testServerUrl());
    expect(insertCanReturn(dataSource.manager)).toBe(canReturn);
    expect([facts.readBacks, counts.readBacks]).toEqual(canReturn ? [0, 0] : [1, 1]);
  });

  it("writes nothing and reads nothing back for no rows", async () => {
    const none = await write([], undefined, ["key_hash"], "SELECT key_hash FROM returning_probe");
    expect(none).toEqual({ answered: [], readBacks: 0 });
  });
});
