// Once per test run: compile the service (the admin and process tests run the built code, as
// users do) and prove the test database server is reachable, failing loudly when it is not.
import { execFileSync } from "node:child_process";
import { assertTestDatabaseReachable } from "./database";

export default async function globalSetup() {
  execFileSync(process.execPath, ["scripts/build-if-stale.mjs"], { stdio: "inherit" });
  await assertTestDatabaseReachable();
}
