// Who a public (browser) call comes from: the organisation owning the request's host, the
// visitor's tracking id (blaize_tracking_id cookie or an explicit argument) and, when a JWT is
// presented through one of Zephr's transports, the verified user id.
import type { IncomingHttpHeaders } from "node:http";
import type { FastifyRequest } from "fastify";
import { InvalidInput, Unauthenticated } from "../errors";
import { headerOf } from "../http/headers";
import type { RateLimiter } from "../rate-limit/rate-limiter";
import type { SiteService } from "../sites/site.service";
import type { JwtVerifier } from "./jwt";

export const TRACKING_COOKIE = "blaize_tracking_id";
export const TRACKING_ID_PATTERN = /^[A-Za-z0-9_-]{1,128}$/;

/** What the visitor's identity is read from, taken from a Fastify request (REST or GraphQL). */
export function publicRequest(request: FastifyRequest): PublicRequest {
  return {
    host: request.host,
    ip: request.ip,
    headers: request.headers,
    cookies: request.cookies,
    query: request.query as Record<string, unknown>,
  };
}

export interface PublicRequest {
  host: string | undefined;
  /** The client's address (after TRUST_PROXY). */
  ip: string;
  headers: IncomingHttpHeaders;
  cookies: Record<string, string | undefined>;
  query: Record<string, unknown>;
}

export interface Visitor {
  organisationId: string;
  trackingId: string;
  userId: string | null;
}

/** Zephr's JWT transports, in order: query `jwt`, X-Blaize-Jwt, X-Zephr-Jwt, Bearer, blaize_jwt, blaize_session. */
export function presentedTokens(request: PublicRequest): string[] {
  const header = (name: string) => headerOf(request.headers, name);
  const bearer = /^Bearer\s+(\S+)$/i.exec(header("authorization") ?? "")?.[1];
  const query = typeof request.query.jwt === "string" ? request.query.jwt : undefined;
  return [
    query,
    header("x-blaize-jwt"),
    header("x-zephr-jwt"),
    bearer,
    request.cookies.blaize_jwt,
    request.cookies.blaize_session,
  ].filter((token): token is string => typeof token === "string" && token.length > 0);
}

/** Identifies the visitor behind a public call (not a GraphQL resolver: REST uses it too). */
/** The budgets of public calls: per client address, and per organisation and visitor. */
export interface PublicCallLimits {
  perAddress: RateLimiter | null;
  perVisitor: RateLimiter | null;
}

export class VisitorIdentifier {
  constructor(
    private readonly sites: SiteService,
    private readonly jwt: JwtVerifier,
    private readonly limits: PublicCallLimits = { perAddress: null, perVisitor: null },
  ) {}

  /**
   * Resolves the caller in the order a client can fix things: tenant (404), identity (401),
   * tracking id (400), then counts the call against the public budgets (429). Every presented
   * token must verify; the first `sub` is the user id. Each call counts once: REST, or one
   * GraphQL mutation field.
   */
  async identify(request: PublicRequest, trackingIdArgument?: string | null): Promise<Visitor> {
    await this.limits.perAddress?.consume(request.ip);
    const organisationId = await this.sites.resolveTenantFromHost(request.host);
    let userId: string | null = null;
    for (const token of presentedTokens(request)) {
      const payload = await this.jwt.verify(token);
      if (userId === null && typeof payload.sub === "string" && payload.sub.length > 0) {
        if (payload.sub.length > 255) throw new Unauthenticated("Invalid token: sub is too long");
        userId = payload.sub;
      }
    }
    // An empty argument is no argument: the cookie still counts.
    const trackingId = trackingIdArgument || request.cookies[TRACKING_COOKIE];
    if (typeof trackingId !== "string" || !TRACKING_ID_PATTERN.test(trackingId)) {
      throw new InvalidInput([
        {
          path: ["trackingId"],
          type: trackingId === undefined ? "missing" : "value_error",
          message:
            trackingId === undefined
              ? `the ${TRACKING_COOKIE} cookie is missing`
              : `the tracking id must be 1 to 128 letters, digits, '-' or '_'`,
        },
      ]);
    }
    await this.limits.perVisitor?.consume(JSON.stringify([organisationId, trackingId]));
    return { organisationId, trackingId, userId };
  }
}
