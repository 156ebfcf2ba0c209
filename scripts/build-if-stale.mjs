#!/usr/bin/env node
// Compiles the service (tsc -p tsconfig.build.json) only when a source is newer than the last
// build: `npm start`, `npm run admin` and `npm run migrate` then cost what the compiled program
// costs, and a fresh clone still builds on its first run. `npm run build` always compiles.
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

const built = existsSync(output) ? statSync(output).mtimeMs : 0;
const changed = Math.max(...inputs.map((input) => newest(join(root, input))));
if (changed > built) {
  const tsc = join(root, "node_modules", "typescript", "bin", "tsc");
  execFileSync(process.execPath, [tsc, "-p", join(root, "tsconfig.build.json")], { stdio: "inherit" });
}
