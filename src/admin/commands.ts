// The admin commands: tenants, API keys, contacts, sites. Each returns the one JSON object the
// command line prints; arguments are checked before the database is touched.
import { createReadStream, statSync } from "node:fs";
import { parseArgs } from "node:util";
import { SingleBar } from "cli-progress";
import { InvalidInput, NotFound } from "../errors";
import type { Services } from "../services";

/** A wrong invocation: printed with the usage, exit code 2. */
export class UsageError extends Error {}

interface CommandSpec {
  usage: string;
  options: Record<string, { type: "string"; multiple?: boolean }>;
  required: string[];
  run(values: Record<string, string | string[] | undefined>, services: Services): Promise<unknown>;
}

export const adminCommands: Record<string, CommandSpec> = {
  "org:create": {
    usage: "org:create --name NAME",
    options: { name: { type: "string" } },
    required: ["name"],
    run: async (values, services) => {
      const organisation = await services.organisations.create(values.name as string);
      return { id: organisation.id, name: organisation.name };
    },
  },
  "apikey:create": {
    usage: "apikey:create --org ORG_ID [--name LABEL]",
    options: { org: { type: "string" }, name: { type: "string" } },
    required: ["org"],
    run: async (values, services) => {
      const organisation = await services.organisations.require(values.org as string);
      return services.apiKeys.create(organisation.id, values.name as string | undefined);
    },
  },
  "apikey:revoke": {
    usage: "apikey:revoke --id API_KEY_ID",
    options: { id: { type: "string" } },
    required: ["id"],
    run: async (values, services) => {
      const { id, revokedAt } = await services.apiKeys.revoke(values.id as string);
      return { id, revokedAt: revokedAt.toISOString() };
    },
  },
  "contacts:add": {
    usage: "contacts:add --org ORG_ID --email E [--email E ...]",
    options: { org: { type: "string" }, email: { type: "string", multiple: true } },
    required: ["org", "email"],
    run: async (values, services) => {
      const organisation = await services.organisations.require(values.org as string);
      return services.contacts.upsert(organisation.id, values.email as string[]);
    },
  },
  "contacts:import": {
    usage: "contacts:import --org ORG_ID --file contacts.csv",
    options: { org: { type: "string" }, file: { type: "string" } },
    required: ["org", "file"],
    run: async (values, services) => {
      const organisation = await services.organisations.require(values.org as string);
      return importContactsFile(services, organisation.id, values.file as string);
    },
  },
  "contacts:erase": {
    usage: "contacts:erase --org ORG_ID --email E",
    options: { org: { type: "string" }, email: { type: "string" } },
    required: ["org", "email"],
    run: async (values, services) => {
      const organisation = await services.organisations.require(values.org as string);
      return services.conversions.eraseContact(organisation.id, values.email as string);
    },
  },
  "visitor:erase": {
    usage: "visitor:erase --org ORG_ID --tracking-id T",
    options: { org: { type: "string" }, "tracking-id": { type: "string" } },
    required: ["org", "tracking-id"],
    run: async (values, services) => {
      const organisation = await services.organisations.require(values.org as string);
      return services.rules.eraseVisitor(organisation.id, values["tracking-id"] as string);
    },
  },
  "site:add": {
    usage: "site:add --org ORG_ID --host HOST",
    options: { org: { type: "string" }, host: { type: "string" } },
    required: ["org", "host"],
    run: async (values, services) => {
      const organisation = await services.organisations.require(values.org as string);
      return services.sites.add(organisation.id, values.host as string);
    },
  },
};

export function adminUsage(): string {
  return ["Usage: npm run admin -- <command> [flags]", ...Object.values(adminCommands).map((c) => `  ${c.usage}`)].join(
    "\n",
  );
}

/** Checks the arguments of a command line and returns the command to run with its values. */
export function parseAdminArgs(argv: string[]) {
  const [name, ...rest] = argv;
  const command = name ? adminCommands[name] : undefined;
  if (!command) throw new UsageError(name ? `Unknown command: ${name}` : "No command given");
  let values: Record<string, string | string[] | undefined>;
  try {
    ({ values } = parseArgs({ args: rest, options: command.options, strict: true, allowPositionals: false }));
  } catch (error) {
    throw new UsageError(`${(error as Error).message}\n  ${command.usage}`);
  }
  for (const flag of command.required) {
    if (values[flag] === undefined || values[flag] === "")
      throw new UsageError(`Missing --${flag}\n  ${command.usage}`);
  }
  return { command, values };
}

async function importContactsFile(services: Services, organisationId: string, path: string) {
  let size: number;
  try {
    size = statSync(path).size;
  } catch {
    throw new NotFound(`Cannot read file: ${path}`);
  }
  const stream = createReadStream(path);
  // A progress bar only for a person watching: never in pipes or logs.
  const bar = process.stderr.isTTY
    ? new SingleBar({ stream: process.stderr, format: "importing [{bar}] {percentage}% | {value}/{total} bytes" })
    : null;
  bar?.start(size, 0);
  try {
    return await services.contacts.importCsv(organisationId, stream, () => bar?.update(stream.bytesRead));
  } finally {
    bar?.update(stream.bytesRead);
    bar?.stop();
  }
}

export function isUserError(error: unknown): error is UsageError | InvalidInput | NotFound {
  return error instanceof UsageError || error instanceof InvalidInput || error instanceof NotFound;
}
