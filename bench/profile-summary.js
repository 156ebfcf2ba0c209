// Where a CPU profile's time went, by package (or file of the service) and by function, self and
// inclusive: `node bench/profile-summary.js <dir or .cpuprofile> [rows]`. The profile comes from
// `BENCH_CPU_PROF=<dir> npm run bench` (the service runs under node --cpu-prof) or any node --cpu-prof.
"use strict";

const { readdirSync, readFileSync, statSync } = require("node:fs");
const { join } = require("node:path");

const [target, rowsArgument] = process.argv.slice(2);
if (!target) {
  console.error("usage: node bench/profile-summary.js <dir or .cpuprofile> [rows]");
  process.exit(2);
}
const rows = Number(rowsArgument) || 20;
const files = statSync(target).isDirectory()
  ? readdirSync(target)
      .filter((name) => name.endsWith(".cpuprofile"))
      .map((name) => join(target, name))
  : [target];

/** node_modules/<package>, src/<file> of the compiled service, or node's own internals. */
function placeOf(url) {
  const inPackage = url.match(/node_modules\/((@[^/]+\/)?[^/]+)/);
  if (inPackage) return inPackage[1];
  if (url.includes("/dist/src/")) return `src/${url.split("/dist/src/")[1].replace(/\.js$/, ".ts")}`;
  if (url.includes("/bench/")) return `bench/${url.split("/bench/")[1]}`;
  return url.startsWith("node:") ? url : url || "(native)";
}

for (const file of files) {
  const profile = JSON.parse(readFileSync(file, "utf8"));
  const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
  const parents = new Map();
  for (const node of profile.nodes) for (const child of node.children ?? []) parents.set(child, node.id);
  const timeOf = new Map();
  profile.samples.forEach((id, index) => {
    timeOf.set(id, (timeOf.get(id) ?? 0) + (profile.timeDeltas[index] ?? 0));
  });
  const byPlace = new Map();
  const self = new Map();
  const inclusive = new Map();
  const add = (map, key, time) => map.set(key, (map.get(key) ?? 0) + time);
  let total = 0;
  for (const [id, time] of timeOf) {
    const frame = nodes.get(id).callFrame;
    total += time;
    const place = placeOf(frame.url);
    add(
      byPlace,
      ["(idle)", "(program)", "(garbage collector)"].includes(frame.functionName) ? frame.functionName : place,
      time,
    );
    add(self, `${frame.functionName || "(anonymous)"} ${place}:${frame.lineNumber + 1}`, time);
    const seen = new Set();
    for (let at = id; at !== undefined; at = parents.get(at)) {
      const f = nodes.get(at).callFrame;
      const key = `${f.functionName || "(anonymous)"} ${placeOf(f.url)}:${f.lineNumber + 1}`;
      if (f.functionName === "(root)" || seen.has(key)) continue;
      seen.add(key);
      add(inclusive, key, time);
    }
  }
  const print = (title, map) => {
    console.log(title);
    for (const [key, time] of [...map].sort((a, b) => b[1] - a[1]).slice(0, rows)) {
      console.log(`  ${((time / total) * 100).toFixed(1).padStart(5)}%  ${key}`);
    }
  };
  console.log(`${file}: ${(total / 1e6).toFixed(1)} s sampled`);
  print("by package or file (self time)", byPlace);
  print("by function (self time)", self);
  print("by function (inclusive)", inclusive);
}
