// The deployment files (Dockerfile, .dockerignore, docker-compose.yml, deploy/router.yaml,
// deploy/supergraph.yaml, deploy/hive-gateway/) agree with each other and with the app. Nothing here
// runs Docker, a gateway or a database: the files are parsed, the Hive Gateway config's header
// function is called, and the health-check one-liner is run against a stub server.
import { spawn } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { join, posix } from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { loadConfig } from "../../src/config";

const ROOT = join(__dirname, "..", "..");
const read = (path: string) => readFileSync(join(ROOT, path), "utf8");
const exists = (path: string) => existsSync(join(ROOT, path));

// ---------------------------------------------------------------------------------------------
// Compose helpers (Compose spec: short and long forms)

type ShellEnv = Record<string, string | undefined>;

/** Compose interpolation against `shell`: ${VAR:-default}, ${VAR-default}, ${VAR}, $VAR and $$. */
function interpolate(value: string, shell: ShellEnv = {}): string {
  return value.replace(
    /\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?-)([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)/g,
    (match, braced: string | undefined, operator: string | undefined, fallback: string | undefined, bare) => {
      if (match === "$$") return "$";
      const name: string = braced ?? bare;
      const set = shell[name];
      if (operator === ":-") return set ? set : (fallback ?? "");
      if (operator === "-") return set !== undefined ? set : (fallback ?? "");
      if (set === undefined) throw new Error(`${match} has no default: the stack would need it set`);
      return set;
    },
  );
}

/** A service's environment as written: name -> raw value, or null for a pass-through (`NAME:`). */
function rawEnvironment(service: any): Record<string, string | null> {
  const environment = service.environment ?? {};
  const entries: [string, string | null][] = Array.isArray(environment)
    ? environment.map((item: string) => {
        const at = item.indexOf("=");
        return at < 0 ? [item, null] : [item.slice(0, at), item.slice(at + 1)];
      })
    : Object.entries(environment).map(([name, value]) => [name, value === null ? null : String(value)]);
  return Object.fromEntries(entries);
}

/** The environment the container gets: pass-throughs unset in `shell` are absent. */
function containerEnv(service: any, shell: ShellEnv = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, raw] of Object.entries(rawEnvironment(service))) {
    if (raw === null) {
      if (shell[name] !== undefined) env[name] = shell[name];
    } else {
      env[name] = interpolate(raw, shell);
    }
  }
  return env;
}

function ports(service: any): { published: string; target: string }[] {
  return (service.ports ?? []).map((port: any) => {
    if (typeof port === "object") return { published: String(port.published), target: String(port.target) };
    const parts = String(port).split(":");
    return { published: parts[parts.length - 2] ?? parts[0], target: parts[parts.length - 1] };
  });
}

function bindMounts(service: any): { source: string; target: string; readOnly: boolean }[] {
  return (service.volumes ?? []).map((volume: any) => {
    if (typeof volume === "object") {
      return { source: volume.source, target: volume.target, readOnly: volume.read_only === true };
    }
    const [source, target, mode = ""] = String(volume).split(":");
    return { source, target, readOnly: mode.split(",").includes("ro") };
  });
}

function dependsOn(service: any): Record<string, string> {
  const dependencies = service.depends_on ?? {};
  if (Array.isArray(dependencies)) return Object.fromEntries(dependencies.map((name) => [name, "service_started"]));
  return Object.fromEntries(
    Object.entries(dependencies).map(([name, options]: [string, any]) => [
      name,
      options?.condition ?? "service_started",
    ]),
  );
}

function healthcheckCommand(service: any): string {
  const test = service.healthcheck?.test;
  if (test === undefined) return "";
  return Array.isArray(test) ? test.join(" ") : String(test);
}

function commandArgs(service: any): string[] {
  const command = service.command ?? [];
  return Array.isArray(command) ? command.map(String) : String(command).split(/\s+/).filter(Boolean);
}

function flagValue(args: string[], flag: string): string | undefined {
  const at = args.indexOf(flag);
  if (at >= 0) return args[at + 1];
  return args.find((arg) => arg.startsWith(`${flag}=`))?.slice(flag.length + 1);
}

// ---------------------------------------------------------------------------------------------
// Dockerfile helpers

interface Instruction {
  keyword: string;
  args: string;
}

interface Stage {
  name?: string;
  from: string;
  instructions: Instruction[];
}

function parseDockerfile(text: string): Stage[] {
  const lines: string[] = [];
  let pending = "";
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (line.startsWith("#") || (line === "" && pending === "")) continue;
    if (line.endsWith("\\")) {
      pending += `${line.slice(0, -1).trim()} `;
      continue;
    }
    lines.push(`${pending}${line}`.trim());
    pending = "";
  }
  const stages: Stage[] = [];
  for (const line of lines) {
    const [keyword, ...rest] = line.split(/\s+/);
    const args = rest.join(" ");
    if (keyword.toUpperCase() === "FROM") {
      const words = rest.filter((word) => !word.startsWith("--"));
      const as = words.findIndex((word) => word.toLowerCase() === "as");
      stages.push({ from: words[0], name: as >= 0 ? words[as + 1] : undefined, instructions: [] });
    } else if (stages.length > 0) {
      stages[stages.length - 1].instructions.push({ keyword: keyword.toUpperCase(), args });
    }
  }
  return stages;
}

/** A stage's instructions with those of the stages it is built FROM, oldest first. */
function lineage(stages: Stage[], stage: Stage): Instruction[] {
  const parent = stages.find((candidate) => candidate.name === stage.from);
  return parent ? [...lineage(stages, parent), ...stage.instructions] : stage.instructions;
}

function baseImage(stages: Stage[], stage: Stage): string {
  const parent = stages.find((candidate) => candidate.name === stage.from);
  return parent ? baseImage(stages, parent) : stage.from;
}

const all = (instructions: Instruction[], keyword: string) =>
  instructions.filter((instruction) => instruction.keyword === keyword).map((instruction) => instruction.args);

function envOf(instructions: Instruction[]): Record<string, string> {
  const env: Record<string, string> = {};
  for (const args of all(instructions, "ENV")) {
    if (!args.includes("=")) {
      const [name, ...value] = args.split(/\s+/);
      env[name] = value.join(" ");
      continue;
    }
    for (const match of args.matchAll(/([A-Za-z_][A-Za-z0-9_]*)=("([^"]*)"|\S*)/g)) {
      env[match[1]] = match[3] ?? match[2];
    }
  }
  return env;
}

/** COPY [--from=stage] [--chown=...] src... dest */
function copies(instructions: Instruction[]): { from?: string; sources: string[]; dest: string }[] {
  return all(instructions, "COPY").map((args) => {
    const words = args.split(/\s+/);
    const from = words.find((word) => word.startsWith("--from="))?.slice("--from=".length);
    const paths = words.filter((word) => !word.startsWith("--"));
    return { from, sources: paths.slice(0, -1), dest: paths[paths.length - 1] };
  });
}

/** The JSON (exec) form of CMD / HEALTHCHECK CMD. */
function execForm(args: string): string[] {
  const json = args.slice(args.indexOf("["));
  return JSON.parse(json);
}

// ---------------------------------------------------------------------------------------------
// Router helpers

/** The request rules of one subgraph: a bare list (router < 2.16) or { operations: [...] }. */
function requestRules(headers: any, subgraph: string): { shape: "list" | "operations"; rules: any[] } {
  const request = headers?.subgraphs?.[subgraph]?.request;
  if (Array.isArray(request)) return { shape: "list", rules: request };
  return { shape: "operations", rules: request?.operations ?? [] };
}

/**
 * The request headers a gateway must send the subgraph. Named in the task and read by the app:
 * X-API-Key (principal), the cookie jar (tracking id, blaize_jwt, blaize_session), the JWT
 * transports, and X-Forwarded-Host (request.host under TRUST_PROXY); and every header the source
 * reads by name.
 */
function headersTheAppReads(): Set<string> {
  const expected = new Set(["x-api-key", "cookie", "authorization", "x-blaize-jwt", "x-zephr-jwt", "x-forwarded-host"]);
  const sourceFiles = readdirSync(join(ROOT, "src"), { recursive: true, encoding: "utf8" }).filter((file) =>
    file.endsWith(".ts"),
  );
  for (const file of sourceFiles) {
    const text = read(join("src", file));
    for (const match of text.matchAll(/headers\["([a-z0-9-]+)"\]|[^.]header\("([a-z0-9-]+)"\)/g)) {
      expected.add(match[1] ?? match[2]);
    }
  }
  return expected;
}

/** Runs a health-check one-liner with PORT pointing at a stub that answers `status` on `path` only. */
async function runHealthcheck(script: string, path: string, status: number): Promise<number> {
  const server = createServer((request, response) => {
    response.statusCode = request.url === path ? status : 404;
    response.end();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  try {
    return await new Promise<number>((resolve, reject) => {
      const child = spawn(process.execPath, ["-e", script], {
        env: { ...process.env, PORT: String(port) },
        stdio: "ignore",
      });
      child.on("error", reject);
      child.on("exit", (code) => resolve(code ?? -1));
    });
  } finally {
    await new Promise((resolve) => server.close(resolve));
  }
}

// ---------------------------------------------------------------------------------------------

const packageJson = JSON.parse(read("package.json"));
const compose = parse(read("docker-compose.yml"));
const router = parse(read("deploy/router.yaml"));
const supergraphConfig = parse(read("deploy/supergraph.yaml"));
const stages = parseDockerfile(read("Dockerfile"));
const runtime = stages[stages.length - 1];
const configSource = read("src/config.ts");
const healthSource = read("src/health/health.routes.ts");

const services = compose.services as Record<string, any>;
const mysql = services.mysql;
const conversions = services.conversions;
const routerService = services.router;
const appEnv = containerEnv(conversions);

describe("docker-compose.yml", () => {
  it("uses the Compose spec (no version key) and the three services", () => {
    expect(compose).not.toHaveProperty("version");
    expect(Object.keys(services).sort()).toEqual(["conversions", "mysql", "router"]);
    expect(conversions.build === "." || conversions.build?.context === ".").toBe(true);
    expect(mysql.image).toBe("mysql:8.4");
  });

  it("sets only environment variables the config schema declares, with values it accepts", () => {
    for (const name of Object.keys(rawEnvironment(conversions))) {
      expect(configSource, `${name} is not declared in src/config.ts`).toMatch(new RegExp(`^\\s*${name}:`, "m"));
    }
    const config = loadConfig(appEnv);
    // zod keeps only declared keys, so every variable with a value must come back.
    for (const name of Object.keys(appEnv)) expect(Object.keys(config)).toContain(name);
    expect(config.NODE_ENV).toBe("production");
    expect(config.PORT).toBe(4001);
    expect(config.TRUST_PROXY).toBe(true);
    expect(config.DATABASE_URL).toMatch(/^mysql:\/\//);
    // Pass-throughs left unset stay absent: an empty JWT_SECRET or DEFAULT_ORGANISATION_ID would not validate.
    expect(() => loadConfig({ ...appEnv, JWT_SECRET: "" })).toThrow(/JWT_SECRET/);
    expect(appEnv).not.toHaveProperty("JWT_SECRET");
    expect(appEnv).not.toHaveProperty("DEFAULT_ORGANISATION_ID");
  });

  it("gives the app a DATABASE_URL that names the mysql service, its database and its user", () => {
    const shells: ShellEnv[] = [{}, { MYSQL_USER: "someone", MYSQL_PASSWORD: "s3cret", MYSQL_ROOT_PASSWORD: "r00t" }];
    for (const shell of shells) {
      const database = containerEnv(mysql, shell);
      const url = new URL(containerEnv(conversions, shell).DATABASE_URL);
      expect(url.protocol).toBe("mysql:");
      expect(url.hostname).toBe("mysql");
      expect(services).toHaveProperty(url.hostname);
      expect(url.port || "3306").toBe("3306");
      expect(url.pathname).toBe(`/${database.MYSQL_DATABASE}`);
      expect(decodeURIComponent(url.username)).toBe(database.MYSQL_USER);
      expect(decodeURIComponent(url.password)).toBe(database.MYSQL_PASSWORD);
    }
    expect(containerEnv(mysql)).toMatchObject({ MYSQL_DATABASE: "conversions" });
    for (const name of ["MYSQL_USER", "MYSQL_PASSWORD", "MYSQL_ROOT_PASSWORD"]) {
      expect(rawEnvironment(mysql)[name]).toMatch(new RegExp(`^\\$\\{${name}:-.+\\}$`));
    }
  });

  it("keeps MySQL data in a named volume and pings it over TCP as its health check", () => {
    const data = (mysql.volumes as string[]).map((volume) => volume.split(":"));
    expect(data).toContainEqual(["mysql-data", "/var/lib/mysql"]);
    expect(compose.volumes).toHaveProperty("mysql-data");
    const test = healthcheckCommand(mysql);
    expect(test).toMatch(/mysqladmin ping/);
    expect(test).toMatch(/-h 127\.0\.0\.1/);
    // $$ is Compose's escape: the container's shell expands the root password.
    expect(interpolate(test)).toContain("$MYSQL_ROOT_PASSWORD");
  });

  it("starts each service once what it needs is healthy", () => {
    expect(dependsOn(conversions)).toEqual({ mysql: "service_healthy" });
    expect(dependsOn(routerService)).toEqual({ conversions: "service_healthy" });
    expect(mysql.healthcheck?.test).toBeDefined();
    expect(conversions.healthcheck?.test).toBeDefined();
  });

  it("publishes the app port, which is PORT, the Dockerfile's EXPOSE and the config default", () => {
    const expose = all(runtime.instructions, "EXPOSE").flatMap((args) => args.split(/\s+/));
    expect(ports(conversions)).toEqual([{ published: appEnv.PORT, target: appEnv.PORT }]);
    expect(expose).toEqual([appEnv.PORT]);
    expect(envOf(runtime.instructions).PORT).toBe(appEnv.PORT);
    expect(String(loadConfig({}).PORT)).toBe(appEnv.PORT);
    expect(appEnv.PORT).toBe("4001");
  });
});

describe("health checks", () => {
  const dockerfileScript = execForm(all(runtime.instructions, "HEALTHCHECK")[0] ?? "");
  const composeScript = conversions.healthcheck.test as string[];

  it("probe /ready, a route of the app, with node itself", () => {
    expect(healthSource).toContain('app.get("/ready"');
    for (const command of [dockerfileScript, composeScript.slice(1)]) {
      expect(command[0]).toBe("node");
      expect(command[1]).toBe("-e");
      expect(command.join(" ")).not.toMatch(/\b(curl|wget)\b/);
      expect([...command[2].matchAll(/'(\/[a-z-]*)'/g)].map((match) => match[1])).toEqual(["/ready"]);
      expect(command[2]).toMatch(/process\.env\.PORT\s*\|\|\s*4001\b/);
    }
    expect(composeScript[0]).toBe("CMD");
  });

  it("exit 0 when /ready answers 200 and 1 when it answers 503", async () => {
    const scripts = [dockerfileScript[2], composeScript[3]];
    const exitCodes = await Promise.all(
      scripts.flatMap((script) => [runHealthcheck(script, "/ready", 200), runHealthcheck(script, "/ready", 503)]),
    );
    expect(exitCodes).toEqual([0, 1, 0, 1]);
  });
});

describe("Dockerfile", () => {
  const buildStage = stages.find((stage) =>
    all(lineage(stages, stage), "RUN").some((run) => run.includes("npm run build")),
  );

  it("builds every stage on node:20-bookworm-slim, matching the engines field", () => {
    for (const stage of stages) expect(baseImage(stages, stage)).toBe("node:20-bookworm-slim");
    expect(packageJson.engines.node).toMatch(/^>=20\./);
  });

  it("compiles in a stage with the toolchain, from npm ci", () => {
    expect(buildStage).toBeDefined();
    const runs = all(lineage(stages, buildStage!), "RUN").join("\n");
    for (const tool of ["python3", "make", "g++"]) {
      expect(runs).toMatch(new RegExp(`install[^\\n]*\\s${tool.replace(/\+/g, "\\+")}(\\s|$)`));
    }
    expect(runs).toMatch(/npm ci(?![^\n]*--omit=dev)/);
    expect(runs.indexOf("npm ci")).toBeLessThan(runs.indexOf("npm run build"));
    expect(packageJson.scripts.build).toBe("tsc -p tsconfig.build.json && npm run build:web --silent");
    expect(packageJson.scripts["build:web"]).toBe("vite build --config web/vite.config.mts");
  });

  it("copies into the build stage everything tsconfig.build.json compiles, and the analytics page's sources", () => {
    const tsBuild = JSON.parse(read("tsconfig.build.json"));
    const copied = copies(lineage(stages, buildStage!)).flatMap((copy) => copy.sources);
    for (const path of [
      ...tsBuild.include,
      "tsconfig.build.json",
      tsBuild.extends.replace(/^\.\//, ""),
      "package-lock.json",
      // vite builds web/analytics with web/vite.config.mts into dist/web/analytics.
      "web",
    ]) {
      expect(copied).toContain(path);
    }
    const ignored = read(".dockerignore")
      .split("\n")
      .map((line) => line.trim())
      .filter((line) => line && !line.startsWith("#"));
    for (const required of ["node_modules", "dist", "data", ".git", "coverage", "*.sqlite"]) {
      expect(ignored).toContain(required);
    }
    for (const path of copied) expect(ignored).not.toContain(path);
  });

  it("ships production dependencies only, compiled with the toolchain, and no toolchain", () => {
    const runtimeCopies = copies(runtime.instructions);
    const modules = runtimeCopies.find((copy) => copy.sources.some((source) => source.endsWith("node_modules")));
    expect(modules?.from).toBeDefined();
    const depsStage = stages.find((stage) => stage.name === modules!.from)!;
    const depsRuns = all(lineage(stages, depsStage), "RUN").join("\n");
    expect(depsRuns).toMatch(/npm ci[^\n]*--omit=dev/);
    expect(depsRuns).toMatch(/install[^\n]*\sg\+\+/);
    const runtimeRuns = all(runtime.instructions, "RUN").join("\n");
    expect(runtimeRuns).not.toMatch(/npm (ci|install)|apt-get install/);
    expect(runtime.from).toBe("node:20-bookworm-slim");
    expect(envOf(runtime.instructions).NODE_ENV).toBe("production");
  });

  it("runs dist/src/main.js, which the build stage emits into the runtime's WORKDIR, as a non-root user", () => {
    const tsBuild = JSON.parse(read("tsconfig.build.json"));
    const tsBase = JSON.parse(read(tsBuild.extends));
    const options = { ...tsBase.compilerOptions, ...tsBuild.compilerOptions };
    expect(tsBuild.include).toContain("src");
    expect(exists("src/main.ts")).toBe(true);
    const emitted = posix.join(options.outDir, posix.relative(options.rootDir, "src/main.ts")).replace(/\.ts$/, ".js");
    expect(emitted).toBe("dist/src/main.js");

    // The image runs exactly what `npm start` runs, node's flags (the heap limit) included.
    const cmd = execForm(all(runtime.instructions, "CMD").at(-1) ?? "");
    expect(cmd[0]).toBe("node");
    expect(cmd.at(-1)).toBe(emitted);
    expect(cmd.slice(1, -1).every((flag) => flag.startsWith("--"))).toBe(true);
    expect(packageJson.scripts.start).toBe(cmd.join(" "));

    const workdir = all(runtime.instructions, "WORKDIR").at(-1)!;
    const dist = copies(runtime.instructions).find((copy) => copy.sources.some((source) => source.endsWith("/dist")));
    expect(dist?.from).toBe(buildStage!.name);
    expect(posix.resolve(workdir, dist!.dest)).toBe(posix.resolve(workdir, options.outDir));

    const user = all(runtime.instructions, "USER").at(-1);
    expect(user).toBeDefined();
    expect(user!.split(":")[0]).not.toMatch(/^(root|0)$/);
    // The config schema knows every variable the image sets for the app.
    for (const name of Object.keys(envOf(runtime.instructions))) {
      expect(configSource).toMatch(new RegExp(`^\\s*${name}:`, "m"));
    }
  });
});

describe("router", () => {
  const args = commandArgs(routerService);
  const configPath = flagValue(args, "--config");
  const supergraphPath = flagValue(args, "--supergraph");
  const subgraphNames = Object.keys(supergraphConfig.subgraphs);
  const subgraphUrl = new URL(router.override_subgraph_url.conversions);

  it("runs a pinned 2.x image with the config and supergraph mounted read-only where its command looks", () => {
    expect(routerService.image).toMatch(/^ghcr\.io\/apollographql\/router:v2\.\d+\.\d+$/);
    expect(configPath).toBe("/dist/config/router.yaml");
    expect(supergraphPath).toBe("/dist/schema/supergraph.graphql");
    const mounts = bindMounts(routerService);
    expect(mounts).toContainEqual({ source: "./deploy/router.yaml", target: configPath, readOnly: true });
    expect(mounts).toContainEqual({ source: "./deploy/supergraph.graphql", target: supergraphPath, readOnly: true });
    expect(exists("deploy/router.yaml")).toBe(true);
    // deploy/supergraph.graphql is generated (npm run supergraph): it need not exist yet.
  });

  it("listens on the port compose publishes", () => {
    const listen = String(router.supergraph.listen);
    expect(listen).toMatch(/^0\.0\.0\.0:\d+$/);
    expect(ports(routerService)).toEqual([{ published: "4000", target: listen.split(":")[1] }]);
    expect(router.health_check).toMatchObject({ enabled: true, listen: "0.0.0.0:8088" });
  });

  it("sends the conversions subgraph to its compose service, port and /graphql", () => {
    expect(subgraphUrl.protocol).toBe("http:");
    expect(subgraphUrl.hostname).toBe("conversions");
    expect(services).toHaveProperty(subgraphUrl.hostname);
    expect(subgraphUrl.port).toBe(appEnv.PORT);
    expect(subgraphUrl.pathname).toBe("/graphql");
    expect(read("README.md")).toContain("GraphQL at `/graphql`");
  });

  it("configures only subgraphs the supergraph has", () => {
    for (const section of [
      router.override_subgraph_url,
      router.headers.subgraphs,
      router.include_subgraph_errors.subgraphs,
    ]) {
      for (const name of Object.keys(section)) expect(subgraphNames).toContain(name);
    }
  });

  it("propagates exactly the headers the app reads, X-Forwarded-Host falling back to Host", () => {
    const { shape, rules } = requestRules(router.headers, "conversions");
    // Router 2.16 wraps the rules in `operations:`; older 2.x releases reject that key.
    const minor = Number(/:v2\.(\d+)\./.exec(routerService.image)?.[1]);
    expect(shape).toBe(minor >= 16 ? "operations" : "list");
    expect(router.headers.all).toBeUndefined();

    const propagate = rules.map((rule) => rule.propagate);
    expect(propagate.every(Boolean), "only propagate rules").toBe(true);
    expect(
      propagate.every((rule) => typeof rule.named === "string"),
      "no regex propagation",
    ).toBe(true);
    const sent = new Set(propagate.map((rule) => String(rule.rename ?? rule.named).toLowerCase()));

    const expected = headersTheAppReads();
    expect(expected).toContain("x-request-id");
    expect([...sent].sort()).toEqual([...expected].sort());

    // Named propagation keeps the first value a rule set: the explicit header must come before the Host fallback.
    const explicit = propagate.findIndex((rule) => rule.named.toLowerCase() === "x-forwarded-host" && !rule.rename);
    const fallback = propagate.findIndex(
      (rule) => rule.named.toLowerCase() === "host" && String(rule.rename).toLowerCase() === "x-forwarded-host",
    );
    expect(explicit).toBeGreaterThanOrEqual(0);
    expect(fallback).toBeGreaterThan(explicit);
    expect(appEnv.TRUST_PROXY).toBe("true");
  });

  it("shows the conversions subgraph's errors, redacts others, and keeps CSRF prevention on", () => {
    expect(router.include_subgraph_errors.all).toBe(false);
    expect(router.include_subgraph_errors.subgraphs.conversions).toBe(true);
    expect(router.csrf?.unsafe_disabled ?? false).toBe(false);
  });
});

describe("deploy/supergraph.yaml", () => {
  it("composes with the federation version of @apollo/composition", () => {
    expect(supergraphConfig.federation_version).toBe(`=${packageJson.devDependencies["@apollo/composition"]}`);
  });

  it("routes to the compose service and reads the checked-in subgraph schema", () => {
    const subgraph = supergraphConfig.subgraphs.conversions;
    expect(subgraph.routing_url).toBe(router.override_subgraph_url.conversions);
    const schemaPath = posix.join("deploy", subgraph.schema.file);
    expect(schemaPath).toBe("schema/conversions.graphql");
    expect(exists(schemaPath)).toBe(true);
  });
});

describe("deploy/hive-gateway", () => {
  const gatewayPackage = JSON.parse(read("deploy/hive-gateway/package.json"));
  const gatewayLock = JSON.parse(read("deploy/hive-gateway/package-lock.json"));
  // Loaded by path, not by a static import: `npm run typecheck` must not need the gateway installed.
  // Its only import is a type, so loading it needs no gateway either.
  const loadGatewayConfig = (): Promise<any> => import(join(ROOT, "deploy", "hive-gateway", "gateway.config.ts"));

  it("installs on its own: exact pins, its own lockfile, nothing in the subgraph's install", () => {
    const dependencies: Record<string, string> = gatewayPackage.dependencies;
    expect(Object.keys(dependencies)).toContain("@graphql-hive/gateway");
    for (const version of Object.values(dependencies)) expect(version).toMatch(/^\d+\.\d+\.\d+$/);
    expect(gatewayLock.packages[""].dependencies).toEqual(dependencies);
    for (const [name, version] of Object.entries(dependencies)) {
      expect(gatewayLock.packages[`node_modules/${name}`].version).toBe(version);
    }
    const rootDependencies = { ...packageJson.dependencies, ...packageJson.devDependencies };
    expect(Object.keys(rootDependencies).filter((name) => name.startsWith("@graphql-hive/"))).toEqual([]);
    expect(read(".gitignore").split("\n")).toContain("node_modules/");
    expect(read(".ci/run")).toContain("npm ci --prefix deploy/hive-gateway");
  });

  it("is what `npm run gateway` starts, with the config it loads", () => {
    expect(packageJson.scripts.gateway).toBe("node deploy/hive-gateway/start.mjs");
    const launcher = read("deploy/hive-gateway/start.mjs");
    expect(launcher).toContain('"gateway.config.ts"');
    expect(launcher).toContain("npm ci --prefix deploy/hive-gateway");
    expect(exists("deploy/hive-gateway/gateway.config.ts")).toBe(true);
  });

  it("serves the committed supergraph and sends the conversions subgraph to the local one by default", async () => {
    const { gatewayConfig, DEFAULT_CONVERSIONS_SUBGRAPH_URL } = await loadGatewayConfig();
    expect(posix.join("deploy/hive-gateway", gatewayConfig.supergraph)).toBe("deploy/supergraph.graphql");
    // Every subgraph the config names is one the supergraph has.
    const graphs = [...read("deploy/supergraph.graphql").matchAll(/@join__graph\(name: "([^"]+)"/g)].map((m) => m[1]);
    for (const name of Object.keys(gatewayConfig.transportEntries)) expect(graphs).toContain(name);
    const local = new URL(DEFAULT_CONVERSIONS_SUBGRAPH_URL);
    expect(local.port).toBe(String(loadConfig({}).PORT));
    expect(local.pathname).toBe("/graphql");
    expect(gatewayConfig.transportEntries.conversions.location).toBe(
      process.env.CONVERSIONS_SUBGRAPH_URL || DEFAULT_CONVERSIONS_SUBGRAPH_URL,
    );
  });

  it("propagates to the conversions subgraph exactly the headers the app reads, X-Forwarded-Host falling back to Host", async () => {
    const { gatewayConfig } = await loadGatewayConfig();
    const propagate = (headers: Record<string, string>, subgraphName = "conversions") => {
      const sent = gatewayConfig.propagateHeaders.fromClientToSubgraphs({
        request: { headers: new Headers(headers) },
        subgraphName,
        context: {},
      });
      // The gateway drops null and undefined values.
      return Object.fromEntries(Object.entries(sent ?? {}).filter(([, value]) => value != null));
    };
    const expected = headersTheAppReads();
    const client = Object.fromEntries([...expected].map((name) => [name, `value of ${name}`]));
    expect(propagate({ ...client, host: "gateway.example.com", "x-unrelated": "no" })).toEqual(client);

    // Without X-Forwarded-Host, the Host the client called becomes it.
    const { "x-forwarded-host": _, ...withoutForwardedHost } = client;
    expect(propagate({ ...withoutForwardedHost, host: "shop.example.com" })).toEqual({
      ...withoutForwardedHost,
      "x-forwarded-host": "shop.example.com",
    });
    // Credentials go to the subgraph that reads them, not to any other.
    expect(propagate(client, "contacts")).toEqual({});
  });

  it("keeps CSRF prevention on, with the headers Apollo Server and Router accept", async () => {
    const { gatewayConfig } = await loadGatewayConfig();
    expect(gatewayConfig.csrfPrevention.requestHeaders.sort()).toEqual([
      "apollo-require-preflight",
      "x-apollo-operation-name",
    ]);
  });
});
