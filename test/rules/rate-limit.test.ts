// Rate limits that protect without losing real events: per visitor (organisation and tracking
// id) by default, per client address and per API key only when configured; REST and GraphQL share
// one budget (one unit per mutation field); with REDIS_URL every instance shares it; a Redis that
// stops answering falls back to the instance's memory and refuses nothing for being down.
import { randomUUID } from "node:crypto";
import { createServer, type Server, type Socket } from "node:net";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningServer } from "../../src/server";
import {
  createTenant,
  graphql,
  http,
  startSecondInstance,
  startTestApp,
  type Tenant,
  type TestApp,
} from "../helpers/app";
import { rawRequest } from "../helpers/raw-http";

const HOST = "limited.example.test";
const REDIS_URL = process.env.TEST_REDIS_URL ?? "redis://127.0.0.1:6379";

function publicCall(base: string, visitor: string, path: "exposures" | "conversions" = "exposures") {
  return rawRequest(`${base}/zephr/public/rule-outcomes/v1/${path}`, {
    method: "POST",
    headers: { host: HOST, "content-type": "application/json", cookie: `blaize_tracking_id=${visitor}` },
    body: JSON.stringify({ ruleId: "limited", outcomeId: "A", conversion: "CUSTOMER" }),
  });
}

function publicGraphql(base: string, visitor: string, fields: number) {
  const query = `mutation { ${Array.from(
    { length: fields },
    (_, index) => `m${index}: recordRuleOutcomeExposure(input: { ruleId: "limited", outcomeId: "A" }) { ruleId }`,
  ).join(" ")} }`;
  return rawRequest(`${base}/graphql`, {
    method: "POST",
    headers: { host: HOST, "content-type": "application/json", cookie: `blaize_tracking_id=${visitor}` },
    body: JSON.stringify({ query }),
  });
}

async function withTenant(app: TestApp): Promise<Tenant> {
  const tenant = await createTenant(app, ["buyer@example.com"]);
  await app.server.services.sites.add(tenant.organisationId, HOST);
  return tenant;
}

describe("per visitor (PUBLIC_VISITOR_RATE_LIMIT_PER_MINUTE)", () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp({ PUBLIC_VISITOR_RATE_LIMIT_PER_MINUTE: "3" });
    await withTenant(app);
  });
  afterAll(() => app?.stop());

  it("answers 429 with {message}, Retry-After and RateLimit-* past the visitor's budget, others unaffected", async () => {
    const visitor = randomUUID();
    const statuses = [];
    for (const path of ["exposures", "conversions", "exposures", "conversions"] as const) {
      statuses.push((await publicCall(app.url, visitor, path)).status);
    }
    expect(statuses).toEqual([201, 201, 201, 429]);
    const refused = await publicCall(app.url, visitor);
    expect(refused.body).toEqual({ message: expect.stringContaining("Too many requests") });
    expect(Number(refused.headers["retry-after"])).toBeGreaterThan(0);
    expect(refused.headers["ratelimit-limit"]).toBe("3");
    expect(refused.headers["ratelimit-remaining"]).toBe("0");
    expect(Number(refused.headers["ratelimit-reset"])).toBeGreaterThan(0);
    // The same address, another visitor: no limit by address unless configured.
    for (let index = 0; index < 5; index++) expect((await publicCall(app.url, randomUUID())).status).toBe(201);
  });

  it("counts each GraphQL mutation field against the same budget, answering 429 RATE_LIMITED", async () => {
    const visitor = randomUUID();
    const two = await publicGraphql(app.url, visitor, 2);
    expect(two.status).toBe(200);
    expect(Object.keys(two.body.data)).toHaveLength(2);
    expect((await publicCall(app.url, visitor)).status).toBe(201);
    const over = await publicGraphql(app.url, visitor, 1);
    expect(over.status).toBe(429);
    expect(over.body.errors[0].extensions.code).toBe("RATE_LIMITED");
    expect((await publicCall(app.url, visitor, "conversions")).status).toBe(429);
  });
});

describe("per address and per API key, when configured", () => {
  let app: TestApp;
  let tenant: Tenant;
  beforeAll(async () => {
    app = await startTestApp({ PUBLIC_ADDRESS_RATE_LIMIT_PER_MINUTE: "2", API_KEY_RATE_LIMIT_PER_SECOND: "2" });
    tenant = await withTenant(app);
  });
  afterAll(() => app?.stop());

  it("limits one address across visitors", async () => {
    const statuses = [];
    for (let index = 0; index < 4; index++) statuses.push((await publicCall(app.url, randomUUID())).status);
    expect(statuses).toEqual([201, 201, 429, 429]);
  });

  it("limits one API key per second, REST ({detail}) and GraphQL alike", async () => {
    const rest = await Promise.all(
      Array.from({ length: 6 }, () =>
        http(`${app.url}/api/v2/conversions`, {
          method: "POST",
          headers: { "content-type": "application/json", "x-api-key": tenant.apiKey },
          body: JSON.stringify({ email: "buyer@example.com" }),
        }),
      ),
    );
    const refused = rest.filter((response) => response.status === 429);
    expect(refused.length).toBeGreaterThanOrEqual(2);
    expect(rest.filter((response) => response.status === 202).length).toBeLessThanOrEqual(4);
    expect(refused[0].body).toEqual({ detail: expect.stringContaining("Too many requests") });
    const answers = await Promise.all(
      Array.from({ length: 6 }, () =>
        graphql(app, "{ rules { edges { cursor } } }", undefined, { "x-api-key": tenant.apiKey }),
      ),
    );
    const limited = answers.filter((response) => response.status === 429);
    expect(limited.length).toBeGreaterThanOrEqual(2);
    expect(limited[0].body.errors[0].extensions.code).toBe("RATE_LIMITED");
  });
});

describe("a keyed GraphQL mutation", () => {
  let app: TestApp;
  let tenant: Tenant;
  beforeAll(async () => {
    app = await startTestApp({ API_KEY_RATE_LIMIT_PER_SECOND: "3" });
    tenant = await withTenant(app);
  });
  afterAll(() => app?.stop());

  const fields = (count: number) =>
    `mutation { ${Array.from({ length: count }, (_, index) => `f${index}: logConversion(input: { email: "nobody@example.com" }) { status }`).join(" ")} }`;
  const freshKey = async () => (await app.server.services.apiKeys.create(tenant.organisationId, "fields")).key;

  it("counts one call of its key per mutation field, as many REST requests would", async () => {
    const key = await freshKey();
    const three = await graphql(app, fields(3), undefined, { "x-api-key": key });
    expect(three.status).toBe(200);
    expect(Object.values(three.body.data)).toEqual(Array(3).fill({ status: "CONTACT_NOT_FOUND" }));
    // The three fields spent the second's budget: the next call is one too many.
    const rest = await http(`${app.url}/api/v2/conversions`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-api-key": key },
      body: JSON.stringify({ email: "nobody@example.com" }),
    });
    expect(rest.status).toBe(429);

    const four = await graphql(app, fields(4), undefined, { "x-api-key": await freshKey() });
    expect(four.status).toBe(429);
    expect(four.body.errors[0].extensions.code).toBe("RATE_LIMITED");
    // A query counts one call, whatever it selects.
    const query = await graphql(app, "{ a: rules { edges { cursor } } b: rules { edges { cursor } } }", undefined, {
      "x-api-key": await freshKey(),
    });
    expect(query.status).toBe(200);
  });
});

describe("with REDIS_URL", () => {
  const prefix = `test-${randomUUID()}:`;
  let redis: Redis;
  let first: TestApp;
  let second: RunningServer;

  beforeAll(async () => {
    redis = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
    // In CI the machine's Redis must answer: fail loudly rather than test nothing.
    await redis.connect();
    await redis.ping();
    const env = { PUBLIC_VISITOR_RATE_LIMIT_PER_MINUTE: "3", REDIS_URL, REDIS_KEY_PREFIX: prefix };
    first = await startTestApp(env);
    await withTenant(first);
    second = await startSecondInstance(first, env);
  });
  afterAll(async () => {
    await second?.close();
    await first?.stop();
    if (redis) {
      const keys = await redis.keys(`${prefix}*`);
      if (keys.length > 0) await redis.del(...keys);
      redis.disconnect();
    }
  });

  it("shares each visitor's budget between instances", async () => {
    const visitor = randomUUID();
    const statuses = [];
    for (const base of [first.url, second.url, first.url, second.url])
      statuses.push((await publicCall(base, visitor)).status);
    expect(statuses).toEqual([201, 201, 201, 429]);
    expect((await redis.keys(`${prefix}*`)).length).toBeGreaterThan(0);
  });
});

describe("with a Redis that stops answering", () => {
  let silent: Server;
  const sockets: Socket[] = [];
  let app: TestApp;

  beforeAll(async () => {
    // Accepts connections and never answers: what a paused Redis looks like to a client.
    silent = createServer((socket) => void sockets.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
    const address = silent.address();
    const port = typeof address === "object" && address ? address.port : 0;
    app = await startTestApp({
      PUBLIC_VISITOR_RATE_LIMIT_PER_MINUTE: "3",
      REDIS_URL: `redis://127.0.0.1:${port}`,
      REDIS_COMMAND_TIMEOUT_MS: "200",
    });
    await withTenant(app);
  });
  afterAll(async () => {
    await app?.stop();
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => silent?.close(resolve));
  });

  it("falls back to the instance's memory: nothing refused for the outage, the limit still holds, a metric counts it", async () => {
    const visitor = randomUUID();
    const started = Date.now();
    const statuses = [];
    for (let index = 0; index < 4; index++) statuses.push((await publicCall(app.url, visitor)).status);
    expect(statuses).toEqual([201, 201, 201, 429]);
    // Each call waited at most about one command timeout, not for Redis to come back.
    expect(Date.now() - started).toBeLessThan(4 * 1000);
    const metrics = await http(`${app.url}/metrics`);
    const fallbacks = Number(/conversions_rate_limit_fallbacks_total (\d+)/.exec(metrics.text)?.[1]);
    expect(fallbacks).toBeGreaterThanOrEqual(4);
  });
});
