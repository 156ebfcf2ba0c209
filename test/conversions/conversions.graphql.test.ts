// logConversion and the conversions query over GraphQL, on the running app.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Conversion } from "../../src/conversions/conversion.entity";
import { createTenant, graphql, startTestApp, type Tenant, type TestApp } from "../helpers/app";

let app: TestApp;
let acme: Tenant;

const LOG = `mutation Log($input: LogConversionInput!) {
  logConversion(input: $input) { status conversion { id email conversionType conversionData createdAt } }
}`;
const LIST = `query List($email: String, $conversionType: String, $from: DateTime, $to: DateTime, $first: Int, $after: String) {
  conversions(email: $email, conversionType: $conversionType, from: $from, to: $to, first: $first, after: $after) {
    edges { cursor node { id email conversionType conversionData createdAt } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}`;

beforeAll(async () => {
  app = await startTestApp();
  acme = await createTenant(app, ["user@example.com"]);
});
afterAll(() => app?.stop());

describe("logConversion", () => {
  it("stores the event for a contact and answers ACCEPTED", async () => {
    const response = await graphql(
      app,
      `mutation { logConversion(input: {email: "user@example.com", conversionType: "purchase", conversionData: {item: "premium_subscription", price: 99.99}}) { status conversion { id conversionData } } }`,
      undefined,
      { "x-api-key": acme.apiKey },
    );
    expect(response.status).toBe(200);
    expect(response.body.errors).toBeUndefined();
    const payload = response.body.data.logConversion;
    expect(payload.status).toBe("ACCEPTED");
    expect(payload.conversion.conversionData).toEqual({ item: "premium_subscription", price: 99.99 });
    const row = await app.server.dataSource.getRepository(Conversion).findOneByOrFail({ id: payload.conversion.id });
    expect(row).toMatchObject({ organisationId: acme.organisationId, conversionType: "purchase" });
  });

  it("answers CONTACT_NOT_FOUND and stores nothing for a stranger", async () => {
    const tenant = await createTenant(app);
    const response = await graphql(
      app,
      LOG,
      { input: { email: "stranger@example.com" } },
      { "x-api-key": tenant.apiKey },
    );
    expect(response.body.data.logConversion).toEqual({ status: "CONTACT_NOT_FOUND", conversion: null });
    expect(
      await app.server.dataSource.getRepository(Conversion).countBy({ organisationId: tenant.organisationId }),
    ).toBe(0);
  });

  it("is UNAUTHENTICATED with HTTP 401 for a missing or wrong key", async () => {
    for (const headers of [{}, { "x-api-key": "cvk_0000000000000000_nope" }] as Record<string, string>[]) {
      const response = await graphql(app, LOG, { input: { email: "user@example.com" } }, headers);
      expect(response.status).toBe(401);
      expect(response.body.errors[0].extensions.code).toBe("UNAUTHENTICATED");
      expect(response.body.data).toBeNull();
    }
  });

  it("is BAD_USER_INPUT naming the field, with the same rules as REST", async () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ email: "" }, "email"],
      [{ email: "a@b.c", conversionType: "t".repeat(64) }, "conversionType"],
      [{ email: "a@b.c", conversionData: [1] }, "conversionData"],
      [{ email: "a@b.c", conversionData: "text" }, "conversionData"],
    ];
    for (const [input, field] of cases) {
      const response = await graphql(app, LOG, { input }, { "x-api-key": acme.apiKey });
      expect(response.status).toBe(400);
      expect(response.body.errors[0].extensions).toMatchObject({ code: "BAD_USER_INPUT", field });
    }
  });

  it("rejects a missing email through GraphQL's own validation as BAD_USER_INPUT", async () => {
    const response = await graphql(app, LOG, { input: { conversionType: "x" } }, { "x-api-key": acme.apiKey });
    expect(response.status).toBe(400);
    expect(response.body.errors[0].extensions.code).toBe("BAD_USER_INPUT");
    expect(response.body.errors[0].message).toContain("email");
  });
});

describe("conversions query", () => {
  let tenant: Tenant;
  const logged: { id: string; createdAt: string; email: string; conversionType: string }[] = [];

  beforeAll(async () => {
    tenant = await createTenant(app, ["one@example.com", "two@example.com"]);
    for (let index = 0; index < 7; index++) {
      const email = index % 2 === 0 ? "one@example.com" : "two@example.com";
      const conversionType = index < 4 ? "signup" : "purchase";
      const response = await graphql(
        app,
        LOG,
        { input: { email, conversionType, conversionData: { index } } },
        { "x-api-key": tenant.apiKey },
      );
      logged.push(response.body.data.logConversion.conversion);
    }
    // Noise in another organisation that must never show up.
    const other = await createTenant(app, ["one@example.com"]);
    await graphql(app, LOG, { input: { email: "one@example.com" } }, { "x-api-key": other.apiKey });
  });

  it("pages newest first with cursors, and only the caller's organisation", async () => {
    const seen: string[] = [];
    let after: string | null = null;
    let pages = 0;
    do {
      const response = await graphql(app, LIST, { first: 3, after }, { "x-api-key": tenant.apiKey });
      const connection: { edges: { node: { id: string } }[]; pageInfo: { hasNextPage: boolean; endCursor: string } } =
        response.body.data.conversions;
      seen.push(...connection.edges.map((edge) => edge.node.id));
      after = connection.pageInfo.hasNextPage ? connection.pageInfo.endCursor : null;
      pages++;
    } while (after);
    expect(pages).toBe(3);
    const expected = [...logged]
      .sort((a, b) => (a.createdAt === b.createdAt ? (a.id < b.id ? 1 : -1) : a.createdAt < b.createdAt ? 1 : -1))
      .map((conversion) => conversion.id);
    expect(seen).toEqual(expected);
  });

  it("filters by email (any case), type and time", async () => {
    const byEmail = await graphql(app, LIST, { email: " TWO@example.com" }, { "x-api-key": tenant.apiKey });
    expect(byEmail.body.data.conversions.edges).toHaveLength(3);
    const byType = await graphql(
      app,
      LIST,
      { conversionType: "purchase", email: "one@example.com" },
      { "x-api-key": tenant.apiKey },
    );
    expect(
      byType.body.data.conversions.edges.map(
        (edge: { node: { conversionData: { index: number } } }) => edge.node.conversionData.index,
      ),
    ).toEqual([6, 4]);
    const last = logged[6].createdAt;
    const fromLast = await graphql(app, LIST, { from: last }, { "x-api-key": tenant.apiKey });
    expect(
      fromLast.body.data.conversions.edges.every(
        (edge: { node: { createdAt: string } }) => edge.node.createdAt >= last,
      ),
    ).toBe(true);
    const future = await graphql(app, LIST, { from: "2999-01-01T00:00:00Z" }, { "x-api-key": tenant.apiKey });
    expect(future.body.data.conversions.edges).toEqual([]);
  });

  it("caps first at 100 and rejects bad arguments", async () => {
    const capped = await graphql(app, LIST, { first: 1000 }, { "x-api-key": tenant.apiKey });
    expect(capped.body.data.conversions.edges).toHaveLength(7);
    const negative = await graphql(app, LIST, { first: -1 }, { "x-api-key": tenant.apiKey });
    expect(negative.body.errors[0].extensions.code).toBe("BAD_USER_INPUT");
    const badCursor = await graphql(app, LIST, { after: "garbage" }, { "x-api-key": tenant.apiKey });
    expect(badCursor.body.errors[0].extensions).toMatchObject({ code: "BAD_USER_INPUT", field: "after" });
    const reversed = await graphql(
      app,
      LIST,
      { from: "2026-02-01T00:00:00Z", to: "2026-01-01T00:00:00Z" },
      { "x-api-key": tenant.apiKey },
    );
    expect(reversed.body.errors[0].extensions.code).toBe("BAD_USER_INPUT");
  });

  it("needs an API key", async () => {
    const response = await graphql(app, LIST, {});
    expect(response.status).toBe(401);
    expect(response.body.errors[0].extensions.code).toBe("UNAUTHENTICATED");
  });
});

describe("federation basics", () => {
  it("serves the subgraph SDL through _service without a key", async () => {
    const response = await graphql(app, "{ _service { sdl } }");
    expect(response.status).toBe(200);
    expect(response.body.data._service.sdl).toContain('@link(url: "https://specs.apollo.dev/federation/v2.7"');
    expect(response.body.data._service.sdl).toContain(
      "logConversion(input: LogConversionInput!): LogConversionPayload!",
    );
  });
});
