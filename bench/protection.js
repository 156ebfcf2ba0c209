// Part of npm run bench: over-limit GraphQL requests are refused fast, and /health stays quick
// while they arrive back to back (issue "Protection"). The service runs in its own process on a
// temporary SQLite file; a flood of refused requests (2,000 Contact representations x 99 aliases, an
// amplification the cost limit refuses) is sent by 8 concurrent loops for a few seconds while
// /health is probed every 20 ms. Prints the refusals' and the probes' p50 / p99 latency.
"use strict";
const { spawn } = require("node:child_process");
const { mkdtempSync, rmSync } = require("node:fs");
const { tmpdir } = require("node:os");
const { join } = require("node:path");

const SMOKE = process.env.BENCH_SMOKE === "1" || process.argv.includes("--smoke");
const SECONDS = SMOKE ? 2 : 6;
const LOOPS = Number(process.env.BENCH_LOOPS ?? 8);

const percentile = (values, p) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
};

async function waitForHealth(url) {
  for (let attempt = 0; attempt < 300; attempt++) {
    try {
      if ((await fetch(`${url}/health`)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error("the service did not start");
}

async function main() {
  const dir = mkdtempSync(join(tmpdir(), "bench-protection-"));
  const port = 4300 + Math.floor(Math.random() * 500);
  const url = `http://127.0.0.1:${port}`;
  const service = spawn(process.execPath, [join(__dirname, "..", "dist", "src", "main.js")], {
    env: {
      ...process.env,
      SQLITE_PATH: join(dir, "bench.sqlite"),
      DATABASE_URL: "",
      PORT: String(port),
      HOST: "127.0.0.1",
      LOG_LEVEL: "warn",
    },
    stdio: ["ignore", "ignore", "inherit"],
  });
  try {
    await waitForHealth(url);
    const aliases = Array.from({ length: 99 }, (_, index) => `a${index}: email`).join(" ");
    const body = JSON.stringify({
      query: `query($r: [_Any!]!) { _entities(representations: $r) { ... on Contact { ${aliases} } } }`,
      variables: {
        r: Array.from({ length: 2000 }, (_, index) => ({ __typename: "Contact", email: `u${index}@x.io` })),
      },
    });
    const refusals = [];
    const probes = [];
    const statuses = new Map();
    const until = Date.now() + SECONDS * 1000;
    const flood = async () => {
      while (Date.now() < until) {
        const started = performance.now();
        const response = await fetch(`${url}/graphql`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body,
        });
        await response.arrayBuffer();
        refusals.push(performance.now() - started);
        statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
      }
    };
    const probe = async () => {
      while (Date.now() < until) {
        const started = performance.now();
        await (await fetch(`${url}/health`)).arrayBuffer();
        probes.push(performance.now() - started);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    };
    await Promise.all([...Array.from({ length: LOOPS }, flood), probe()]);
    const fmt = (values) => `p50 ${percentile(values, 50).toFixed(1)} ms, p99 ${percentile(values, 99).toFixed(1)} ms`;
    console.log(`\n== protection: over-limit requests back to back (${SECONDS} s, ${LOOPS} loops)`);
    console.log(
      `refused ${refusals.length} (statuses ${JSON.stringify(Object.fromEntries(statuses))}): ${fmt(refusals)}  (target: refused in < 50 ms)`,
    );
    console.log(`/health meanwhile, ${probes.length} probes: ${fmt(probes)}  (target: < 100 ms)`);
    if ([...statuses.keys()].some((status) => status !== 400)) {
      console.error("an over-limit request was not refused with 400");
      process.exitCode = 1;
    }
  } finally {
    service.kill("SIGTERM");
    await new Promise((resolve) => service.on("exit", resolve));
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
