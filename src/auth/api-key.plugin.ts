// The one way a keyed REST route authenticates: `onRequest: app.authenticateApiKey` reads
// X-API-Key before the body is read (a bad key gets 401 whatever the body holds) and leaves the
// caller's organisation on request.principal. GraphQL's context reads the key with the same apiKeyFrom.
import type { FastifyInstance, FastifyRequest } from "fastify";
import fastifyPlugin from "fastify-plugin";
import type { ApiKeyService, Principal } from "./api-key.service";
import { apiKeyFrom } from "./api-key.service";

declare module "fastify" {
  interface FastifyInstance {
    authenticateApiKey(request: FastifyRequest): Promise<void>;
  }
  interface FastifyRequest {
    /** The caller's organisation, set by authenticateApiKey on keyed routes. */
    principal: Principal | null;
  }
}

export const apiKeyAuthentication = fastifyPlugin(
  async (app: FastifyInstance, { apiKeys }: { apiKeys: ApiKeyService }) => {
    app.decorateRequest("principal", null);
    app.decorate("authenticateApiKey", async (request: FastifyRequest) => {
      request.principal = await apiKeys.authenticate(apiKeyFrom(request.headers), request.databaseDeadline);
    });
  },
  { name: "api-key-authentication" },
);

/** The principal a keyed route's onRequest hook left; only called on such routes. */
export function principalOf(request: FastifyRequest): Principal {
  if (!request.principal) throw new Error("route is missing the authenticateApiKey hook");
  return request.principal;
}
