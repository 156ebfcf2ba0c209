// Browser pages of an organisation's own sites may call its public endpoints from another origin
// (with cookies); no other origin is let in.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTenant, startTestApp, type TestApp } from "../helpers/app";
import { rawRequest } from "../helpers/raw-http";

let app: TestApp;
const PATH = "/zephr/public/rule-outcomes/v1/conversions";

beforeAll(async () => {
  app = await startTestApp();
  const acme = await createTenant(app);
  const globex = await createTenant(app);
  await app.server.services.sites.add(acme.organisationId, "tracking.acme.test");
  await app.server.services.sites.add(acme.organisationId, "www.acme.test");
  await app.server.services.sites.add(globex.organisationId, "www.globex.test");
});
afterAll(() => app?.stop());

function preflight(origin: string, host = "tracking.acme.test") {
  return rawRequest(`${app.url}${PATH}`, {
    method: "OPTIONS",
    headers: {
      host,
      origin,
      "access-control-request-method": "POST",
      "access-control-request-headers": "content-type",
    },
  });
}

describe("CORS on the public endpoints", () => {
  it("lets a page of the same organisation's site preflight and post with cookies", async () => {
    const response = await preflight("https://www.acme.test");
    expect(response.status).toBe(204);
    expect(response.headers["access-control-allow-origin"]).toBe("https://www.acme.test");
    expect(response.headers["access-control-allow-credentials"]).toBe("true");
    expect(String(response.headers["access-control-allow-methods"])).toContain("POST");

    const post = await rawRequest(`${app.url}${PATH}`, {
      method: "POST",
      headers: {
        host: "tracking.acme.test",
        origin: "https://www.acme.test",
        "content-type": "application/json",
        cookie: "blaize_tracking_id=cors-visitor",
      },
      body: JSON.stringify({ ruleId: "cors-rule", outcomeId: "A", conversion: "REGISTERED" }),
    });
    expect(post.status).toBe(201);
    expect(post.headers["access-control-allow-origin"]).toBe("https://www.acme.test");
  });

  it("gives another organisation's site, an unknown origin and an unknown host no CORS headers", async () => {
    for (const [origin, host] of [
      ["https://www.globex.test", "tracking.acme.test"],
      ["https://evil.test", "tracking.acme.test"],
      ["https://www.acme.test", "unknown.test"],
      ["null", "tracking.acme.test"],
    ]) {
      const response = await preflight(origin, host);
      expect(response.headers["access-control-allow-origin"], `${origin} -> ${host}`).toBeUndefined();
    }
  });
});
