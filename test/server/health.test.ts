// /health answers while the process lives; /ready only while the database answers.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { http, startTestApp, type TestApp } from "../helpers/app";

let app: TestApp;

beforeAll(async () => {
  app = await startTestApp();
});
afterAll(() => app?.stop());

describe("health endpoints", () => {
  it("are 200 while the database answers, and carry a request id", async () => {
    const health = await http(`${app.url}/health`);
    expect(health.status).toBe(200);
    expect(health.body).toEqual({ status: "ok" });
    expect(health.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
    const ready = await http(`${app.url}/ready`, { headers: { "x-request-id": "trace-123" } });
    expect(ready.status).toBe(200);
    expect(ready.headers.get("x-request-id")).toBe("trace-123");
  });

  it("/ready turns 503 when the database is gone while /health stays 200", async () => {
    await app.server.dataSource.destroy();
    const ready = await http(`${app.url}/ready`);
    expect(ready.status).toBe(503);
    expect(ready.body).toEqual({ status: "unavailable" });
    expect((await http(`${app.url}/health`)).status).toBe(200);
    await app.server.dataSource.initialize();
    expect((await http(`${app.url}/ready`)).status).toBe(200);
  });
});
