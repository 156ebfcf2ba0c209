// `npm run admin -- <command>`: prints exactly one JSON object on stdout as its last line;
// logs and errors go to stderr; a wrong invocation or unknown id exits non-zero.
import "reflect-metadata";
import { ConfigError, loadConfig } from "../config";
import { DatabaseUnavailable, openDatabase, resolveDatabaseTarget } from "../db/data-source";
import { createServices, entities } from "../services";
import { adminUsage, isUserError, parseAdminArgs, UsageError } from "./commands";

async function runAdmin(argv: string[]): Promise<number> {
  let parsed: ReturnType<typeof parseAdminArgs>;
  try {
    parsed = parseAdminArgs(argv);
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n\n${adminUsage()}\n`);
    return 2;
  }
  const config = loadConfig();
  const dataSource = await openDatabase(await resolveDatabaseTarget(config), entities);
  try {
    const services = createServices(dataSource, config);
    const result = await parsed.command.run(parsed.values, services);
    await services.writer.drain();
    await services.rateLimits.close();
    process.stdout.write(`${JSON.stringify(result)}\n`);
    return 0;
  } finally {
    await dataSource.destroy();
  }
}

runAdmin(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error) => {
    if (isUserError(error) || error instanceof ConfigError || error instanceof DatabaseUnavailable) {
      process.stderr.write(`Error: ${error.message}\n`);
      process.exitCode = error instanceof UsageError ? 2 : 1;
    } else {
      process.stderr.write(`Error: ${(error as Error).message}\n`);
      process.exitCode = 1;
    }
  },
);
