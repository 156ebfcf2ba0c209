// `npm run supergraph`: composes schema/conversions.graphql into deploy/supergraph.graphql for
// Apollo Router (the same result as `rover supergraph compose --config deploy/supergraph.yaml`).
// A development tool: @apollo/composition is a dev dependency.
import { readFileSync, writeFileSync } from "node:fs";
import { resolve } from "node:path";
import { composeServices } from "@apollo/composition";
import { parse } from "graphql";

/** Where the router reaches this subgraph in docker-compose.yml. */
export const CONVERSIONS_ROUTING_URL = "http://conversions:4001/graphql";

export function composeSupergraph(subgraphSdl: string): string {
  const result = composeServices([{ name: "conversions", url: CONVERSIONS_ROUTING_URL, typeDefs: parse(subgraphSdl) }]);
  if (result.errors?.length) throw new Error(result.errors.map((error) => error.message).join("\n"));
  return `${(result.supergraphSdl as string).trimEnd()}\n`;
}

if (require.main === module) {
  const root = process.cwd();
  const sdl = readFileSync(resolve(root, "schema/conversions.graphql"), "utf8");
  writeFileSync(resolve(root, "deploy/supergraph.graphql"), composeSupergraph(sdl));
  process.stderr.write("wrote deploy/supergraph.graphql\n");
}
