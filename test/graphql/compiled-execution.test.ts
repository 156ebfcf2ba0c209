// Documents run on graphql-js until they come back, then compiled by graphql-jit: the two must answer alike,
// byte for byte, for data, domain errors, bad variables, federation's fields and entities.
import { ApolloServer } from "@apollo/server";
import { buildSchema, type GraphQLObjectType, parse } from "graphql";
import type { Logger } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { compiledExecutor, localSchemaGateway } from "../../src/graphql/compiled-execution";
import { graphQLErrorFormatter } from "../../src/graphql/errors";
import { createTenant, graphql, http, startTestApp, type Tenant, type TestApp } from "../helpers/app";

describe("compiledExecutor", () => {
  const schema = buildSchema("type Query { hello(name: String!): String }");
  const resolvers = { hello: ({ name }: { name: string }) => `hello ${name}` };
  // buildSchema's fields read the root value: the resolvers live there.
  schema.getQueryType()!.getFields().hello.resolve = (_root, args) => resolvers.hello(args as { name: string });

  function request(query: string, variables: Record<string, unknown>) {
    const document = parse(query);
    const operation = document.definitions[0] as never;
    return (variablesNow = variables) =>
      ({ document, operation, request: { query, variables: variablesNow }, context: {}, operationName: null }) as never;
  }

  it("compiles a document after the given number of executions, once, and answers as graphql-js did", async () => {
    const compilations: boolean[] = [];
    const execute = compiledExecutor(schema, {
      executionsBeforeCompiling: 2,
      onCompiled: (_name, compiled) => compilations.push(compiled),
    });
    const next = request("query($name: String!) { hello(name: $name) }", { name: "ada" });
    const answers = [];
    for (let run = 0; run < 4; run++) answers.push(await execute(next()));
    expect(compilations).toEqual([true]);
    for (const answer of answers) expect(answer).toEqual({ data: { hello: "hello ada" } });
  });

  it("answers a bad variable with graphql-js's error, which names the variable's node", async () => {
    const execute = compiledExecutor(schema, { executionsBeforeCompiling: 0 });
    const next = request("query($name: String!) { hello(name: $name) }", { name: "ada" });
    const bad = await execute(next({ name: 3 } as never));
    expect(bad.errors?.[0].message).toBe(
      'Variable "$name" got invalid value 3; String cannot represent a non string value: 3',
    );
    expect((bad.errors?.[0] as unknown as { nodes: { kind: string }[] } | undefined)?.nodes[0].kind).toBe(
      "VariableDefinition",
    );
    expect(await execute(next())).toEqual({ data: { hello: "hello ada" } });
  });
});

describe("a failed resolver, compiled and not", () => {
  // graphql-jit left `extensions` undefined on such errors: Apollo's formatting then failed on them and
  // answered a bare "Internal server error" without its path, never calling the service's formatter (its log).
  it("is answered alike, with its path, and reaches the error formatter every time", async () => {
    const schema = buildSchema("type Query { items: [Item!]! } type Item { n: Int! bad: Int }");
    schema.getQueryType()!.getFields().items.resolve = () => [{ n: 1 }, { n: 2 }];
    (schema.getType("Item") as GraphQLObjectType).getFields().bad.resolve = () =>
      Promise.reject(new Error("SELECT * FROM secret failed"));
    const logged: unknown[] = [];
    const logger = { error: (object: unknown) => logged.push(object) } as unknown as Logger;
    const server = new ApolloServer({
      gateway: localSchemaGateway(schema, { executionsBeforeCompiling: 1 }),
      formatError: graphQLErrorFormatter(logger),
    });
    await server.start();
    const answers = [];
    for (let run = 0; run < 3; run++) {
      const { body } = await server.executeOperation({ query: "{ items { n bad } }" });
      answers.push(body.kind === "single" ? body.singleResult : null);
    }
    await server.stop();
    expect(answers[0]).toEqual({
      data: {
        items: [
          { n: 1, bad: null },
          { n: 2, bad: null },
        ],
      },
      errors: [0, 1].map((index) => ({
        message: "Internal server error",
        path: ["items", index, "bad"],
        extensions: { code: "INTERNAL_SERVER_ERROR" },
      })),
    });
    expect(answers[1]).toEqual(answers[0]);
    expect(answers[2]).toEqual(answers[0]);
    // Two distinct errors an execution (one per item), each logged: six in all, none swallowed.
    expect(logged).toHaveLength(6);
  });
});

describe("the service's answers, compiled and not", () => {
  let app: TestApp;
  let acme: Tenant;
  const RULE = "compiled-rule";

  beforeAll(async () => {
    const bootstrap = await startTestApp();
    acme = await createTenant(bootstrap, ["ada@example.com"]);
    await bootstrap.server.close();
    // The first execution of a document on graphql-js, the next ones compiled.
    app = await startTestApp(
      { DEFAULT_ORGANISATION_ID: acme.organisationId, GRAPHQL_COMPILE_AFTER: "1" },
      bootstrap.database,
    );
    for (const [visitor, outcomeId, conversion] of [
      ["v1", "a", undefined],
      ["v2", "b", undefined],
      ["v3", "a", undefined],
      ["v1", "a", "REGISTERED"],
      ["v2", "b", "CUSTOMER"],
    ]) {
      const response = await http(
        `${app.url}/zephr/public/rule-outcomes/v1/${conversion ? "conversions" : "exposures"}`,
        {
          method: "POST",
          headers: { "content-type": "application/json", cookie: `blaize_tracking_id=${visitor}` },
          body: JSON.stringify({ ruleId: RULE, outcomeId, conversion }),
        },
      );
      expect(response.status).toBe(201);
    }
  });
  afterAll(() => app?.stop());

  const cases: [string, string, Record<string, unknown>][] = [
    [
      "the stats",
      `query($ruleId: ID!) { outcomeConversionStats(ruleId: $ruleId) { ruleId totalExposures crossoverVisitors
         sampleRatioMismatchPValue outcomes { outcomeId exposures converters conversionRate
         confidenceInterval { lower upper } uplift pValue probabilityToBeBest chanceToBeatBaseline expectedLoss
         differenceInterval { lower upper } sequentialPValue adjustedPValue } } }`,
      { ruleId: RULE },
    ],
    [
      "the series",
      `query($ruleId: ID!) { outcomeConversionSeries(ruleId: $ruleId, from: "2026-01-01", to: "2026-01-03") {
         days { day outcomes { outcomeId exposures converters conversions conversionRate
         confidenceInterval { lower upper } uplift pValue sequentialPValue probabilityToBeBest } } } }`,
      { ruleId: RULE },
    ],
    [
      "a domain error",
      "query($ruleId: ID!) { outcomeConversionStats(ruleId: $ruleId, sequentialTuning: 0) { ruleId } }",
      { ruleId: RULE },
    ],
    [
      "a bad enum variable (an error)",
      'query($adjust: PValueAdjustment) { outcomeConversionStats(ruleId: "x", pValueAdjustment: $adjust) { ruleId } }',
      { adjust: "BONFERRONI" },
    ],
    [
      "a mutation (not a contact: nothing stored)",
      `mutation($input: LogConversionInput!) { logConversion(input: $input) { status replayed } }`,
      { input: { email: "nobody@example.com", conversionType: "signup" } },
    ],
    ["federation's service field", "{ _service { sdl } }", {}],
    [
      "entities",
      `query($representations: [_Any!]!) { _entities(representations: $representations) {
         ... on RuleOutcome { ruleId outcomeId } ... on Contact { email } } }`,
      {
        representations: [
          { __typename: "RuleOutcome", ruleId: RULE, outcomeId: "b" },
          { __typename: "Contact", email: "ada@example.com" },
        ],
      },
    ],
  ];

  for (const [name, query, variables] of cases) {
    it(`answers ${name} alike on graphql-js and compiled`, async () => {
      const headers = { "x-api-key": acme.apiKey };
      const first = await graphql(app, query, variables, headers);
      const second = await graphql(app, query, variables, headers);
      const third = await graphql(app, query, variables, headers);
      // Validation errors would never reach either executor: each case is executed, with data or not.
      if (name.includes("error")) expect(first.body.errors?.length).toBeGreaterThan(0);
      else {
        expect(first.body.errors).toBeUndefined();
        expect(first.body.data).toBeTruthy();
      }
      expect(second.status).toBe(first.status);
      expect(second.text).toBe(first.text);
      expect(third.text).toBe(first.text);
    });
  }
});
