// upsertContacts over GraphQL, on the running app: contacts are per organisation, and a contact
// added this way is one logConversion accepts.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTenant, graphql, startTestApp, type Tenant, type TestApp } from "../helpers/app";

let app: TestApp;
let acme: Tenant;

const LOG = `mutation Log($input: LogConversionInput!) { logConversion(input: $input) { status } }`;

beforeAll(async () => {
  app = await startTestApp();
  acme = await createTenant(app);
});
afterAll(() => app?.stop());

describe("upsertContacts", () => {
  it("adds new emails, counts the known ones, and scopes them to the caller", async () => {
    const tenant = await createTenant(app);
    const upsert = `mutation($emails: [String!]!) { upsertContacts(emails: $emails) { added existing } }`;
    const first = await graphql(
      app,
      upsert,
      { emails: ["A@x.io", "b@x.io", "a@x.io"] },
      { "x-api-key": tenant.apiKey },
    );
    expect(first.body.data.upsertContacts).toEqual({ added: 2, existing: 1 });
    const second = await graphql(app, upsert, { emails: ["b@X.io", "c@x.io"] }, { "x-api-key": tenant.apiKey });
    expect(second.body.data.upsertContacts).toEqual({ added: 1, existing: 1 });
    // The same email in another organisation is a different contact.
    const other = await createTenant(app);
    const third = await graphql(app, upsert, { emails: ["a@x.io"] }, { "x-api-key": other.apiKey });
    expect(third.body.data.upsertContacts).toEqual({ added: 1, existing: 0 });
    const logged = await graphql(app, LOG, { input: { email: "C@X.IO" } }, { "x-api-key": tenant.apiKey });
    expect(logged.body.data.logConversion.status).toBe("ACCEPTED");
  });

  it("rejects invalid emails and oversized lists", async () => {
    const upsert = `mutation($emails: [String!]!) { upsertContacts(emails: $emails) { added existing } }`;
    const invalid = await graphql(app, upsert, { emails: ["ok@x.io", "not-an-email"] }, { "x-api-key": acme.apiKey });
    expect(invalid.status).toBe(400);
    expect(invalid.body.errors[0].extensions).toMatchObject({ code: "BAD_USER_INPUT", field: "emails.1" });
    const many = Array.from({ length: 1001 }, (_, index) => `u${index}@x.io`);
    const tooMany = await graphql(app, upsert, { emails: many }, { "x-api-key": acme.apiKey });
    expect(tooMany.body.errors[0].extensions.code).toBe("BAD_USER_INPUT");
  });
});
