// The subgraph in a real supergraph: composed with a second subgraph, served by @apollo/gateway
// in process, all over real HTTP. Headers forwarded by the gateway authenticate the caller.
import { composeServices } from "@apollo/composition";
import { ApolloGateway, RemoteGraphQLDataSource } from "@apollo/gateway";
import { ApolloServer } from "@apollo/server";
import { startStandaloneServer } from "@apollo/server/standalone";
import { parse } from "graphql";
import type { Logger as TypeOrmLogger } from "typeorm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { subgraphSdl } from "../../scripts/print-schema";
import { createTenant, graphql, http, startTestApp, type Tenant, type TestApp } from "../helpers/app";
import { contactsTypeDefs, startContactsSubgraph } from "./contacts-subgraph";

const FORWARDED_HEADERS = ["x-api-key", "cookie", "authorization", "x-blaize-jwt", "x-zephr-jwt", "x-forwarded-host"];
const CONTACTS = ["ada@example.com", "Bob@Example.com", "cy@example.com", "dee@example.com", "eve@example.com"];

let app: TestApp;
let acme: Tenant;
let contacts: Awaited<ReturnType<typeof startContactsSubgraph>>;
let gateway: ApolloServer;
let gatewayUrl: string;
const statements: string[] = [];
let highlightIds: string[] = [];

function countingLogger(): TypeOrmLogger {
  const record = (query: string) => void statements.push(query);
  return {
    logQuery: record,
    logQueryError: () => {},
    logQuerySlow: () => {},
    logSchemaBuild: () => {},
    logMigration: () => {},
    log: () => {},
  };
}

beforeAll(async () => {
  app = await startTestApp();
  acme = await createTenant(app, CONTACTS);
  const log = (email: string, conversionType: string) =>
    graphql(
      app,
      `mutation($input: LogConversionInput!) { logConversion(input: $input) { status } }`,
      { input: { email, conversionType } },
      { "x-api-key": acme.apiKey },
    );
  for (const [email, count] of [
    ["ada@example.com", 3],
    ["bob@example.com", 1],
    ["cy@example.com", 0],
    ["dee@example.com", 2],
    ["eve@example.com", 4],
  ] as const) {
    for (let index = 0; index < count; index++) await log(email, index % 2 ? "purchase" : "signup");
  }
  // Another organisation's conversions for the same emails must never show.
  const other = await createTenant(app, CONTACTS);
  await graphql(
    app,
    `mutation { logConversion(input: {email: "ada@example.com", conversionType: "signup"}) { status } }`,
    undefined,
    { "x-api-key": other.apiKey },
  );

  // The campaign references entities of this subgraph: two outcomes and two conversions.
  await app.server.services.sites.add(acme.organisationId, "localhost");
  const base = app.url.replace("127.0.0.1", "localhost");
  for (const [visitor, outcome, converts] of [
    ["v1", "A", true],
    ["v2", "A", false],
    ["v3", "B", true],
  ] as const) {
    const headers = { "content-type": "application/json", cookie: `blaize_tracking_id=${visitor}` };
    const exposed = await http(`${base}/zephr/public/rule-outcomes/v1/exposures`, {
      method: "POST",
      headers,
      body: JSON.stringify({ ruleId: "fed-rule", outcomeId: outcome }),
    });
    expect(exposed.status).toBe(201);
    if (converts) {
      const converted = await http(`${base}/zephr/public/rule-outcomes/v1/conversions`, {
        method: "POST",
        headers,
        body: JSON.stringify({ ruleId: "fed-rule", outcomeId: outcome, conversion: "CUSTOMER" }),
      });
      expect(converted.status).toBe(201);
    }
  }
  const latest = await graphql(app, `{ conversions(first: 2) { edges { node { id } } } }`, undefined, {
    "x-api-key": acme.apiKey,
  });
  highlightIds = latest.body.data.conversions.edges.map((edge: any) => edge.node.id);
  contacts = await startContactsSubgraph(
    CONTACTS.map((email, index) => ({ email, name: `Contact ${index}` })),
    {
      name: "Spring",
      outcomes: [
        { ruleId: "fed-rule", outcomeId: "A" },
        { ruleId: "fed-rule", outcomeId: "B" },
      ],
      highlights: highlightIds.map((id) => ({ id })),
    },
  );
  const composed = composeServices([
    { name: "conversions", url: `${app.url}/graphql`, typeDefs: parse(await subgraphSdl()) },
    { name: "contacts", url: contacts.url, typeDefs: contactsTypeDefs },
  ]);
  expect(composed.errors ?? []).toEqual([]);
  gateway = new ApolloServer({
    gateway: new ApolloGateway({
      supergraphSdl: composed.supergraphSdl as string,
      buildService: ({ url }) =>
        new RemoteGraphQLDataSource<{ headers: Record<string, string | string[] | undefined> }>({
          url,
          willSendRequest({ request, context }) {
            for (const name of FORWARDED_HEADERS) {
              const value = context.headers?.[name];
              if (typeof value === "string") request.http?.headers.set(name, value);
            }
          },
        }),
    }) as never,
  });
  ({ url: gatewayUrl } = await startStandaloneServer(gateway, {
    listen: { port: 0, host: "127.0.0.1" },
    context: async ({ req }) => ({ headers: req.headers }),
  }));
  (app.server.dataSource as unknown as { logger: TypeOrmLogger }).logger = countingLogger();
});

afterAll(async () => {
  await gateway?.stop();
  await contacts?.stop();
  await app?.stop();
});

function viaGateway(query: string, headers: Record<string, string> = {}) {
  return http(gatewayUrl, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify({ query }),
  });
}

describe("through the gateway", () => {
  it("answers contacts with their conversions from this subgraph, one SQL statement per field for all contacts", async () => {
    statements.length = 0;
    const response = await viaGateway(
      `{ contacts { email name conversionCount conversions(first: 2) { id conversionType createdAt } signups: conversionCount(conversionType: "signup") } }`,
      { "x-api-key": acme.apiKey },
    );
    expect(response.body.errors).toBeUndefined();
    const byEmail = Object.fromEntries(response.body.data.contacts.map((contact: any) => [contact.email, contact]));
    expect(byEmail["ada@example.com"]).toMatchObject({ name: "Contact 0", conversionCount: 3, signups: 2 });
    expect(byEmail["ada@example.com"].conversions).toHaveLength(2);
    expect(byEmail["Bob@Example.com"]).toMatchObject({ conversionCount: 1, signups: 1 });
    expect(byEmail["cy@example.com"]).toMatchObject({ conversionCount: 0, conversions: [] });
    expect(byEmail["eve@example.com"].conversions.map((c: any) => c.createdAt)).toEqual(
      [...byEmail["eve@example.com"].conversions.map((c: any) => c.createdAt)].sort().reverse(),
    );
    const onConversions = statements.filter((sql) => /\bFROM conversions\b/i.test(sql));
    // conversions(first: 2), conversionCount, conversionCount(conversionType): three fields, three statements, for five contacts.
    expect(onConversions).toHaveLength(3);
  });

  it("authenticates with the forwarded X-API-Key: a wrong key is UNAUTHENTICATED", async () => {
    const response = await viaGateway(`{ contacts { email conversionCount } }`, {
      "x-api-key": "cvk_0000000000000000_wrong",
    });
    expect(response.body.errors[0].extensions.code).toBe("UNAUTHENTICATED");
    const anonymous = await viaGateway(`{ contacts { email conversionCount } }`);
    expect(anonymous.body.errors[0].extensions.code).toBe("UNAUTHENTICATED");
  });

  it("resolves conversion and rule-outcome entities another subgraph points at", async () => {
    statements.length = 0;
    const response = await viaGateway(
      `{ campaign { name outcomes { ruleId outcomeId exposures converters conversionRate } highlights { id email conversionType } } }`,
      { "x-api-key": acme.apiKey },
    );
    expect(response.body.errors).toBeUndefined();
    const campaign = response.body.data.campaign;
    expect(campaign.outcomes).toEqual([
      { ruleId: "fed-rule", outcomeId: "A", exposures: 2, converters: 1, conversionRate: 0.5 },
      { ruleId: "fed-rule", outcomeId: "B", exposures: 1, converters: 1, conversionRate: 1 },
    ]);
    expect(campaign.highlights.map((conversion: any) => conversion.id)).toEqual(highlightIds);
    expect(campaign.highlights.every((conversion: any) => typeof conversion.email === "string")).toBe(true);
    // One _entities call from the gateway, one statement per entity type.
    expect(statements.filter((sql) => /\bFROM [`"]?conversions/i.test(sql))).toHaveLength(1);
    expect(statements.filter((sql) => /rule_outcome/i.test(sql))).toHaveLength(1);
  });

  it("queries this subgraph's own fields through the supergraph", async () => {
    const response = await viaGateway(`{ conversions(first: 3) { edges { node { email conversionType } } } }`, {
      "x-api-key": acme.apiKey,
    });
    expect(response.body.data.conversions.edges).toHaveLength(3);
  });
});

describe("entities resolved by _entities, batched", () => {
  const entities = `query($representations: [_Any!]!) { _entities(representations: $representations) {
    ... on Conversion { id email conversionType }
    ... on RuleOutcome { ruleId outcomeId exposures converters conversions conversionRate confidenceInterval { lower upper } }
    ... on Contact { email conversionCount }
  } }`;

  it("resolves many Conversion references with one SQL statement, null for another organisation's", async () => {
    const list = await graphql(app, `{ conversions(first: 10) { edges { node { id email } } } }`, undefined, {
      "x-api-key": acme.apiKey,
    });
    const ids: string[] = list.body.data.conversions.edges.map((edge: any) => edge.node.id);
    expect(ids.length).toBe(10);
    const foreign = await createTenant(app, ["x@example.com"]);
    const foreignLog = await graphql(
      app,
      `mutation { logConversion(input: {email: "x@example.com"}) { conversion { id } } }`,
      undefined,
      { "x-api-key": foreign.apiKey },
    );
    const foreignId = foreignLog.body.data.logConversion.conversion.id;
    statements.length = 0;
    const response = await graphql(
      app,
      entities,
      { representations: [...ids, foreignId].map((id) => ({ __typename: "Conversion", id })) },
      { "x-api-key": acme.apiKey },
    );
    expect(response.body.errors).toBeUndefined();
    expect(response.body.data._entities.slice(0, 10).map((entity: any) => entity.id)).toEqual(ids);
    expect(response.body.data._entities[10]).toBeNull();
    expect(statements.filter((sql) => /\bFROM [`"]?conversions/i.test(sql))).toHaveLength(1);
  });

  it("resolves RuleOutcome references with their totals for the caller's organisation, in one statement", async () => {
    statements.length = 0;
    const representations = [
      { __typename: "RuleOutcome", ruleId: "fed-rule", outcomeId: "A" },
      { __typename: "RuleOutcome", ruleId: "fed-rule", outcomeId: "B" },
      { __typename: "RuleOutcome", ruleId: "fed-rule", outcomeId: "nope" },
    ];
    const response = await graphql(app, entities, { representations }, { "x-api-key": acme.apiKey });
    expect(response.body.errors).toBeUndefined();
    const [a, b, missing] = response.body.data._entities;
    expect(a).toMatchObject({
      ruleId: "fed-rule",
      outcomeId: "A",
      exposures: 2,
      converters: 1,
      conversions: 1,
      conversionRate: 0.5,
    });
    expect(b).toMatchObject({ outcomeId: "B", exposures: 1, converters: 1, conversionRate: 1 });
    expect(a.confidenceInterval.lower).toBeLessThan(0.5);
    expect(missing).toBeNull();
    expect(statements.filter((sql) => /rule_outcome/i.test(sql))).toHaveLength(1);

    const stranger = await createTenant(app);
    const theirs = await graphql(app, entities, { representations }, { "x-api-key": stranger.apiKey });
    expect(theirs.body.data._entities).toEqual([null, null, null]);
  });

  it("resolves Contact references to this subgraph's fields", async () => {
    const response = await graphql(
      app,
      entities,
      {
        representations: [
          { __typename: "Contact", email: "dee@example.com" },
          { __typename: "Contact", email: "nobody@example.com" },
        ],
      },
      { "x-api-key": acme.apiKey },
    );
    expect(response.body.data._entities).toEqual([
      { email: "dee@example.com", conversionCount: 2 },
      { email: "nobody@example.com", conversionCount: 0 },
    ]);
  });
});
