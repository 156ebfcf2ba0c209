// A second real gateway: Hive Gateway (deploy/hive-gateway, started as `npm run gateway` starts it)
// in front of the subgraph (`node dist/src/main.js`) and the contacts subgraph, all over real HTTP.
// The supergraph is composed from this test's own subgraph URLs; the gateway's header propagation
// must carry the key, the cookie, the host and the request id, or these calls fail.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { composeServices } from "@apollo/composition";
import { parse } from "graphql";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../helpers/database";
import {
  adminCommand,
  freePort,
  MAIN,
  queryDatabase,
  type RunningProgram,
  startProgram,
  waitUntilAnswering,
} from "../helpers/processes";
import { rawRequest } from "../helpers/raw-http";
import { contactsTypeDefs, startContactsSubgraph } from "./contacts-subgraph";

const ROOT = join(__dirname, "..", "..");
const GATEWAY_DIR = join(ROOT, "deploy", "hive-gateway");
const MISSING_GATEWAY = `deploy/hive-gateway/node_modules is missing: install Hive Gateway with \`npm ci --prefix deploy/hive-gateway\` (.ci/run does) before running this test`;

const SHOP_HOST = "shop.example.test";
const OTHER_HOST = "other.example.test";

interface Org {
  id: string;
  key: string;
}

let database: TestDatabase;
let scratch: string;
let subgraph: RunningProgram;
let subgraphUrl: string;
let contacts: Awaited<ReturnType<typeof startContactsSubgraph>>;
let gateway: RunningProgram | undefined;
let gatewayStarted: Promise<void> | undefined;
let gatewayUrl: string;
let acme: Org;
let other: Org;

/**
 * The two organisations, made with the admin command line as users make them. The first command
 * migrates the fresh database. On MySQL/MariaDB the others run side by side; SQLite refuses, rather
 * than waits, to upgrade a read transaction another process wrote under, so there they run in turn.
 */
async function createOrgs(): Promise<[Org, Org]> {
  const admin =
    (...args: string[]) =>
    () =>
      adminCommand<Record<string, string>>(args, database.env);
  const run = async (commands: (() => Promise<Record<string, string>>)[]) => {
    if (database.kind === "mysql") return Promise.all(commands.map((command) => command()));
    const results: Record<string, string>[] = [];
    for (const command of commands) results.push(await command());
    return results;
  };
  const [{ id: acmeId }] = await run([admin("org:create", "--name", "Acme")]);
  const emails = ["ada@example.com", "bob@example.com", "cy@example.com"].flatMap((email) => ["--email", email]);
  const [{ key: acmeKey }, { id: otherId }] = await run([
    admin("apikey:create", "--org", acmeId),
    admin("org:create", "--name", "Other"),
    admin("site:add", "--org", acmeId, "--host", SHOP_HOST),
    admin("contacts:add", "--org", acmeId, ...emails),
  ]);
  const [{ key: otherKey }] = await run([
    admin("apikey:create", "--org", otherId),
    admin("site:add", "--org", otherId, "--host", OTHER_HOST),
  ]);
  return [
    { id: acmeId, key: acmeKey },
    { id: otherId, key: otherKey },
  ];
}

/** POSTs one operation to `url` with exactly these headers (Host included, which fetch cannot set). */
async function post(url: string, query: string, headers: Record<string, string> = {}) {
  return rawRequest(url, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify({ query }),
  });
}
const viaGateway = (query: string, headers: Record<string, string> = {}) => post(gatewayUrl, query, headers);

async function stop(program: RunningProgram | undefined) {
  if (!program || program.child.exitCode !== null || program.child.signalCode !== null) return;
  program.child.kill("SIGTERM");
  await program.exited;
}

/** Hive Gateway as `npm run gateway` starts it, on a supergraph of the test's subgraph URLs. */
async function startGateway(conversionsUrl: string, contactsUrl: string): Promise<void> {
  const composed = composeServices([
    {
      name: "conversions",
      url: conversionsUrl,
      typeDefs: parse(readFileSync(join(ROOT, "schema", "conversions.graphql"), "utf8")),
    },
    { name: "contacts", url: contactsUrl, typeDefs: contactsTypeDefs },
  ]);
  expect(composed.errors ?? []).toEqual([]);
  scratch = mkdtempSync(join(tmpdir(), "hive-gateway-test-"));
  const supergraphPath = join(scratch, "supergraph.graphql");
  writeFileSync(supergraphPath, composed.supergraphSdl as string);
  const port = await freePort();
  gateway = startProgram(
    join(GATEWAY_DIR, "start.mjs"),
    [],
    {
      GATEWAY_HOST: "127.0.0.1",
      GATEWAY_PORT: String(port),
      SUPERGRAPH_PATH: supergraphPath,
      CONVERSIONS_SUBGRAPH_URL: conversionsUrl,
      NO_COLOR: "1",
    },
    300_000,
  );
  gatewayUrl = `http://127.0.0.1:${port}/graphql`;
  await waitUntilAnswering(`http://127.0.0.1:${port}/readiness`, gateway, "Hive Gateway", 60_000);
}

beforeAll(async () => {
  if (!existsSync(join(GATEWAY_DIR, "node_modules", "@graphql-hive", "gateway"))) throw new Error(MISSING_GATEWAY);
  database = await createTestDatabase();
  const subgraphPort = await freePort();
  const subgraphBase = `http://127.0.0.1:${subgraphPort}`;
  subgraphUrl = `${subgraphBase}/graphql`;
  contacts = await startContactsSubgraph(
    [
      { email: "ada@example.com", name: "Ada" },
      { email: "bob@example.com", name: "Bob" },
      { email: "cy@example.com", name: "Cy" },
    ],
    { name: "Spring", outcomes: [], highlights: [] },
  );
  // The gateway reads its supergraph from a file and needs no subgraph to start: it starts while
  // the admin command line creates the tenants (before the subgraph starts, one writer at a time).
  gatewayStarted = startGateway(subgraphUrl, contacts.url);
  gatewayStarted.catch(() => {}); // awaited below
  [acme, other] = await createOrgs();
  subgraph = startProgram(
    MAIN,
    [],
    // TRUST_PROXY as in docker-compose.yml: the tenant host arrives as X-Forwarded-Host.
    {
      ...database.env,
      HOST: "127.0.0.1",
      PORT: String(subgraphPort),
      LOG_LEVEL: "info",
      LOG_REQUESTS: "true",
      TRUST_PROXY: "true",
    },
    300_000,
  );
  await waitUntilAnswering(`${subgraphBase}/ready`, subgraph, "main.js");
  await gatewayStarted;

  // Seeded straight on the subgraph: the join below reads them through the gateway.
  for (const [email, conversionType] of [
    ["ada@example.com", "signup"],
    ["ada@example.com", "purchase"],
    ["bob@example.com", "signup"],
  ]) {
    const logged = await post(
      subgraphUrl,
      `mutation { logConversion(input: {email: "${email}", conversionType: "${conversionType}"}) { status } }`,
      { "x-api-key": acme.key },
    );
    expect(logged.body.data?.logConversion.status, logged.text).toBe("ACCEPTED");
  }
}, 180_000);

afterAll(async () => {
  await gatewayStarted?.catch(() => {}); // so a gateway still starting is stopped too
  await Promise.all([stop(gateway), contacts?.stop(), stop(subgraph)]);
  await database?.drop();
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

describe("through Hive Gateway", () => {
  it("joins contacts (contacts subgraph) with their conversions (this subgraph) for the forwarded key", async () => {
    const response = await viaGateway(
      `{ contacts { email name conversionCount conversions { conversionType } signups: conversionCount(conversionType: "signup") } }`,
      { "x-api-key": acme.key },
    );
    expect(response.status).toBe(200);
    expect(response.body.errors).toBeUndefined();
    const byEmail = Object.fromEntries(response.body.data.contacts.map((contact: any) => [contact.email, contact]));
    expect(byEmail["ada@example.com"]).toMatchObject({ name: "Ada", conversionCount: 2, signups: 1 });
    expect(byEmail["ada@example.com"].conversions.map((c: any) => c.conversionType).sort()).toEqual([
      "purchase",
      "signup",
    ]);
    expect(byEmail["bob@example.com"]).toMatchObject({ name: "Bob", conversionCount: 1, signups: 1 });
    expect(byEmail["cy@example.com"]).toMatchObject({ name: "Cy", conversionCount: 0, conversions: [] });
  });

  it("logs a conversion for the organisation of the propagated X-API-Key, with the client's X-Request-Id", async () => {
    const response = await viaGateway(
      `mutation { logConversion(input: {email: "cy@example.com", conversionType: "hive-gateway"}) { status conversion { email conversionType } } }`,
      { "x-api-key": acme.key, "x-request-id": "hive-gateway-log-1" },
    );
    expect(response.body.errors).toBeUndefined();
    expect(response.body.data.logConversion).toEqual({
      status: "ACCEPTED",
      conversion: { email: "cy@example.com", conversionType: "hive-gateway" },
    });
    const rows = await queryDatabase<{ organisation_id: string }>(
      database,
      "SELECT organisation_id FROM conversions WHERE conversion_type = ?",
      ["hive-gateway"],
    );
    expect(rows.map((row) => row.organisation_id)).toEqual([acme.id]);
    // The subgraph logged the request under the id the client chose.
    expect(subgraph.stdout()).toContain('"reqId":"hive-gateway-log-1"');
  });

  it("records public exposures and conversions for the tenant of the client's Host, the visitor of its cookie", async () => {
    const record = (mutation: string, visitor: string) =>
      viaGateway(`mutation { ${mutation} }`, { host: SHOP_HOST, cookie: `blaize_tracking_id=${visitor}` });
    for (const visitor of ["hive-v1", "hive-v2"]) {
      const exposed = await record(
        `recordRuleOutcomeExposure(input: {ruleId: "hive-rule", outcomeId: "A"}) { ruleId outcomeIds }`,
        visitor,
      );
      expect(exposed.body).toEqual({ data: { recordRuleOutcomeExposure: { ruleId: "hive-rule", outcomeIds: ["A"] } } });
    }
    const converted = await record(
      `recordRuleConversion(input: {ruleId: "hive-rule", outcomeId: "A", conversion: "SIGNUP"}) { outcomeIds conversion }`,
      "hive-v1",
    );
    expect(converted.body).toEqual({ data: { recordRuleConversion: { outcomeIds: ["A"], conversion: "SIGNUP" } } });

    const stats = `{ outcomeConversionStats(ruleId: "hive-rule", conversion: "SIGNUP") { outcomes { outcomeId exposures converters } } }`;
    const mine = await viaGateway(stats, { "x-api-key": acme.key });
    expect(mine.body.data.outcomeConversionStats.outcomes).toEqual([{ outcomeId: "A", exposures: 2, converters: 1 }]);
    const theirs = await viaGateway(stats, { "x-api-key": other.key });
    expect(theirs.body.data.outcomeConversionStats.outcomes).toEqual([]);
  });

  it("lets an explicit X-Forwarded-Host decide the tenant over the Host the client called", async () => {
    const exposed = await viaGateway(
      `mutation { recordRuleOutcomeExposure(input: {ruleId: "hive-forwarded", outcomeId: "B"}) { outcomeIds } }`,
      { host: SHOP_HOST, "x-forwarded-host": OTHER_HOST, cookie: "blaize_tracking_id=hive-v3" },
    );
    expect(exposed.body.errors).toBeUndefined();
    const stats = `{ outcomeConversionStats(ruleId: "hive-forwarded") { outcomes { outcomeId exposures } } }`;
    const theirs = await viaGateway(stats, { "x-api-key": other.key });
    expect(theirs.body.data.outcomeConversionStats.outcomes).toEqual([{ outcomeId: "B", exposures: 1 }]);
    const mine = await viaGateway(stats, { "x-api-key": acme.key });
    expect(mine.body.data.outcomeConversionStats.outcomes).toEqual([]);
  });

  it("answers UNAUTHENTICATED for a wrong key or none, also on fields joined onto another subgraph's entity", async () => {
    const wrongKeyOrNone: Record<string, string>[] = [{ "x-api-key": "cvk_0000000000000000_wrong" }, {}];
    for (const headers of wrongKeyOrNone) {
      const own = await viaGateway(`{ conversions(first: 1) { edges { node { id } } } }`, headers);
      expect(own.body.errors?.[0]?.extensions?.code, own.text).toBe("UNAUTHENTICATED");
      const joined = await viaGateway(`{ contacts { email conversionCount } }`, headers);
      expect(joined.body.errors?.[0]?.extensions?.code, joined.text).toBe("UNAUTHENTICATED");
    }
  });

  it("keeps CSRF prevention on: a request a browser sends without a preflight is refused", async () => {
    const response = await rawRequest(gatewayUrl, {
      method: "POST",
      headers: { "content-type": "text/plain" },
      body: JSON.stringify({ query: "{ __typename }" }),
    });
    expect(response.status).toBe(403);
  });
});
