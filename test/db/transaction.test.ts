// Bounded transactions (the writer's): on MySQL they run on connections of their own with
// autocommit off, kept between transactions, so that no START TRANSACTION is sent. What must hold:
// a commit stores everything, a failure stores nothing and leaves the connection clean for the
// next transaction, a transaction given up at its deadline stores nothing, and the pool's other
// connections still commit every plain statement at once. Runs on SQLite and on MariaDB
// (TEST_DATABASE_URL).
import "reflect-metadata";
import type { DataSource } from "typeorm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openDatabase, resolveDatabaseTarget } from "../../src/db/data-source";
import { runInTransaction, type TransactionBound } from "../../src/db/transaction";
import { entities } from "../../src/services";
import { createTestDatabase, type TestDatabase, testServerUrl } from "../helpers/database";

let database: TestDatabase;
let dataSource: DataSource;
/** A second data source on the same database: sees only what is committed. */
let observer: DataSource;

beforeAll(async () => {
  database = await createTestDatabase();
  const target = await resolveDatabaseTarget(database.env);
  dataSource = await openDatabase(target, entities);
  observer = await openDatabase(target, entities);
  await dataSource.query("CREATE TABLE tx_probe (id VARCHAR(40) PRIMARY KEY, note VARCHAR(40))");
});
afterAll(async () => {
  await observer?.destroy();
  await dataSource?.destroy();
  await database?.drop();
});

class GivenUp extends Error {}

function bound(ms = 5_000): TransactionBound {
  return { deadline: Date.now() + ms, unreachable: () => new GivenUp() };
}

const stored = async (id: string) =>
  (await observer.query("SELECT id FROM tx_probe WHERE id = ?", [id])).length as number;

const isMysql = () => database.kind === "mysql";
/** Only registered on MySQL, where bounded transactions have connections of their own. */
const onMysql = testServerUrl() ? it : () => undefined;

describe("bounded transactions", () => {
  it("store every statement of the work once committed, and nothing before", async () => {
    let seenBeforeCommit = -1;
    await runInTransaction(
      dataSource,
      async (manager) => {
        await manager.query("INSERT INTO tx_probe (id, note) VALUES (?, ?)", ["c1", "a"]);
        await manager.query("INSERT INTO tx_probe (id, note) VALUES (?, ?)", ["c2", "b"]);
        if (isMysql()) seenBeforeCommit = await stored("c1");
      },
      bound(),
    );
    expect(await stored("c1")).toBe(1);
    expect(await stored("c2")).toBe(1);
    if (isMysql()) expect(seenBeforeCommit).toBe(0);
  });

  it("store nothing of a failed work, and the next transaction commits only its own rows", async () => {
    await expect(
      runInTransaction(
        dataSource,
        async (manager) => {
          await manager.query("INSERT INTO tx_probe (id, note) VALUES (?, ?)", ["f1", "kept?"]);
          throw new Error("the work failed");
        },
        bound(),
      ),
    ).rejects.toThrow("the work failed");
    await runInTransaction(
      dataSource,
      (manager) => manager.query("INSERT INTO tx_probe (id, note) VALUES (?, ?)", ["f2", "next"]),
      bound(),
    );
    expect(await stored("f1")).toBe(0);
    expect(await stored("f2")).toBe(1);
  });

  onMysql(
    "keep their connection between transactions, autocommit off, and close one given up at its deadline",
    async () => {
      const connectionOf = async () =>
        runInTransaction(
          dataSource,
          async (manager) => {
            const [row] = await manager.query("SELECT CONNECTION_ID() AS id, @@autocommit AS autocommit");
            return { id: Number(row.id), autocommit: Number(row.autocommit) };
          },
          bound(),
        );
      const first = await connectionOf();
      const second = await connectionOf();
      expect(first.autocommit).toBe(0);
      expect(second.id).toBe(first.id);

      // Given up while its statement runs: closed (the server rolls back), never kept.
      await expect(
        runInTransaction(
          dataSource,
          async (manager) => {
            await manager.query("INSERT INTO tx_probe (id, note) VALUES (?, ?)", ["g1", "given up"]);
            await manager.query("SELECT SLEEP(2)");
          },
          bound(300),
        ),
      ).rejects.toBeInstanceOf(GivenUp);
      expect(await stored("g1")).toBe(0);
      const after = await connectionOf();
      expect(after.autocommit).toBe(0);
      expect(after.id).not.toBe(first.id);
    },
  );

  onMysql("let go of a kept connection the server closed while it was idle, and run on a new one", async () => {
    const idOf = () =>
      runInTransaction(
        dataSource,
        async (manager) => Number((await manager.query("SELECT CONNECTION_ID() AS id"))[0].id),
        bound(),
      );
    const kept = await idOf();
    await observer.query(`KILL CONNECTION ${kept}`);
    // The close reaches the client as the end of its socket.
    await new Promise((resolve) => setTimeout(resolve, 200));
    const next = await idOf();
    expect(next).not.toBe(kept);
    await runInTransaction(
      dataSource,
      (manager) => manager.query("INSERT INTO tx_probe (id, note) VALUES (?, ?)", ["k1", "after kill"]),
      bound(),
    );
    expect(await stored("k1")).toBe(1);
  });

  it("leave the pool's connections committing every plain statement at once", async () => {
    // Several bounded transactions at once: more than one connection of their own.
    await Promise.all(
      [1, 2, 3, 4, 5, 6].map((n) =>
        runInTransaction(
          dataSource,
          async (manager) => {
            await manager.query("INSERT INTO tx_probe (id, note) VALUES (?, ?)", [`b${n}`, "bounded"]);
            await new Promise((resolve) => setTimeout(resolve, 20));
          },
          bound(),
        ),
      ),
    );
    const plain = Array.from({ length: 30 }, (_, n) => `p${n}`);
    await Promise.all(
      plain.map((id) => dataSource.query("INSERT INTO tx_probe (id, note) VALUES (?, ?)", [id, "plain"])),
    );
    const seen = await observer.query("SELECT COUNT(*) AS n FROM tx_probe WHERE note = 'plain'");
    expect(Number(seen[0].n)).toBe(plain.length);
    const bounded = await observer.query("SELECT COUNT(*) AS n FROM tx_probe WHERE note = 'bounded'");
    expect(Number(bounded[0].n)).toBe(6);
  });
});
