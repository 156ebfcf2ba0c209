#!/usr/bin/env node
// Compiles the service (tsc -p tsconfig.build.json) and builds the analytics page (vite, web/ ->
// dist/web) only when a source is newer than the last build: `npm start`, `npm run admin` and
// `npm run migrate` then cost what the compiled program costs, and a fresh clone still builds on
// its first run. `npm run build` always builds both.
import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";

const root = join(import.meta.dirname, "..");
// Every compile rewrites every output: the entry point's time is the last build's.
const output = join(root, "dist", "src", "main.js");
const inputs = ["src", "migrations", "tsconfig.json", "tsconfig.build.json", "package.json", "package-lock.json"];

function newest(path) {
  if (!existsSync(path)) return 0;
  const stats = statSync(path);
  if (!stats.isDirectory()) return stats.mtimeMs;
  return readdirSync(path).reduce((latest, name) => Math.max(latest, newest(join(path, name))), stats.mtimeMs);
}

/** Runs `command` when one of `inputs` is newer than `output`. */
function rebuildIfStale(output, inputs, command) {
  const built = existsSync(output) ? statSync(output).mtimeMs : 0;
  const changed = Math.max(...inputs.map((input) => newest(join(root, input))));
  if (changed > built) execFileSync(process.execPath, command, { stdio: "inherit", cwd: root });
}

rebuildIfStale(output, inputs, [
  join(root, "node_modules", "typescript", "bin", "tsc"),
  "-p",
  join(root, "tsconfig.build.json"),
]);
// The page's build empties its folder first: index.html is written last of all.
rebuildIfStale(
  join(root, "dist", "web", "analytics", "index.html"),
  ["web", "package-lock.json"],
  [join(root, "node_modules", "vite", "bin", "vite.js"), "build", "--config", join(root, "web", "vite.config.mts")],
);
