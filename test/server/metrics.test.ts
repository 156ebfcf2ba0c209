// GET /metrics: Prometheus text with the writer's batches and per-route HTTP latency.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTenant, http, startTestApp, type Tenant, type TestApp } from "../helpers/app";

let app: TestApp;
let tenant: Tenant;

beforeAll(async () => {
  app = await startTestApp();
  tenant = await createTenant(app, ["buyer@example.com"]);
});
afterAll(() => app?.stop());

function sample(text: string, name: string, labels: string): number | undefined {
  const line = text.split("\n").find((row) => row.startsWith(`${name}{${labels}}`) || row === `${name} ${labels}`);
  return line === undefined ? undefined : Number(line.split(" ").at(-1));
}

describe("metrics", () => {
  it("counts committed batches, their sizes and the requests by route", async () => {
    for (let index = 0; index < 3; index++) {
      const logged = await http(`${app.url}/api/v2/conversions`, {
        method: "POST",
        headers: { "content-type": "application/json", "x-api-key": tenant.apiKey },
        body: JSON.stringify({ email: "buyer@example.com" }),
      });
      expect(logged.status).toBe(202);
    }
    const response = await http(`${app.url}/metrics`);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toContain("text/plain");
    const text = response.text;
    expect(sample(text, "conversions_writer_batches_total", 'result="committed"')).toBeGreaterThanOrEqual(1);
    expect(text).toMatch(/^conversions_writer_batch_size_sum 3$/m);
    expect(text).toMatch(/^conversions_writer_queue_depth 0$/m);
    expect(
      sample(
        text,
        "http_request_duration_seconds_count",
        'method="POST",route="/api/v2/conversions",status_code="202"',
      ),
    ).toBe(3);
    expect(text).toContain("process_cpu_seconds_total");
  });
});
