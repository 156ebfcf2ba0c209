// What every resolver receives: the services and the caller. The organisation's principal
// (X-API-Key) and the public visitor (host, cookie, JWT) are both resolved lazily and once.
// Generic in the services: each domain's resolvers name only the services they use.
import type { IncomingHttpHeaders } from "node:http";
import type { Principal } from "../auth/api-key.service";
import type { PublicRequest, Visitor } from "../auth/visitor";

/** Builds one request's DataLoaders, every one bound to the caller's organisation. */
export type LoaderFactory<TServices, TLoaders> = (services: TServices, organisationId: string) => TLoaders;

export interface GraphQLContext<TServices = unknown> {
  requestId: string;
  headers: IncomingHttpHeaders;
  services: TServices;
  /** Epoch ms past which this request stops waiting for the database: handed to the services it calls. */
  databaseDeadline: number | undefined;
  /**
   * Sets how many calls of its API key the request counts as: 1 unless told, one per keyed mutation field once
   * the operation is known, before any resolver runs (operationLimitsPlugin in limits.ts). A method, not a field:
   * Apollo executes on a shallow copy of the context, which the principal's closure would never see.
   */
  countCalls(calls: number): void;
  /** The caller's organisation from X-API-Key; throws Unauthenticated. */
  principal(): Promise<Principal>;
  /** The public caller (browser) of a recording mutation. */
  visitor(trackingIdArgument?: string | null): Promise<Visitor>;
  /** The loaders `factory` builds, once per request, for the caller's organisation (needs X-API-Key). */
  loaders<TLoaders>(factory: LoaderFactory<TServices, TLoaders>): Promise<TLoaders>;
}

/** How the context identifies callers: auth/'s API keys and visitor identification. */
export interface CallerIdentification {
  /** The principal of the request's key, counted as `calls` calls of it. */
  authenticate(request: PublicRequest, calls: number): Promise<Principal>;
  identifyVisitor(request: PublicRequest, trackingIdArgument?: string | null): Promise<Visitor>;
}

export function createGraphQLContext<TServices>(
  services: TServices,
  identification: CallerIdentification,
  requestId: string,
  request: PublicRequest,
): GraphQLContext<TServices> {
  let principal: Promise<Principal> | undefined;
  let calls = 1;
  const loaders = new Map<LoaderFactory<TServices, unknown>, Promise<unknown>>();
  const context: GraphQLContext<TServices> = {
    requestId,
    headers: request.headers,
    services,
    databaseDeadline: request.databaseDeadline,
    countCalls: (count) => {
      calls = count;
    },
    principal: () => {
      principal ??= identification.authenticate(request, calls);
      return principal;
    },
    visitor: (trackingIdArgument) => identification.identifyVisitor(request, trackingIdArgument),
    loaders: <TLoaders>(factory: LoaderFactory<TServices, TLoaders>) => {
      let built = loaders.get(factory) as Promise<TLoaders> | undefined;
      if (!built) {
        built = context.principal().then(({ organisationId }) => factory(services, organisationId));
        loaders.set(factory, built);
      }
      return built;
    },
  };
  return context;
}
