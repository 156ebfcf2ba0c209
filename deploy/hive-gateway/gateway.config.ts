// Hive Gateway in front of the conversions subgraph: the committed supergraph, the subgraph's URL
// from the environment, and the client headers the subgraph reads (the same as deploy/router.yaml).
// Only a type is imported, so test/deploy/deploy-files.test.ts can load this file without the
// gateway installed.
import type { GatewayCLIConfig } from "@graphql-hive/gateway";

/** Where `npm run gateway` finds the subgraph (`npm start` listens there). */
export const DEFAULT_CONVERSIONS_SUBGRAPH_URL = "http://127.0.0.1:4001/graphql";

/** Client headers sent on unchanged to the conversions subgraph, and to no other. */
export const PROPAGATED_HEADERS = [
  "x-api-key", // the organisation's key
  "cookie", // blaize_tracking_id, blaize_jwt, blaize_session
  "authorization",
  "x-blaize-jwt",
  "x-zephr-jwt",
  "x-request-id", // also set by the gateway's own request id, which reuses the client's
] as const;

/**
 * The headers of the gateway's requests to the conversions subgraph. The tenant of a public call is
 * its host: X-Forwarded-Host when the client (or an edge proxy) sent one, else the Host the client
 * called, renamed, as Apollo Router's `propagate: {named: Host, rename: X-Forwarded-Host}` does.
 */
export function conversionsSubgraphHeaders(client: Headers): Record<string, string | undefined> {
  const headers: Record<string, string | undefined> = {};
  for (const name of PROPAGATED_HEADERS) headers[name] = client.get(name) ?? undefined;
  headers["x-forwarded-host"] = client.get("x-forwarded-host") ?? client.get("host") ?? undefined;
  return headers;
}

export const gatewayConfig: GatewayCLIConfig = {
  // Relative to deploy/hive-gateway, where `npm run gateway` starts the gateway.
  supergraph: process.env.SUPERGRAPH_PATH || "../supergraph.graphql",
  // The supergraph routes to the compose network (http://conversions:4001/graphql); outside it the
  // subgraph is wherever CONVERSIONS_SUBGRAPH_URL says.
  transportEntries: {
    conversions: { location: process.env.CONVERSIONS_SUBGRAPH_URL || DEFAULT_CONVERSIONS_SUBGRAPH_URL },
  },
  propagateHeaders: {
    fromClientToSubgraphs: ({ request, subgraphName }) =>
      subgraphName === "conversions" ? conversionsSubgraphHeaders(request.headers) : {},
  },
  // As Apollo's: a request the browser would send without a preflight needs one of these headers.
  csrfPrevention: { requestHeaders: ["x-apollo-operation-name", "apollo-require-preflight"] },
};
