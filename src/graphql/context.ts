// What every resolver receives: the services and the caller. The organisation's principal
// (X-API-Key) and the public visitor (host, cookie, JWT) are both resolved lazily and once.
import type { IncomingHttpHeaders } from "node:http";
import type { Principal } from "../auth/api-key.service";
import type { PublicRequest, Visitor } from "../auth/visitor";
import type { Services } from "../services";
import { createRequestLoaders, type RequestLoaders } from "./loaders";

export interface GraphQLContext {
  requestId: string;
  headers: IncomingHttpHeaders;
  services: Services;
  /** The caller's organisation from X-API-Key; throws Unauthenticated. */
  principal(): Promise<Principal>;
  /** The public caller (browser) of a recording mutation. */
  visitor(trackingIdArgument?: string | null): Promise<Visitor>;
  /** This request's DataLoaders, scoped to the caller's organisation (needs X-API-Key). */
  loaders(): Promise<RequestLoaders>;
}

export function createGraphQLContext(services: Services, requestId: string, request: PublicRequest): GraphQLContext {
  let principal: Promise<Principal> | undefined;
  let loaders: Promise<RequestLoaders> | undefined;
  const context: GraphQLContext = {
    requestId,
    headers: request.headers,
    services,
    principal: () => {
      principal ??= services.apiKeys.authenticate(singleHeader(request.headers["x-api-key"]));
      return principal;
    },
    visitor: (trackingIdArgument) => services.visitors.resolve(request, trackingIdArgument),
    loaders: () => {
      loaders ??= context.principal().then(({ organisationId }) => createRequestLoaders(services, organisationId));
      return loaders;
    },
  };
  return context;
}

export function singleHeader(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}
