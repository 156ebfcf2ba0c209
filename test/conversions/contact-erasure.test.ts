// Erasing a contact (GraphQL eraseContact, npm run admin -- contacts:erase): the contact and every
// conversion of it go in one transaction; afterwards the email is a stranger (200 on REST,
// CONTACT_NOT_FOUND), nothing of it can be read back, other organisations are untouched, and a
// conversion logged while the erasure runs is either erased with it or refused, never orphaned.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTenant, graphql, http, startTestApp, type Tenant, type TestApp } from "../helpers/app";
import { adminCommand, queryDatabase } from "../helpers/processes";

let app: TestApp;
let acme: Tenant;
let globex: Tenant;
const EMAIL = "forget.me@example.com";

beforeAll(async () => {
  app = await startTestApp();
  acme = await createTenant(app, [EMAIL, "keep@example.com"]);
  globex = await createTenant(app, [EMAIL]);
});
afterAll(() => app?.stop());

function logRest(tenant: Tenant, email: string) {
  return http(`${app.url}/api/v2/conversions`, {
    method: "POST",
    headers: { "content-type": "application/json", "x-api-key": tenant.apiKey },
    body: JSON.stringify({ email, conversion_type: "purchase", conversion_data: { order: 1 } }),
  });
}

const READ = `query($email: String) {
  conversions(email: $email) { edges { node { id } } }
  _entities(representations: [{ __typename: "Contact", email: "${EMAIL}" }]) { ... on Contact { conversionCount conversions { id } } }
}`;

const ERASE = "mutation($email: String!) { eraseContact(email: $email) { contacts conversions } }";

describe("eraseContact", () => {
  it("deletes the contact and its conversions, scoped to the caller, and is idempotent", async () => {
    for (let index = 0; index < 3; index++) expect((await logRest(acme, ` ${EMAIL.toUpperCase()} `)).status).toBe(202);
    expect((await logRest(acme, "keep@example.com")).status).toBe(202);
    expect((await logRest(globex, EMAIL)).status).toBe(202);

    const erased = await graphql(app, ERASE, { email: `  ${EMAIL.toUpperCase()}` }, { "x-api-key": acme.apiKey });
    expect(erased.body).toEqual({ data: { eraseContact: { contacts: 1, conversions: 3 } } });

    // A stranger now: REST 200, GraphQL CONTACT_NOT_FOUND; nothing of it can be read back.
    const rest = await logRest(acme, EMAIL);
    expect(rest.status).toBe(200);
    expect(rest.body).toEqual({ status: "CONTACT_NOT_FOUND" });
    const logged = await graphql(
      app,
      `mutation { logConversion(input: { email: "${EMAIL}" }) { status } }`,
      undefined,
      {
        "x-api-key": acme.apiKey,
      },
    );
    expect(logged.body.data.logConversion.status).toBe("CONTACT_NOT_FOUND");
    const read = await graphql(app, READ, { email: EMAIL }, { "x-api-key": acme.apiKey });
    expect(read.body.data.conversions.edges).toEqual([]);
    expect(read.body.data._entities[0]).toEqual({ conversionCount: 0, conversions: [] });
    const rows = await queryDatabase(
      app.database,
      "SELECT COUNT(*) AS n FROM contacts WHERE organisation_id = ? AND email = ?",
      [acme.organisationId, EMAIL],
    );
    expect(Number(rows[0].n)).toBe(0);

    // Others are untouched: the other contact, the same email in another organisation.
    expect(
      (await graphql(app, READ, { email: "keep@example.com" }, { "x-api-key": acme.apiKey })).body.data.conversions
        .edges,
    ).toHaveLength(1);
    const theirs = await graphql(app, READ, { email: EMAIL }, { "x-api-key": globex.apiKey });
    expect(theirs.body.data._entities[0].conversionCount).toBe(1);

    const again = await graphql(app, ERASE, { email: EMAIL }, { "x-api-key": acme.apiKey });
    expect(again.body.data.eraseContact).toEqual({ contacts: 0, conversions: 0 });
    const anonymous = await graphql(app, ERASE, { email: EMAIL });
    expect(anonymous.body.errors[0].extensions.code).toBe("UNAUTHENTICATED");
  });

  it("forgets the idempotency keys of the erased conversions: a retry is judged afresh, a stranger's", async () => {
    const email = "retried@example.com";
    const tenant = await createTenant(app, [email, "kept@example.com"]);
    const other = await createTenant(app, [email]);
    const keyed = (who: Tenant, key: string, to = email) =>
      http(`${app.url}/api/v2/conversions`, {
        method: "POST",
        headers: { "content-type": "application/json", "x-api-key": who.apiKey, "idempotency-key": key },
        body: JSON.stringify({ email: to, conversion_type: "purchase" }),
      });
    // More conversions than one page of the erasure (1,000), through the batch endpoint, each with its key.
    for (let batch = 0; batch < 3; batch++) {
      const items = Array.from({ length: 400 }, (_, index) => ({
        email,
        conversion_type: "bulk",
        idempotency_key: `bulk-${batch}-${index}`,
      }));
      const answer = await http(`${app.url}/api/v2/conversions/batch`, {
        method: "POST",
        headers: { "content-type": "application/json", "x-api-key": tenant.apiKey },
        body: JSON.stringify({ conversions: items }),
      });
      expect(answer.status).toBe(200);
    }
    expect((await keyed(tenant, "single")).status).toBe(202);
    expect((await keyed(tenant, "kept", "kept@example.com")).status).toBe(202);
    expect((await keyed(other, "single")).status).toBe(202);
    const replay = await keyed(tenant, "single");
    expect([replay.status, replay.headers.get("idempotent-replayed")]).toEqual([202, "true"]);

    const erased = await graphql(app, ERASE, { email }, { "x-api-key": tenant.apiKey });
    expect(erased.body.data.eraseContact).toEqual({ contacts: 1, conversions: 1_201 });

    // Its keys are gone: the same requests are a stranger's now, nothing replayed.
    const retried = await keyed(tenant, "single");
    expect([retried.status, retried.body, retried.headers.get("idempotent-replayed")]).toEqual([
      200,
      { status: "CONTACT_NOT_FOUND" },
      null,
    ]);
    const bulk = await http(`${app.url}/api/v2/conversions/batch`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-api-key": tenant.apiKey },
      body: JSON.stringify({ conversions: [{ email, conversion_type: "bulk", idempotency_key: "bulk-2-399" }] }),
    });
    expect(bulk.body.results.map((result: { status: string }) => result.status)).toEqual(["CONTACT_NOT_FOUND"]);
    const [left] = await queryDatabase(
      app.database,
      "SELECT COUNT(*) AS n FROM idempotency_keys WHERE organisation_id = ?",
      [tenant.organisationId],
    );
    expect(Number(left.n)).toBe(1);
    // The other contact's key, and the other organisation's key of the same name, still replay.
    expect((await keyed(tenant, "kept", "kept@example.com")).headers.get("idempotent-replayed")).toBe("true");
    expect((await keyed(other, "single")).headers.get("idempotent-replayed")).toBe("true");
  });

  it("is also an admin command printing one JSON line", async () => {
    const env = { ...app.database.env, LOG_LEVEL: "silent" };
    expect((await logRest(globex, EMAIL)).status).toBe(202);
    expect(await adminCommand(["contacts:erase", "--org", globex.organisationId, "--email", EMAIL], env)).toEqual({
      contacts: 1,
      conversions: 2,
    });
    expect(await adminCommand(["contacts:erase", "--org", globex.organisationId, "--email", EMAIL], env)).toEqual({
      contacts: 0,
      conversions: 0,
    });
  });

  it("leaves no conversion of an erased contact behind while conversions are being logged", async () => {
    const tenant = await createTenant(app, ["busy@example.com"]);
    const logs = Array.from({ length: 60 }, () => logRest(tenant, "busy@example.com"));
    await new Promise((resolve) => setTimeout(resolve, 5));
    const erasure = graphql(app, ERASE, { email: "busy@example.com" }, { "x-api-key": tenant.apiKey });
    const answers = await Promise.all(logs);
    const { conversions } = (await erasure).body.data.eraseContact;
    for (const answer of answers) expect([200, 202]).toContain(answer.status);
    const [left] = await queryDatabase(
      app.database,
      "SELECT COUNT(*) AS n FROM conversions WHERE organisation_id = ?",
      [tenant.organisationId],
    );
    // Every 202 before the erasure was erased with the contact; none after it was stored.
    expect(Number(left.n)).toBe(0);
    expect(conversions).toBeLessThanOrEqual(answers.filter((answer) => answer.status === 202).length);
  });
});
