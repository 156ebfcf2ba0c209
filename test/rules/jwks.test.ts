// Visitors' JWTs verified against a JWKS endpoint (RS256 and ES256), as with an identity provider.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { exportJWK, generateKeyPair, type JWTPayload, SignJWT } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTenant, http, startTestApp, type TestApp } from "../helpers/app";

let app: TestApp;
let jwksServer: Server;
let rsa: Awaited<ReturnType<typeof generateKeyPair>>;
let ec: Awaited<ReturnType<typeof generateKeyPair>>;
let stranger: Awaited<ReturnType<typeof generateKeyPair>>;

beforeAll(async () => {
  rsa = await generateKeyPair("RS256");
  ec = await generateKeyPair("ES256");
  stranger = await generateKeyPair("RS256");
  const keys = [
    { ...(await exportJWK(rsa.publicKey)), kid: "rsa-1", alg: "RS256", use: "sig" },
    { ...(await exportJWK(ec.publicKey)), kid: "ec-1", alg: "ES256", use: "sig" },
  ];
  jwksServer = createServer((_request, response) => {
    response.setHeader("content-type", "application/json");
    response.end(JSON.stringify({ keys }));
  });
  await new Promise<void>((resolve) => jwksServer.listen(0, "127.0.0.1", resolve));
  const { port } = jwksServer.address() as AddressInfo;
  app = await startTestApp({
    JWT_JWKS_URL: `http://127.0.0.1:${port}/.well-known/jwks.json`,
    JWT_ISSUER: "https://idp.example",
  });
  const tenant = await createTenant(app);
  await app.server.services.sites.add(tenant.organisationId, "127.0.0.1");
});
afterAll(async () => {
  await app?.stop();
  await new Promise((resolve) => jwksServer?.close(resolve));
});

function sign(payload: JWTPayload, key: Parameters<SignJWT["sign"]>[0], alg: string, kid: string) {
  return new SignJWT(payload)
    .setProtectedHeader({ alg, kid })
    .setIssuer("https://idp.example")
    .setExpirationTime("5m")
    .sign(key);
}

/** Records a conversion with the token as a Bearer token, or as the blaize_jwt cookie. */
async function recordWith(token: string, visitor: string, transport: "bearer" | "cookie" = "bearer") {
  const response = await http(`${app.url}/zephr/public/rule-outcomes/v1/conversions`, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      ...(transport === "bearer"
        ? { cookie: `blaize_tracking_id=${visitor}`, authorization: `Bearer ${token}` }
        : { cookie: `blaize_tracking_id=${visitor}; blaize_jwt=${token}` }),
    },
    body: JSON.stringify({ ruleId: "jwks-rule", outcomeId: "A", conversion: "REGISTERED" }),
  });
  const rows: { user_id: string | null }[] = await app.server.dataSource.query(
    "SELECT user_id FROM rule_conversion_events WHERE rule_id = 'jwks-rule' AND tracking_id = ?",
    [visitor],
  );
  return { status: response.status, body: response.body, userIds: rows.map((row) => row.user_id) };
}

describe("JWT verification with JWT_JWKS_URL", () => {
  it("accepts RS256 and ES256 tokens signed by the published keys and stores their sub", async () => {
    expect(await recordWith(await sign({ sub: "user-rsa" }, rsa.privateKey, "RS256", "rsa-1"), "j1")).toMatchObject({
      status: 201,
      userIds: ["user-rsa"],
    });
    expect(await recordWith(await sign({ sub: "user-ec" }, ec.privateKey, "ES256", "ec-1"), "j2")).toMatchObject({
      status: 201,
      userIds: ["user-ec"],
    });
  });

  it("refuses a token signed by another key, a wrong issuer, and HS256 without a secret", async () => {
    const forged = await recordWith(await sign({ sub: "x" }, stranger.privateKey, "RS256", "rsa-1"), "j3");
    expect(forged).toMatchObject({ status: 401, userIds: [] });
    expect(forged.body.message).toMatch(/Invalid token/);
    const wrongIssuer = await new SignJWT({ sub: "x" })
      .setProtectedHeader({ alg: "RS256", kid: "rsa-1" })
      .setIssuer("https://evil.example")
      .setExpirationTime("5m")
      .sign(rsa.privateKey);
    expect(await recordWith(wrongIssuer, "j4")).toMatchObject({ status: 401, userIds: [] });
    const hs256 = await new SignJWT({ sub: "x" })
      .setProtectedHeader({ alg: "HS256" })
      .setExpirationTime("5m")
      .sign(new TextEncoder().encode("a-secret-that-is-long-enough-for-hs256!!"));
    expect(await recordWith(hs256, "j5")).toMatchObject({ status: 401, userIds: [] });
  });

  it("reads the blaize_jwt cookie the same way, and records a forged one as anonymous instead of refusing", async () => {
    const signed = await sign({ sub: "cookie-user" }, ec.privateKey, "ES256", "ec-1");
    expect(await recordWith(signed, "j6", "cookie")).toMatchObject({ status: 201, userIds: ["cookie-user"] });
    const forged = await sign({ sub: "x" }, stranger.privateKey, "RS256", "rsa-1");
    expect(await recordWith(forged, "j7", "cookie")).toMatchObject({ status: 201, userIds: [null] });
    const metrics = await http(`${app.url}/metrics`);
    expect(metrics.text).toMatch(/^conversions_jwt_cookies_ignored_total\{reason="bad_signature"\} 1$/m);
  });
});
