// What every resolver receives: the services and the caller, authenticated lazily and once.
import type { IncomingHttpHeaders } from "node:http";
import type { Principal } from "../auth/api-key.service";
import type { Services } from "../services";

export interface GraphQLContext {
  requestId: string;
  headers: IncomingHttpHeaders;
  services: Services;
  /** The caller's organisation from X-API-Key; throws Unauthenticated. */
  principal(): Promise<Principal>;
}

export function createGraphQLContext(
  services: Services,
  requestId: string,
  headers: IncomingHttpHeaders,
): GraphQLContext {
  let principal: Promise<Principal> | undefined;
  return {
    requestId,
    headers,
    services,
    principal: () => {
      principal ??= services.apiKeys.authenticate(singleHeader(headers["x-api-key"]));
      return principal;
    },
  };
}

export function singleHeader(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}
