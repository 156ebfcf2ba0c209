// In production GraphQL errors carry no suggestions ("Did you mean ...?"), which would tell a
// stranger the schema's field, argument and type names; in development they help.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { graphql, startTestApp, type TestApp } from "../helpers/app";

const MISTAKES: { name: string; query: string; variables?: Record<string, unknown> }[] = [
  { name: "a misspelt field", query: `{ outcomeConversionStat(ruleId: "r") { ruleId } }` },
  { name: "a misspelt argument", query: `{ rules(frist: 1) { pageInfo { hasNextPage } } }` },
  {
    name: "a misspelt input field inline",
    query: `mutation { logConversion(input: { emal: "a@example.com" }) { status } }`,
  },
  {
    name: "a misspelt input field in the variables",
    query: `mutation($input: LogConversionInput!) { logConversion(input: $input) { status } }`,
    variables: { input: { email: "a@example.com", conversionTyp: "purchase" } },
  },
];

async function messagesOf(app: TestApp, mistake: (typeof MISTAKES)[number]) {
  const response = await graphql(app, mistake.query, mistake.variables);
  expect(response.status, mistake.name).toBe(400);
  expect(response.body.errors.length, mistake.name).toBeGreaterThan(0);
  return (response.body.errors as { message: string }[]).map((error) => error.message).join("\n");
}

describe("in production", () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp({ NODE_ENV: "production" });
  });
  afterAll(() => app?.stop());

  it("error messages suggest no names", async () => {
    for (const mistake of MISTAKES) {
      const messages = await messagesOf(app, mistake);
      expect(messages, mistake.name).not.toMatch(/did you mean/i);
      // Still a useful error about what the caller wrote.
      expect(messages, mistake.name).toMatch(/outcomeConversionStat|frist|emal|conversionTyp/);
    }
  });
});

describe("in development", () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp({ NODE_ENV: "development" });
  });
  afterAll(() => app?.stop());

  it("error messages suggest the names meant", async () => {
    const suggested = ['"outcomeConversionStats"', '"first"', '"email"', '"conversionType"'];
    for (const [index, mistake] of MISTAKES.entries()) {
      expect(await messagesOf(app, mistake), mistake.name).toContain(`Did you mean ${suggested[index]}`);
    }
  });
});
