// The conversions writer inside the writer's transaction: the foreign key to contacts refuses a
// conversion whose contact is gone (erased since its request looked it up), and the writer then
// stores the batch's other conversions and answers ContactErased for that one alone. Runs on
// SQLite and on MariaDB (TEST_DATABASE_URL).
import "reflect-metadata";
import { randomUUID } from "node:crypto";
import type { DataSource } from "typeorm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Conversion } from "../../src/conversions/conversion.entity";
import { ContactErased, writeConversions } from "../../src/conversions/conversion.writer";
import { openDatabase, resolveDatabaseTarget } from "../../src/db/data-source";
import { runInTransaction } from "../../src/db/transaction";
import { entities } from "../../src/services";
import { createTestDatabase, type TestDatabase } from "../helpers/database";

let database: TestDatabase;
let dataSource: DataSource;
const organisationId = randomUUID();

beforeAll(async () => {
  database = await createTestDatabase();
  dataSource = await openDatabase(await resolveDatabaseTarget(database.env), entities);
});
afterAll(async () => {
  await dataSource?.destroy();
  await database?.drop();
});

async function addContact(email: string): Promise<string> {
  const id = randomUUID();
  await dataSource.query("INSERT INTO contacts (id, organisation_id, email, created_at) VALUES (?, ?, ?, ?)", [
    id,
    organisationId,
    email,
    "2026-12-01 10:00:00.000",
  ]);
  return id;
}

function conversion(contactId: string, email: string): Conversion {
  return Object.assign(new Conversion(), {
    id: randomUUID(),
    organisationId,
    contactId,
    email,
    conversionType: "purchase",
    conversionData: { order: 1 },
    createdAt: new Date("2026-12-01T12:00:00.000Z"),
  });
}

const storedIds = async () =>
  (
    (await dataSource.query("SELECT id FROM conversions WHERE organisation_id = ? ORDER BY id", [organisationId])) as {
      id: string;
    }[]
  ).map((row) => row.id);

describe("writeConversions", () => {
  it("stores a batch whose contacts all exist in one statement and answers each as stored", async () => {
    const ann = await addContact("ann@example.com");
    const rows = [conversion(ann, "ann@example.com"), conversion(ann, "ann@example.com")];
    const results = await runInTransaction(dataSource, (manager) => writeConversions(manager, rows));
    expect(results).toEqual([undefined, undefined]);
    expect(await storedIds()).toEqual(expect.arrayContaining(rows.map((row) => row.id)));
  });

  it("refuses only the conversion whose contact is gone and stores the rest of the batch", async () => {
    const bob = await addContact("bob@example.com");
    const gone = randomUUID();
    const before = await storedIds();
    const rows = [
      conversion(bob, "bob@example.com"),
      conversion(gone, "gone@example.com"),
      conversion(bob, "bob@example.com"),
    ];
    const results = await runInTransaction(dataSource, (manager) => writeConversions(manager, rows));
    expect(results[0]).toBeUndefined();
    expect(results[1]).toBeInstanceOf(ContactErased);
    expect(results[2]).toBeUndefined();
    const after = await storedIds();
    expect(after.length - before.length).toBe(2);
    expect(after).toEqual(expect.arrayContaining([rows[0].id, rows[2].id]));
    expect(after).not.toContain(rows[1].id);
  });

  it("is held to existing contacts by the database itself (the foreign key)", async () => {
    await expect(
      dataSource.query(
        "INSERT INTO conversions (id, organisation_id, contact_id, email, created_at) VALUES (?, ?, ?, ?, ?)",
        [randomUUID(), organisationId, randomUUID(), "nobody@example.com", "2026-12-01 12:00:00.000"],
      ),
    ).rejects.toThrow(/foreign key/i);
  });
});
