// `npm run gateway`: Hive Gateway on :4000 in front of the running subgraph, from this folder's own
// install, which stays out of the subgraph's `npm install`. Extra arguments go to the gateway's CLI.
import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const bin = join(here, "node_modules", "@graphql-hive", "gateway", "dist", "bin.js");

if (!existsSync(bin)) {
  console.error(
    [
      `Hive Gateway is not installed (${join(here, "node_modules")} is missing). Install it once with:`,
      "",
      "  npm ci --prefix deploy/hive-gateway",
      "",
      "(about 500 MB, kept out of the subgraph's own install), then run `npm run gateway` again.",
    ].join("\n"),
  );
  process.exit(1);
}

// Explicit, so the subgraph's PORT and HOST in the environment do not move the gateway onto them.
const port = process.env.GATEWAY_PORT || "4000";
const host = process.env.GATEWAY_HOST || "0.0.0.0";
// A SUPERGRAPH_PATH given relative to where the user is, before moving to where the config is.
if (process.env.SUPERGRAPH_PATH) process.env.SUPERGRAPH_PATH = resolve(process.env.SUPERGRAPH_PATH);
process.chdir(here);
// The CLI in this process (it reads process.argv), so signals reach it and nothing is left behind.
process.argv = [
  process.execPath,
  bin,
  "supergraph",
  "--config-path",
  join(here, "gateway.config.ts"),
  "--port",
  port,
  "--host",
  host,
  ...process.argv.slice(2),
];
await import(pathToFileURL(bin).href);
