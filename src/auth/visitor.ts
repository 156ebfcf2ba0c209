// Who a public (browser) call comes from: the organisation owning the request's host, the
// visitor's tracking id (blaize_tracking_id cookie or an explicit argument) and, when a JWT
// presented through one of Zephr's transports verifies, the user id.
import type { IncomingHttpHeaders } from "node:http";
import type { FastifyRequest } from "fastify";
import type { JWTPayload } from "jose";
import { InvalidInput } from "../errors";
import { headerOf } from "../http/headers";
import type { RateLimiter } from "../rate-limit/rate-limiter";
import type { SiteService } from "../sites/site.service";
import { InvalidToken, type InvalidTokenReason, type JwtVerifier } from "./jwt";

export const TRACKING_COOKIE = "blaize_tracking_id";
export const TRACKING_ID_PATTERN = /^[A-Za-z0-9_-]{1,128}$/;
export const JWT_COOKIE = "blaize_jwt";
/** Longest `sub` stored as a user id (the user_id columns). */
const USER_ID_MAX_LENGTH = 255;

/** What the visitor's identity is read from, taken from a Fastify request (REST or GraphQL). */
export function publicRequest(request: FastifyRequest): PublicRequest {
  return {
    host: request.host,
    ip: request.ip,
    headers: request.headers,
    cookies: request.cookies,
    query: request.query as Record<string, unknown>,
    databaseDeadline: request.databaseDeadline,
  };
}

export interface PublicRequest {
  host: string | undefined;
  /** The client's address (after TRUST_PROXY). */
  ip: string;
  headers: IncomingHttpHeaders;
  cookies: Record<string, string | undefined>;
  query: Record<string, unknown>;
  /** Epoch ms past which the request stops waiting for the database (request.databaseDeadline). */
  databaseDeadline?: number;
}

export interface Visitor {
  organisationId: string;
  trackingId: string;
  userId: string | null;
}

/**
 * The tokens a caller presents explicitly, in Zephr's order: query `jwt`, X-Blaize-Jwt,
 * X-Zephr-Jwt, Bearer. Each must verify. (`blaize_session` is Zephr's opaque session cookie, not
 * a JWT: it is never read.)
 */
export function presentedTokens(request: PublicRequest): string[] {
  const header = (name: string) => headerOf(request.headers, name);
  const bearer = /^Bearer\s+(\S+)$/i.exec(header("authorization") ?? "")?.[1];
  const query = typeof request.query.jwt === "string" ? request.query.jwt : undefined;
  return [query, header("x-blaize-jwt"), header("x-zephr-jwt"), bearer].filter(
    (token): token is string => typeof token === "string" && token.length > 0,
  );
}

/** The `blaize_jwt` cookie: the browser sends it whether or not it is still valid. */
export function cookieToken(request: PublicRequest): string | undefined {
  const token = request.cookies[JWT_COOKIE];
  return typeof token === "string" && token.length > 0 ? token : undefined;
}

/** Told each time a `blaize_jwt` cookie that does not verify is ignored (the event stays anonymous). */
export type IgnoredCookieObserver = (reason: InvalidTokenReason) => void;

/** The budgets of public calls: per client address, and per organisation and visitor. */
export interface PublicCallLimits {
  perAddress: RateLimiter | null;
  perVisitor: RateLimiter | null;
}

/** Identifies the visitor behind a public call (not a GraphQL resolver: REST uses it too). */
export class VisitorIdentifier {
  private readonly ignoredCookieObservers: IgnoredCookieObserver[] = [];

  constructor(
    private readonly sites: SiteService,
    private readonly jwt: JwtVerifier,
    private readonly limits: PublicCallLimits = { perAddress: null, perVisitor: null },
  ) {}

  onIgnoredCookie(observer: IgnoredCookieObserver): void {
    this.ignoredCookieObservers.push(observer);
  }

  /**
   * Resolves the caller in the order a client can fix things: tenant (404), identity (401),
   * tracking id (400), then counts the call against the public budgets (429). Each call counts
   * once: REST, or one GraphQL mutation field.
   */
  async identify(request: PublicRequest, trackingIdArgument?: string | null): Promise<Visitor> {
    await this.limits.perAddress?.consume(request.ip);
    const organisationId = await this.sites.resolveTenantFromHost(request.host, request.databaseDeadline);
    const userId = await this.userId(request);
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

  /**
   * The first `sub` among the verified tokens, explicit ones first. An explicit token that does
   * not verify is the caller's mistake (401). A stale `blaize_jwt` cookie is the browser's, not
   * the visitor's: refusing it would drop logged-in visitors' events and bias the results, so it
   * is ignored and counted. Without JWT_SECRET or JWT_JWKS_URL no token can be verified: all
   * are ignored and every call is anonymous.
   */
  private async userId(request: PublicRequest): Promise<string | null> {
    if (!this.jwt.configured) return null;
    let userId: string | null = null;
    for (const token of presentedTokens(request)) {
      // Every explicit token is verified, even after one gave the user id.
      const sub = subjectOf(await this.jwt.verify(token));
      userId ??= sub;
    }
    const cookie = cookieToken(request);
    if (cookie === undefined) return userId;
    try {
      const sub = subjectOf(await this.jwt.verify(cookie));
      return userId ?? sub;
    } catch (error) {
      if (!(error instanceof InvalidToken)) throw error;
      for (const observer of this.ignoredCookieObservers) observer(error.reason);
      return userId;
    }
  }
}

/** The token's `sub`, or null without one; a `sub` too long to store makes the token invalid. */
function subjectOf(payload: JWTPayload): string | null {
  if (typeof payload.sub !== "string" || payload.sub.length === 0) return null;
  if (payload.sub.length > USER_ID_MAX_LENGTH) throw new InvalidToken("sub_too_long", "sub is too long");
  return payload.sub;
}
