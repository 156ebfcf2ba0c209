// Verifies visitors' JWTs: HS256 with JWT_SECRET and/or RS256/ES256 from JWT_JWKS_URL; expiry
// always; issuer and audience when configured; "alg: none" never (not in any allow-list).
import { createRemoteJWKSet, decodeProtectedHeader, type JWTPayload, jwtVerify } from "jose";
import { Unauthenticated } from "../errors";

/** Why a token did not verify, in few enough words to label a metric with. */
export type InvalidTokenReason =
  | "too_long"
  | "malformed"
  | "expired"
  | "bad_signature"
  | "claim_rejected"
  | "algorithm_not_accepted"
  | "sub_too_long"
  | "verification_failed";

/** A token that does not verify: 401 when the caller presented it explicitly. */
export class InvalidToken extends Unauthenticated {
  constructor(
    readonly reason: InvalidTokenReason,
    detail: string,
  ) {
    super(`Invalid token: ${detail}`);
  }
}

export interface JwtSettings {
  secret?: string;
  jwksUrl?: string;
  issuer?: string;
  audience?: string;
}

const ASYMMETRIC_ALGORITHMS = ["RS256", "ES256"];
const MAX_TOKEN_LENGTH = 8192;

export class JwtVerifier {
  private readonly secret?: Uint8Array;
  private readonly jwks?: ReturnType<typeof createRemoteJWKSet>;

  constructor(private readonly settings: JwtSettings) {
    if (settings.secret) this.secret = new TextEncoder().encode(settings.secret);
    if (settings.jwksUrl) this.jwks = createRemoteJWKSet(new URL(settings.jwksUrl));
  }

  /** False with neither JWT_SECRET nor JWT_JWKS_URL: no token can be verified, so none is read. */
  get configured(): boolean {
    return this.secret !== undefined || this.jwks !== undefined;
  }

  async verify(token: string): Promise<JWTPayload> {
    if (token.length > MAX_TOKEN_LENGTH) throw new InvalidToken("too_long", "too long");
    let algorithm: string | undefined;
    try {
      algorithm = decodeProtectedHeader(token).alg;
    } catch {
      throw new InvalidToken("malformed", "malformed");
    }
    const options = {
      issuer: this.settings.issuer,
      audience: this.settings.audience,
      requiredClaims: ["exp"],
      clockTolerance: 5,
    };
    try {
      if (algorithm === "HS256" && this.secret) {
        return (await jwtVerify(token, this.secret, { ...options, algorithms: ["HS256"] })).payload;
      }
      if (algorithm && ASYMMETRIC_ALGORITHMS.includes(algorithm) && this.jwks) {
        return (await jwtVerify(token, this.jwks, { ...options, algorithms: ASYMMETRIC_ALGORITHMS })).payload;
      }
    } catch (error) {
      throw invalidTokenFrom(error);
    }
    throw new InvalidToken("algorithm_not_accepted", `algorithm ${algorithm ?? "missing"} is not accepted`);
  }
}

function invalidTokenFrom(error: unknown): InvalidToken {
  const code = (error as { code?: string }).code;
  switch (code) {
    case "ERR_JWT_EXPIRED":
      return new InvalidToken("expired", "expired");
    case "ERR_JWS_SIGNATURE_VERIFICATION_FAILED":
      return new InvalidToken("bad_signature", "bad signature");
    case "ERR_JWT_CLAIM_VALIDATION_FAILED":
      return new InvalidToken("claim_rejected", `claim ${(error as { claim?: string }).claim ?? ""} rejected`.trim());
    default:
      return new InvalidToken("verification_failed", "verification failed");
  }
}
