import { createRequire } from "node:module";
import { configDefaults, defineConfig } from "vitest/config";

const require = createRequire(import.meta.url);

export default defineConfig({
  resolve: {
    // One graphql module for everyone: vite would otherwise load index.mjs beside Node's index.js.
    // graphql-query-complexity's ESM build deep-imports graphql's .mjs files: use its CommonJS build.
    alias: {
      graphql: require.resolve("graphql"),
      "graphql-query-complexity": require.resolve("graphql-query-complexity"),
    },
  },
  test: {
    include: ["test/**/*.test.ts"],
    // Pauses the shared MariaDB server: run alone by vitest.outage.config.mts (npm run test:outage).
    exclude: [...configDefaults.exclude, "test/db/database-outage.test.ts"],
    globalSetup: ["test/helpers/global-setup.ts"],
    setupFiles: ["reflect-metadata"],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: "forks",
    // Most files wait on processes, sockets and the database, not on the CPU: vitest's default of
    // one worker per core minus one would run them one at a time on a 2-core machine.
    maxWorkers: 3,
  },
});
