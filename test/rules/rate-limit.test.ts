// Public endpoints bound what one client address may write per minute.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTenant, http, startTestApp, type TestApp } from "../helpers/app";

let app: TestApp;
let apiKey: string;

beforeAll(async () => {
  app = await startTestApp({ PUBLIC_RATE_LIMIT_PER_MINUTE: "3" });
  const tenant = await createTenant(app, ["buyer@example.com"]);
  apiKey = tenant.apiKey;
  await app.server.services.sites.add(tenant.organisationId, "127.0.0.1");
});
afterAll(() => app?.stop());

function expose(visitor: string) {
  return http(`${app.url}/zephr/public/rule-outcomes/v1/exposures`, {
    method: "POST",
    headers: { "content-type": "application/json", cookie: `blaize_tracking_id=${visitor}` },
    body: JSON.stringify({ ruleId: "limited", outcomeId: "A" }),
  });
}

describe("rate limit of public calls", () => {
  it("answers 429 with {message} and Retry-After past PUBLIC_RATE_LIMIT_PER_MINUTE, storing nothing more", async () => {
    const statuses = [];
    for (let index = 0; index < 5; index++) statuses.push((await expose(`visitor-${index}`)).status);
    expect(statuses).toEqual([201, 201, 201, 429, 429]);
    const refused = await expose("visitor-late");
    expect(refused.body).toEqual({ message: expect.stringContaining("Too many requests") });
    expect(Number(refused.headers.get("retry-after"))).toBeGreaterThan(0);
    const [row] = await app.server.dataSource.query(
      "SELECT COUNT(*) AS n FROM rule_exposures WHERE rule_id = 'limited'",
    );
    expect(Number(row.n)).toBe(3);
  });

  it("does not limit the API-key endpoints of the same address", async () => {
    for (let index = 0; index < 5; index++) {
      const logged = await http(`${app.url}/api/v2/conversions`, {
        method: "POST",
        headers: { "content-type": "application/json", "x-api-key": apiKey },
        body: JSON.stringify({ email: "buyer@example.com" }),
      });
      expect(logged.status).toBe(202);
    }
  });
});
