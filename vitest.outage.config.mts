// The database-outage test on its own (`npm run test:outage`): it pauses the shared MariaDB
// server, which would stall every other test file running at the same time.
import { configDefaults, defineConfig } from "vitest/config";
import base from "./vitest.config.mts";

export default defineConfig({
  ...base,
  test: {
    ...base.test,
    include: ["test/db/database-outage.test.ts"],
    exclude: configDefaults.exclude,
  },
});
