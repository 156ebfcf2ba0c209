// Verifies visitors' JWTs: HS256 with JWT_SECRET and/or RS256/ES256 from JWT_JWKS_URL; expiry
// always; issuer and audience when configured; "alg: none" never (not in any allow-list).
import { createRemoteJWKSet, decodeProtectedHeader, type JWTPayload, jwtVerify } from "jose";
import { Unauthenticated } from "../errors";

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

  async verify(token: string): Promise<JWTPayload> {
    if (token.length > MAX_TOKEN_LENGTH) throw new Unauthenticated("Invalid token: too long");
    let algorithm: string | undefined;
    try {
      algorithm = decodeProtectedHeader(token).alg;
    } catch {
      throw new Unauthenticated("Invalid token: malformed");
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
      throw new Unauthenticated(`Invalid token: ${describeJoseError(error)}`);
    }
    throw new Unauthenticated(`Invalid token: algorithm ${algorithm ?? "missing"} is not accepted`);
  }
}

function describeJoseError(error: unknown): string {
  const code = (error as { code?: string }).code;
  switch (code) {
    case "ERR_JWT_EXPIRED":
      return "expired";
    case "ERR_JWS_SIGNATURE_VERIFICATION_FAILED":
      return "bad signature";
    case "ERR_JWT_CLAIM_VALIDATION_FAILED":
      return `claim ${(error as { claim?: string }).claim ?? ""} rejected`.trim();
    default:
      return "verification failed";
  }
}
