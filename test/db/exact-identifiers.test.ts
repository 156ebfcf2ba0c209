// Identifiers compare byte for byte after the documented normalisation (emails trimmed and
// lower-cased; ids and types exactly, trailing spaces included), on SQLite and MariaDB: through the
// public API, and for data written before the ExactIdentifiers migration.
import { randomUUID } from "node:crypto";
import type { DataSource } from "typeorm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mysqlMigrations } from "../../migrations/mysql";
import { sqliteMigrations } from "../../migrations/sqlite";
import { type DatabaseTarget, openDatabase, resolveDatabaseTarget } from "../../src/db/data-source";
import { createTenant, graphql, http, startTestApp, type Tenant, type TestApp } from "../helpers/app";
import { createTestDatabase, type TestDatabase, testServerUrl } from "../helpers/database";

const JOSE = "jose@x.com";
const JOSE_ACCENT = "josé@x.com";
const TYPES = ["Purchase", "purchase", "purchase "];

describe("through the public API", () => {
  let app: TestApp;
  let tenant: Tenant;

  beforeAll(async () => {
    app = await startTestApp({ DEFAULT_ORGANISATION_ID: randomUUID() });
    tenant = await createTenant(app);
    // Public calls to 127.0.0.1 belong to the tenant.
    await app.server.services.sites.add(tenant.organisationId, "127.0.0.1");
  });
  afterAll(() => app?.stop());

  const keyed = (query: string, variables?: Record<string, unknown>) =>
    graphql(app, query, variables, { "x-api-key": tenant.apiKey });

  function logConversion(email: string, conversionType: string | null) {
    return http(`${app.url}/api/v2/conversions`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-api-key": tenant.apiKey },
      body: JSON.stringify({ email, conversion_type: conversionType }),
    });
  }

  it("keeps jose@x.com and josé@x.com two contacts, each with its own conversions", async () => {
    const upsert = await keyed(`mutation($emails: [String!]!) { upsertContacts(emails: $emails) { added existing } }`, {
      emails: [JOSE, JOSE_ACCENT, " JOSÉ@X.com "],
    });
    expect(upsert.body).toEqual({ data: { upsertContacts: { added: 2, existing: 1 } } });

    expect((await logConversion(JOSE, "signup")).status).toBe(202);
    for (const type of ["purchase", "refund"]) expect((await logConversion(" Josè@x.com", type)).status).toBe(200);
    for (const type of ["purchase", "refund"]) expect((await logConversion(JOSE_ACCENT, type)).status).toBe(202);

    const contacts = await keyed(
      `query($representations: [_Any!]!) {
        _entities(representations: $representations) {
          ... on Contact { email conversionCount conversions { email conversionType } }
        }
      }`,
      { representations: [JOSE, JOSE_ACCENT].map((email) => ({ __typename: "Contact", email })) },
    );
    expect(contacts.status, contacts.text).toBe(200);
    const byType = (rows: { conversionType: string }[]) => rows.map((row) => row.conversionType).sort();
    const [jose, accented] = contacts.body.data._entities;
    expect(jose.conversionCount).toBe(1);
    expect(jose.conversions).toEqual([{ email: JOSE, conversionType: "signup" }]);
    expect(accented.conversionCount).toBe(2);
    expect(byType(accented.conversions)).toEqual(["purchase", "refund"]);
    expect(accented.conversions.every((row: { email: string }) => row.email === JOSE_ACCENT)).toBe(true);

    const listed = await keyed(`query($email: String) { conversions(email: $email) { edges { node { email } } } }`, {
      email: JOSE,
    });
    expect(listed.body.data.conversions.edges).toEqual([{ node: { email: JOSE } }]);
  });

  it("keeps Purchase, purchase and 'purchase ' three conversion types of a contact", async () => {
    const email = `types-${randomUUID()}@x.com`;
    await app.server.services.contacts.upsert(tenant.organisationId, [email]);
    for (const [index, type] of TYPES.entries()) {
      for (let n = 0; n <= index; n++) expect((await logConversion(email, type)).status).toBe(202);
    }
    for (const [index, type] of TYPES.entries()) {
      const listed = await keyed(
        `query($email: String, $type: String) {
          conversions(email: $email, conversionType: $type) { edges { node { conversionType } } }
        }`,
        { email, type },
      );
      const types = listed.body.data.conversions.edges.map((edge: { node: { conversionType: string } }) => edge.node);
      expect(types, JSON.stringify(type)).toEqual(Array(index + 1).fill({ conversionType: type }));
    }
  });

  it("keeps Purchase, purchase and 'purchase ' three series in outcomeConversionStats, and 'r' and 'r ' two rules", async () => {
    const ruleId = `rule-${randomUUID()}`;
    const post = (path: string, visitor: string, body: Record<string, string>) =>
      http(`${app.url}/zephr/public/rule-outcomes/v1/${path}`, {
        method: "POST",
        headers: { "content-type": "application/json", cookie: `blaize_tracking_id=${visitor}` },
        body: JSON.stringify(body),
      });
    // Six visitors exposed to A; 1 converts as Purchase, 2 as purchase, 3 as "purchase ".
    const visitors = Array.from({ length: 6 }, () => randomUUID());
    for (const visitor of visitors)
      expect((await post("exposures", visitor, { ruleId, outcomeId: "A" })).status).toBe(201);
    let next = 0;
    for (const [index, conversion] of TYPES.entries()) {
      for (let n = 0; n <= index; n++) {
        const response = await post("conversions", visitors[next++], { ruleId, outcomeId: "A", conversion });
        expect(response.status).toBe(201);
      }
    }
    // The same rule id with a trailing space is another rule, never exposed.
    expect(
      (await post("conversions", visitors[0], { ruleId: `${ruleId} `, outcomeId: "A", conversion: "purchase" })).status,
    ).toBe(201);

    const stats = async (variables: Record<string, unknown>) => {
      const response = await keyed(
        `query($ruleId: ID!, $conversion: String) {
          outcomeConversionStats(ruleId: $ruleId, conversion: $conversion) {
            conversion outcomes { outcomeId exposures converters conversions unattributedConversions }
          }
        }`,
        variables,
      );
      expect(response.status, response.text).toBe(200);
      return response.body.data.outcomeConversionStats;
    };
    for (const [index, conversion] of TYPES.entries()) {
      expect(await stats({ ruleId, conversion }), JSON.stringify(conversion)).toEqual({
        conversion,
        outcomes: [
          { outcomeId: "A", exposures: 6, converters: index + 1, conversions: index + 1, unattributedConversions: 0 },
        ],
      });
    }
    expect((await stats({ ruleId })).outcomes[0]).toMatchObject({ exposures: 6, converters: 6 });
    expect((await stats({ ruleId: `${ruleId} `, conversion: "purchase" })).outcomes).toEqual([
      { outcomeId: "A", exposures: 0, converters: 0, conversions: 0, unattributedConversions: 1 },
    ]);
  });
});

describe("the ExactIdentifiers migration on data written before it", () => {
  let database: TestDatabase;
  let target: DatabaseTarget;
  let dataSource: DataSource | undefined;
  const organisationId = randomUUID();

  beforeAll(async () => {
    database = await createTestDatabase();
    target = await resolveDatabaseTarget(database.env);
  });
  afterAll(async () => {
    await dataSource?.destroy();
    await database?.drop();
  });

  const migrations = () => (target.kind === "sqlite" ? sqliteMigrations : mysqlMigrations);
  const isMysql = () => target.kind !== "sqlite";
  const q = (name: string) => (isMysql() ? `\`${name}\`` : `"${name}"`);
  const count = async (source: DataSource, table: string, where = "1 = 1", params: unknown[] = []) =>
    Number((await source.query(`SELECT COUNT(*) AS n FROM ${q(table)} WHERE ${where}`, params))[0].n);

  /** Rows a real service could have written before the migration: normalised emails, exact types. */
  async function seed(source: DataSource) {
    const now = "2026-03-01 12:00:00.000";
    const contactId = randomUUID();
    await source.query(`INSERT INTO ${q("organisations")} (id, name, created_at) VALUES (?, ?, ?)`, [
      organisationId,
      "Acme",
      now,
    ]);
    await source.query(`INSERT INTO ${q("contacts")} (id, organisation_id, email, created_at) VALUES (?, ?, ?, ?)`, [
      contactId,
      organisationId,
      JOSE,
      now,
    ]);
    for (const type of [...TYPES, null]) {
      await source.query(
        `INSERT INTO ${q("conversions")} (id, organisation_id, contact_id, email, conversion_type, conversion_data, created_at)
         VALUES (?, ?, ?, ?, ?, NULL, ?)`,
        [randomUUID(), organisationId, contactId, JOSE, type, now],
      );
    }
    for (const [ruleId, outcomeId] of [
      ["rule", "A"],
      ["Rule", "A"],
      ["rule", "a"],
    ]) {
      await source.query(
        `INSERT INTO ${q("rule_outcomes")} (organisation_id, rule_id, outcome_id, exposures, first_seen_at, last_activity_at)
         VALUES (?, ?, ?, 1, ?, ?)`,
        [organisationId, ruleId, outcomeId, now, now],
      );
    }
    for (const conversion of TYPES) {
      await source.query(
        `INSERT INTO ${q("rule_conversion_events")} (id, organisation_id, rule_id, outcome_id, tracking_id, user_id, conversion, created_at, attributed, cohort_day)
         VALUES (?, ?, 'rule', 'A', 'visitor', 'user-1', ?, ?, 0, NULL)`,
        [randomUUID(), organisationId, conversion, now],
      );
    }
  }

  it("converts existing tables to exact comparison and keeps every row", async () => {
    const all = migrations();
    const previous = all.slice(
      0,
      all.findIndex((migration) => migration.name === "ExactIdentifiers1764244800000"),
    );
    expect(previous.map((migration) => migration.name)).toEqual([
      "InitialSchema1764072000000",
      "SplitTests1764158400000",
    ]);
    const before = await openDatabase({ ...target, options: { ...target.options, migrations: previous } });
    await seed(before);
    const tables = ["organisations", "contacts", "conversions", "rule_outcomes", "rule_conversion_events"];
    const rowsBefore = await Promise.all(tables.map((table) => count(before, table)));
    if (isMysql()) {
      // What the old collations did: 'purchase' matched all three types, and josé was jose.
      expect(await count(before, "conversions", "conversion_type = ?", ["purchase"])).toBe(3);
      expect(await count(before, "contacts", "email = ?", [JOSE_ACCENT])).toBe(1);
    }
    await before.destroy();

    dataSource = await openDatabase(target);
    expect(await Promise.all(tables.map((table) => count(dataSource as DataSource, table)))).toEqual(rowsBefore);
    for (const type of TYPES) {
      expect(await count(dataSource, "conversions", "conversion_type = ?", [type]), JSON.stringify(type)).toBe(1);
      expect(await count(dataSource, "rule_conversion_events", "conversion = ?", [type]), JSON.stringify(type)).toBe(1);
    }
    expect(await count(dataSource, "contacts", "email = ?", [JOSE_ACCENT])).toBe(0);
    expect(await count(dataSource, "contacts", "email = ?", [`${JOSE} `])).toBe(0);
    expect(await count(dataSource, "rule_outcomes", "rule_id = ?", ["rule "])).toBe(0);
    // josé can now be a contact of their own, and "rule " an outcome row of its own.
    await dataSource.query(
      `INSERT INTO ${q("contacts")} (id, organisation_id, email, created_at) VALUES (?, ?, ?, ?)`,
      [randomUUID(), organisationId, JOSE_ACCENT, "2026-03-02 12:00:00.000"],
    );
    await dataSource.query(
      `INSERT INTO ${q("rule_outcomes")} (organisation_id, rule_id, outcome_id, exposures, first_seen_at, last_activity_at)
       VALUES (?, 'rule ', 'A', 0, ?, ?)`,
      [organisationId, "2026-03-02 12:00:00.000", "2026-03-02 12:00:00.000"],
    );
    expect(await count(dataSource, "contacts", "email = ?", [JOSE])).toBe(1);
    expect(await count(dataSource, "rule_outcomes", "rule_id = ? AND outcome_id = 'A'", ["rule"])).toBe(1);
  });

  // SQLite's migration changes nothing: undoing it cannot merge anything either (MySQL only).
  if (testServerUrl()) {
    it("refuses, in one line, to be undone while rows would collide under the old collations", async () => {
      const source = dataSource as DataSource;
      const lastApplied = async () =>
        ((await source.query("SELECT name FROM `migrations` ORDER BY id DESC LIMIT 1")) as { name: string }[])[0].name;
      // Undo the later migrations first, down to ExactIdentifiers.
      while ((await lastApplied()) !== "ExactIdentifiers1764244800000")
        await source.undoLastMigration({ transaction: "each" });
      const message = await source.undoLastMigration({ transaction: "each" }).then(
        () => "undone",
        (error: Error) => error.message,
      );
      expect(message).toBe(
        "cannot undo ExactIdentifiers: 1 value(s) of contacts (organisation_id, email) would collide under utf8mb4_unicode_ci",
      );
      expect(await lastApplied()).toBe("ExactIdentifiers1764244800000");
      await source.runMigrations({ transaction: "each" });
      expect(await source.showMigrations()).toBe(false);
    });
  }
});
