// METRICS_PORT: /metrics on a server of its own (same HOST), not on the public port, started and
// stopped with the service, and still observing the public app's routes.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../../src/config";
import { http, startTestApp, type TestApp } from "../helpers/app";

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp({ METRICS_PORT: "0" });
});
afterAll(() => app?.stop());

describe("metrics on their own port", () => {
  it("are served on METRICS_PORT and are 404 on the public port", async () => {
    const metricsUrl = app.server.metricsUrl as string;
    expect(metricsUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(metricsUrl).not.toBe(app.url);
    const metrics = await http(`${metricsUrl}/metrics`);
    expect(metrics.status).toBe(200);
    expect(metrics.headers.get("content-type")).toContain("text/plain");
    expect(metrics.text).toContain("conversions_writer_queue_depth");
    expect((await http(`${app.url}/metrics`)).status).toBe(404);
    // The metrics server serves nothing of the public app.
    expect((await http(`${metricsUrl}/health`)).status).toBe(404);
    expect((await http(`${metricsUrl}/graphql`, { method: "POST", body: "{}" })).status).toBe(404);
  });

  it("still count the public app's requests by route", async () => {
    for (let index = 0; index < 3; index++) expect((await http(`${app.url}/health`)).status).toBe(200);
    expect((await http(`${app.url}/metrics`)).status).toBe(404);
    const text = (await http(`${app.server.metricsUrl}/metrics`)).text;
    const count = (labels: string) =>
      Number(
        text
          .split("\n")
          .find((line) => line.startsWith(`http_request_duration_seconds_count{${labels}}`))
          ?.split(" ")
          .at(-1),
      );
    expect(count('method="GET",route="/health",status_code="200"')).toBeGreaterThanOrEqual(3);
    expect(count('method="GET",route="unmatched",status_code="404"')).toBeGreaterThanOrEqual(1);
    // Scrapes of the metrics server are not counted as public requests.
    expect(text).not.toContain('route="/metrics"');
  });

  it("stop with the service", async () => {
    const other = await startTestApp({ METRICS_PORT: "0" });
    const metricsUrl = other.server.metricsUrl as string;
    expect((await http(`${metricsUrl}/metrics`)).status).toBe(200);
    await other.stop();
    await expect(fetch(`${metricsUrl}/metrics`)).rejects.toThrow();
  });

  it("are not served at all when METRICS_ENABLED is false", async () => {
    const other = await startTestApp({ METRICS_PORT: "0", METRICS_ENABLED: "false" });
    try {
      expect(other.server.metricsUrl).toBeUndefined();
      expect((await http(`${other.url}/metrics`)).status).toBe(404);
    } finally {
      await other.stop();
    }
  });

  it("need a port other than the public one", () => {
    expect(() => loadConfig({ PORT: "4001", METRICS_PORT: "4001" })).toThrow(ConfigError);
    expect(() => loadConfig({ PORT: "4001", METRICS_PORT: "4001" })).toThrow(
      /^Invalid configuration: METRICS_PORT: must differ from PORT$/,
    );
    expect(loadConfig({ METRICS_PORT: "" }).METRICS_PORT).toBeUndefined();
    expect(loadConfig({ METRICS_PORT: "9464" }).METRICS_PORT).toBe(9464);
  });
});
