// The README's retrying sender is runnable as written: its code block, pointed at the test app,
// sends a batch, and a second run with the same keys stores nothing more.
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTenant, startTestApp, type Tenant, type TestApp } from "../helpers/app";
import { queryDatabase } from "../helpers/processes";

let app: TestApp;
let tenant: Tenant;

beforeAll(async () => {
  app = await startTestApp();
  tenant = await createTenant(app, ["user@example.com"]);
});
afterAll(() => app?.stop());

function readmeExample(): string {
  const readme = readFileSync("README.md", "utf8");
  const after = readme.slice(readme.indexOf("**How a server-side sender should retry**"));
  const code = /```js\n([\s\S]*?)```/.exec(after)?.[1];
  if (!code) throw new Error("README has no retry example");
  return code;
}

describe("README: how a server-side sender should retry", () => {
  it("runs, stores the event once, and replays on a second run", async () => {
    const code = readmeExample().replace("http://localhost:4001", app.url);
    const run = () =>
      promisify(execFile)(process.execPath, ["-e", code], {
        env: { ...process.env, KEY: tenant.apiKey },
        timeout: 20_000,
      });
    expect((await run()).stdout).toContain("ACCEPTED");
    expect((await run()).stdout).toContain("REPLAYED");
    const [row] = await queryDatabase(app.database, "SELECT COUNT(*) AS n FROM conversions WHERE organisation_id = ?", [
      tenant.organisationId,
    ]);
    expect(Number(row.n)).toBe(1);
  });
});
