// Load generator for bench/run.js. It runs autocannon in its own process so the client's work does
// not share the event loop (and so the measurement) with the server under test.
// Runs the jobs it receives over IPC one after the other (warm-up, then measurement, in one warm
// process), answers each with a summary, including the CPU this process used meanwhile, and exits
// when the parent disconnects.
//   job: { url, path, headers, body, accept: { status, body? }, connections, amount | duration, visitors? }
//   accept: the answers that acknowledge the request, counted in `accepted` (the status, and the
//   exact body when given: GraphQL answers errors with a 200 too).
//   visitors (rule conversions): { count, ruleId } -> each request picks visitor i at random and sends
//   cookie blaize_tracking_id=v<i> and a conversion on the outcome that visitor was exposed to.
"use strict";

const autocannon = require("autocannon");

const outcomeOf = (i) => (i % 2 === 0 ? "A" : "B");

process.on("message", (job) => {
  let accepted = 0;
  const request = {
    method: "POST",
    path: job.path,
    headers: job.headers,
    body: job.body,
    onResponse: (status, body) => {
      if (status === job.accept.status && (job.accept.body === undefined || body.trimEnd() === job.accept.body))
        accepted++;
    },
  };
  if (job.visitors) {
    const { count, ruleId } = job.visitors;
    request.setupRequest = (req) => {
      const i = Math.floor(Math.random() * count);
      req.headers.cookie = `blaize_tracking_id=v${i}`;
      req.body = JSON.stringify({ ruleId, outcomeId: outcomeOf(i), conversion: "purchase" });
      return req;
    };
  }
  const started = performance.now();
  const cpuAtStart = process.cpuUsage();
  let lastResponse = started;
  // For a timed run (the warm-up): the rate over its last second, the closest to the steady state.
  const lastSecond = started + ((job.duration ?? 1) - 1) * 1000;
  let inLastSecond = 0;
  const limit = job.amount ? { amount: job.amount } : { duration: job.duration };
  const options = { url: job.url, connections: job.connections, ...limit, requests: [request] };
  const instance = autocannon(options, (error, result) => {
    if (error) throw error;
    const cpu = process.cpuUsage(cpuAtStart);
    const seconds = (lastResponse - started) / 1000;
    const statuses = Object.fromEntries(Object.entries(result.statusCodeStats).map(([code, s]) => [code, s.count]));
    process.send({
      seconds,
      completed: result.latency.totalCount,
      perSecond: result.latency.totalCount / seconds,
      lastSecondPerSecond: inLastSecond / ((lastResponse - lastSecond) / 1000),
      p50: result.latency.p50,
      p99: result.latency.p99,
      non2xx: result.non2xx,
      errors: result.errors,
      timeouts: result.timeouts,
      accepted,
      statuses,
      cpuSeconds: (cpu.user + cpu.system) / 1e6,
    });
  });
  instance.on("response", () => {
    lastResponse = performance.now();
    if (lastResponse > lastSecond) inLastSecond++;
  });
});

process.on("disconnect", () => process.exit(0));
