// The admin command line, run compiled as users run it: `node dist/src/admin/cli.js <command> ...`
// against a fresh database. Every command prints exactly one JSON object, as the last line of stdout;
// a wrong invocation or an unknown id exits non-zero with one message on stderr and nothing on stdout.
import { createHash } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { http, startTestApp } from "../helpers/app";
import { createTestDatabase, type TestDatabase } from "../helpers/database";
import { adminCommand, adminResult, freePort, type ProgramEnv, queryDatabase, runAdmin } from "../helpers/processes";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

let database: TestDatabase;
let env: ProgramEnv;
let files: string;

beforeAll(async () => {
  database = await createTestDatabase();
  env = { ...database.env };
  files = mkdtempSync(join(tmpdir(), "admin-cli-test-"));
  // The first command creates the schema (migrations); later ones may then run side by side.
  await adminCommand(["org:create", "--name", "Schema bootstrap"], env);
});
afterAll(async () => {
  if (files) rmSync(files, { recursive: true, force: true });
  await database?.drop();
});

function admin<T = Record<string, unknown>>(...args: string[]) {
  return adminCommand<T>(args, env);
}

async function newOrganisation(name = `Org ${Math.random().toString(36).slice(2, 8)}`): Promise<string> {
  return (await admin<{ id: string }>("org:create", "--name", name)).id;
}

function contactEmails(organisationId: string) {
  return queryDatabase<{ email: string }>(
    database,
    "SELECT email FROM contacts WHERE organisation_id = ? ORDER BY email",
    [organisationId],
  ).then((rows) => rows.map((row) => row.email));
}

function writeFile(name: string, content: string): string {
  const path = join(files, name);
  writeFileSync(path, content);
  return path;
}

describe("org:create --name NAME", () => {
  it("prints the new organisation's id and trimmed name, and stores it", async () => {
    const run = await runAdmin(["org:create", "--name", "  Acme Widgets  "], env);
    expect(run.code).toBe(0);
    expect(run.stdout.split("\n")).toHaveLength(2); // one line, then the final line break
    const organisation = adminResult(run.stdout);
    expect(organisation).toEqual({ id: expect.stringMatching(UUID), name: "Acme Widgets" });
    const rows = await queryDatabase(database, "SELECT name FROM organisations WHERE id = ?", [organisation.id]);
    expect(rows).toEqual([{ name: "Acme Widgets" }]);
  });

  it("keeps stdout to the result even when logging everything", async () => {
    const run = await runAdmin(["org:create", "--name", "Verbose"], { ...env, LOG_LEVEL: "trace" });
    expect(run.code).toBe(0);
    expect(run.stdout.split("\n")).toHaveLength(2);
    expect(adminResult(run.stdout)).toMatchObject({ name: "Verbose" });
  });

  it("refuses a blank name", async () => {
    const run = await runAdmin(["org:create", "--name", "   "], env);
    expect(run.code).toBe(1);
    expect(run.stdout).toBe("");
    expect(run.stderr).toMatch(/name must be 1 to 200 characters/);
  });
});

describe("apikey:create --org ID [--name LABEL]", () => {
  it("prints the key once, stores only its SHA-256", async () => {
    const organisationId = await newOrganisation();
    const issued = await admin<{ id: string; key: string; prefix: string }>(
      "apikey:create",
      "--org",
      organisationId,
      "--name",
      "CI deploy",
    );
    expect(Object.keys(issued).sort()).toEqual(["id", "key", "prefix"]);
    expect(issued.id).toMatch(UUID);
    expect(issued.key.startsWith(`${issued.prefix}_`)).toBe(true);
    expect(issued.key.length).toBeGreaterThan(issued.prefix.length + 32);

    const rows = await queryDatabase(database, "SELECT * FROM api_keys WHERE id = ?", [issued.id]);
    expect(rows).toHaveLength(1);
    const [row] = rows;
    expect(row).toMatchObject({ organisation_id: organisationId, name: "CI deploy", prefix: issued.prefix });
    expect(row.key_hash).toBe(createHash("sha256").update(issued.key).digest("hex"));
    expect(row.key_hash).toMatch(/^[0-9a-f]{64}$/);
    expect(row.revoked_at).toBeNull();
    // The secret part of the key is nowhere in the row, in any column.
    const secret = issued.key.slice(issued.prefix.length + 1);
    for (const value of Object.values(row)) expect(String(value)).not.toContain(secret);
  });

  it("issues a different key each time, unnamed when no label is given", async () => {
    const organisationId = await newOrganisation();
    const [first, second] = await Promise.all([
      admin<{ id: string; key: string; prefix: string }>("apikey:create", "--org", organisationId),
      admin<{ id: string; key: string; prefix: string }>("apikey:create", "--org", organisationId),
    ]);
    expect(first.id).not.toBe(second.id);
    expect(first.key).not.toBe(second.key);
    expect(first.prefix).not.toBe(second.prefix);
    const rows = await queryDatabase(database, "SELECT name FROM api_keys WHERE organisation_id = ?", [organisationId]);
    expect(rows).toEqual([{ name: null }, { name: null }]);
  });
});

describe("apikey:revoke --id ID", () => {
  it("prints the revocation time and records it; revoking again keeps the first time", async () => {
    const organisationId = await newOrganisation();
    const { id } = await admin<{ id: string }>("apikey:create", "--org", organisationId);
    const before = Date.now();
    const revoked = await admin<{ id: string; revokedAt: string }>("apikey:revoke", "--id", id);
    const after = Date.now();
    expect(Object.keys(revoked).sort()).toEqual(["id", "revokedAt"]);
    expect(revoked.id).toBe(id);
    expect(revoked.revokedAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    const at = new Date(revoked.revokedAt).getTime();
    expect(at).toBeGreaterThanOrEqual(before - 1_000);
    expect(at).toBeLessThanOrEqual(after + 1_000);
    const [row] = await queryDatabase(database, "SELECT revoked_at FROM api_keys WHERE id = ?", [id]);
    expect(row.revoked_at).not.toBeNull();

    const again = await admin<{ id: string; revokedAt: string }>("apikey:revoke", "--id", id);
    expect(again).toEqual(revoked);
  });
});

describe("contacts:add --org ID --email E [--email E ...]", () => {
  it("adds the new emails, normalised, and counts the known ones on a second run", async () => {
    const organisationId = await newOrganisation();
    const emails = ["--email", "Ann@Example.com", "--email", " bob@example.org ", "--email", "ANN@example.COM"];
    const first = await admin("contacts:add", "--org", organisationId, ...emails);
    expect(first).toEqual({ added: 2, existing: 1 });
    expect(await contactEmails(organisationId)).toEqual(["ann@example.com", "bob@example.org"]);

    const second = await admin("contacts:add", "--org", organisationId, ...emails);
    expect(second).toEqual({ added: 0, existing: 3 });
    expect(await contactEmails(organisationId)).toEqual(["ann@example.com", "bob@example.org"]);
  });

  it("keeps each organisation's contacts apart", async () => {
    const [acme, globex] = await Promise.all([newOrganisation(), newOrganisation()]);
    await admin("contacts:add", "--org", acme, "--email", "shared@example.com");
    expect(await admin("contacts:add", "--org", globex, "--email", "shared@example.com")).toEqual({
      added: 1,
      existing: 0,
    });
  });

  it("adds nothing when one email is invalid, and says which", async () => {
    const organisationId = await newOrganisation();
    const run = await runAdmin(
      ["contacts:add", "--org", organisationId, "--email", "fine@example.com", "--email", "not-an-email"],
      env,
    );
    expect(run.code).toBe(1);
    expect(run.stdout).toBe("");
    expect(run.stderr).toMatch(/emails\.1: email is not of the form local@domain/);
    expect(await contactEmails(organisationId)).toEqual([]);
  });
});

describe("contacts:import --org ID --file contacts.csv", () => {
  // An export as spreadsheets write them: BOM, CRLF, quoted fields, a header in any case.
  const csv = [
    '\uFEFFName, EMAIL ,"Notes"', // 1: header
    '"Smith, Jane",Jane.Smith@Example.COM,"said ""hello"""', // 2
    "", // 3: blank
    "Bob,  bob@example.org  ,", // 4
    '"Jones, Carol",carol@example.net,', // 5
    "No Email,,", // 6
    "Broken,not-an-email,", // 7
    'Spaces,"jane smith@example.com",', // 8
    "Jane again,JANE.SMITH@example.com,duplicate", // 9
    "", // 10: blank
    "Short row,dave@example.com", // 11
    "At sign first,@example.com,", // 12
    "",
  ].join("\r\n");
  const invalid = [
    { line: 6, reason: expect.stringMatching(/empty/) },
    { line: 7, reason: expect.stringMatching(/local@domain/) },
    { line: 8, reason: expect.stringMatching(/whitespace/) },
    { line: 12, reason: expect.stringMatching(/local@domain/) },
  ];

  it("adds the valid emails and reports each invalid one by its line, the header being line 1", async () => {
    const organisationId = await newOrganisation();
    const file = writeFile("spreadsheet.csv", csv);
    const report = await admin("contacts:import", "--org", organisationId, "--file", file);
    expect(report).toEqual({ added: 4, existing: 1, invalid });
    expect(await contactEmails(organisationId)).toEqual([
      "bob@example.org",
      "carol@example.net",
      "dave@example.com",
      "jane.smith@example.com",
    ]);
  });

  it("is idempotent: a second import of the same file adds nothing", async () => {
    const organisationId = await newOrganisation();
    const file = writeFile("twice.csv", csv);
    await admin("contacts:import", "--org", organisationId, "--file", file);
    const again = await admin("contacts:import", "--org", organisationId, "--file", file);
    expect(again).toEqual({ added: 0, existing: 5, invalid });
    expect(await contactEmails(organisationId)).toHaveLength(4);
  });

  it("counts the lines of a quoted field that spans several lines", async () => {
    const organisationId = await newOrganisation();
    const file = writeFile(
      "multiline.csv",
      'email,address\nann@example.com,"1 High Street\nLeeds\nLS1 1AA"\nnot-an-email,"2 Low Road"\n\n,\n',
    );
    expect(await admin("contacts:import", "--org", organisationId, "--file", file)).toEqual({
      added: 1,
      existing: 0,
      invalid: [
        { line: 5, reason: expect.stringMatching(/local@domain/) },
        { line: 7, reason: expect.stringMatching(/empty/) },
      ],
    });
  });

  it("counts contacts added by contacts:add as existing", async () => {
    const organisationId = await newOrganisation();
    await admin("contacts:add", "--org", organisationId, "--email", "known@example.com");
    const file = writeFile("partly-known.csv", "email\nKNOWN@example.com\nnew@example.com\n");
    expect(await admin("contacts:import", "--org", organisationId, "--file", file)).toEqual({
      added: 1,
      existing: 1,
      invalid: [],
    });
  });

  it("refuses a file without an email column", async () => {
    const organisationId = await newOrganisation();
    const file = writeFile("no-email.csv", "name,phone\nJane,555-0100\n");
    const run = await runAdmin(["contacts:import", "--org", organisationId, "--file", file], env);
    expect(run.code).toBe(1);
    expect(run.stdout).toBe("");
    expect(run.stderr).toMatch(/no email column/);
  });

  it("imports 200,000 lines in one streaming pass, listing the first 1,000 invalid lines", async () => {
    const organisationId = await newOrganisation();
    // Every 100th line is invalid; the last 1,000 lines repeat earlier emails in upper case.
    const lines = ["id,email,signed_up"];
    const expectedInvalidLines: number[] = [];
    const unique = new Set<string>();
    let valid = 0;
    for (let i = 0; i < 200_000; i++) {
      const line = i + 2;
      if (i % 100 === 99) {
        lines.push(`${i},user${i}.example.com,2024-01-01`);
        expectedInvalidLines.push(line);
      } else {
        const email = i >= 199_000 ? `USER${i - 199_000}@EXAMPLE.COM` : `user${i}@example.com`;
        lines.push(`${i},${email},2024-01-01`);
        unique.add(email.toLowerCase());
        valid++;
      }
    }
    const file = writeFile("large.csv", `${lines.join("\n")}\n`);

    const report = await adminCommand<{
      added: number;
      existing: number;
      invalid: { line: number; reason: string }[];
      invalidTotal?: number;
    }>(["contacts:import", "--org", organisationId, "--file", file], env, 90_000);

    expect(report.added).toBe(unique.size);
    expect(report.existing).toBe(valid - unique.size);
    expect(report.invalidTotal).toBe(expectedInvalidLines.length);
    expect(report.invalid).toHaveLength(1_000);
    expect(report.invalid.map((entry) => entry.line)).toEqual(expectedInvalidLines.slice(0, 1_000));
    const [{ count }] = await queryDatabase<{ count: number }>(
      database,
      "SELECT COUNT(*) AS count FROM contacts WHERE organisation_id = ?",
      [organisationId],
    );
    expect(Number(count)).toBe(unique.size);

    const again = await adminCommand<typeof report>(
      ["contacts:import", "--org", organisationId, "--file", file],
      env,
      90_000,
    );
    expect(again).toEqual({ ...report, added: 0, existing: valid });
  }, 180_000);
});

describe("errors: non-zero exit, one clear message on stderr, nothing on stdout", () => {
  const cases: [string, () => Promise<string[]>, RegExp, number][] = [
    ["an unknown command", async () => ["org:destroy", "--name", "x"], /Unknown command: org:destroy/, 2],
    ["no command", async () => [], /No command given/, 2],
    ["a missing flag", async () => ["apikey:create", "--name", "label"], /Missing --org/, 2],
    ["an empty flag", async () => ["org:create", "--name", ""], /Missing --name/, 2],
    ["an unknown flag", async () => ["org:create", "--name", "x", "--colour", "red"], /--colour/, 2],
    ["a stray argument", async () => ["org:create", "--name", "x", "extra"], /extra/, 2],
    [
      "an unknown organisation id",
      async () => ["apikey:create", "--org", "no-such-org"],
      /Unknown organisation: no-such-org/,
      1,
    ],
    ["an unknown api key id", async () => ["apikey:revoke", "--id", "no-such-key"], /Unknown API key: no-such-key/, 1],
    [
      "contacts for an unknown organisation",
      async () => ["contacts:add", "--org", "no-such-org", "--email", "a@example.com"],
      /Unknown organisation: no-such-org/,
      1,
    ],
    [
      "a missing file",
      async () => ["contacts:import", "--org", await newOrganisation(), "--file", join(files, "missing.csv")],
      /Cannot read file: .*missing\.csv/,
      1,
    ],
  ];
  for (const [label, args, message, code] of cases) {
    it(label, async () => {
      const run = await runAdmin(await args(), env);
      expect(run.code).toBe(code);
      expect(run.stdout).toBe("");
      expect(run.stderr).toMatch(message);
      expect(run.stderr).not.toContain("    at ");
    });
  }

  it("the usage lists every command after a wrong invocation", async () => {
    const run = await runAdmin(["help"], env);
    for (const command of ["org:create", "apikey:create", "apikey:revoke", "contacts:add", "contacts:import"]) {
      expect(run.stderr).toContain(command);
    }
  });

  it("a database that cannot be reached", async () => {
    const port = await freePort();
    const run = await runAdmin(["org:create", "--name", "x"], {
      DATABASE_URL: `mysql://root@127.0.0.1:${port}/conversions`,
    });
    expect(run.code).toBe(1);
    expect(run.stdout).toBe("");
    expect(run.stderr.trimEnd().split("\n")).toEqual([expect.stringMatching(/connection refused/)]);
  });
});

describe("revoking a key through the command line, end to end", () => {
  it("locks the key out of the running service", async () => {
    const app = await startTestApp();
    try {
      const appEnv = { ...app.database.env };
      const { id: organisationId } = await adminCommand<{ id: string }>(["org:create", "--name", "Live"], appEnv);
      const key = await adminCommand<{ id: string; key: string }>(["apikey:create", "--org", organisationId], appEnv);
      await adminCommand(["contacts:add", "--org", organisationId, "--email", "buyer@example.com"], appEnv);

      const logConversion = () =>
        http(`${app.url}/api/v2/conversions`, {
          method: "POST",
          headers: { "content-type": "application/json", "x-api-key": key.key },
          body: JSON.stringify({ email: "Buyer@Example.com", conversion_type: "purchase" }),
        });
      const accepted = await logConversion();
      expect(accepted.status).toBe(202);
      expect(accepted.body).toEqual({ status: "ACCEPTED" });

      await adminCommand(["apikey:revoke", "--id", key.id], appEnv);
      const refused = await logConversion();
      expect(refused.status).toBe(401);
      expect(refused.body).toEqual({ detail: "Invalid API key" });

      const stored = await queryDatabase(app.database, "SELECT email FROM conversions WHERE organisation_id = ?", [
        organisationId,
      ]);
      expect(stored).toEqual([{ email: "buyer@example.com" }]);
    } finally {
      await app.stop();
    }
  });
});
