// `npm run migrate`: applies pending migrations to the configured database and exits.
import "reflect-metadata";
import { ConfigError, loadConfig } from "../config";
import { DatabaseUnavailable, openDatabase, resolveDatabaseTarget } from "./data-source";

async function migrate(): Promise<void> {
  const config = loadConfig();
  const target = await resolveDatabaseTarget(config);
  const dataSource = await openDatabase(target);
  const applied = await dataSource.query(
    target.kind === "sqlite"
      ? 'SELECT name FROM "migrations" ORDER BY id'
      : "SELECT name FROM `migrations` ORDER BY id",
  );
  await dataSource.destroy();
  process.stdout.write(
    `${JSON.stringify({ database: target.description, migrations: applied.map((row: { name: string }) => row.name) })}\n`,
  );
}

migrate().catch((error) => {
  const known = error instanceof ConfigError || error instanceof DatabaseUnavailable;
  process.stderr.write(`${known ? error.message : `Migration failed: ${(error as Error).message}`}\n`);
  process.exit(1);
});
