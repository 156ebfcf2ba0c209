// API keys: issued once in clear, stored as SHA-256, verified in constant time, cached briefly.
import { createHash, randomBytes, randomUUID, timingSafeEqual } from "node:crypto";
import type { IncomingHttpHeaders } from "node:http";
import type { DataSource } from "typeorm";
import { boundedBy, type DatabaseDeadline } from "../db/deadline";
import { NotFound, Unauthenticated } from "../errors";
import { headerOf } from "../http/headers";
import type { RateLimiter } from "../rate-limit/rate-limiter";
import { ApiKey } from "./api-key.entity";

/** Who is calling: the organisation every query of the request is scoped to. */
export interface Principal {
  organisationId: string;
  apiKeyId: string;
}

export interface IssuedApiKey {
  id: string;
  key: string;
  prefix: string;
}

/** The API key a request presents (X-API-Key), REST and GraphQL alike. */
export function apiKeyFrom(headers: IncomingHttpHeaders): string | undefined {
  return headerOf(headers, "x-api-key");
}

const KEY_PATTERN = /^(cvk_[0-9a-f]{16})_[A-Za-z0-9_-]{43}$/;
const CACHE_MAX_ENTRIES = 10_000;
// Compared against when no row matches, so an unknown prefix costs the same as a wrong secret.
const DUMMY_HASH = Buffer.alloc(32);

function sha256(value: string): Buffer {
  return createHash("sha256").update(value).digest();
}

export class ApiKeyService {
  private readonly cache = new Map<string, { principal: Principal; expiresAt: number }>();

  constructor(
    private readonly dataSource: DataSource,
    private readonly cacheTtlMs: number,
    private readonly now: () => number = Date.now,
    /** Calls per key per window (API_KEY_RATE_LIMIT_PER_SECOND); null: unlimited. */
    private readonly callLimit: RateLimiter | null = null,
    /** Bounds the key's lookup (503 instead of a hang when the database does not answer). */
    private readonly deadline?: DatabaseDeadline,
  ) {}

  async create(organisationId: string, name?: string | null): Promise<IssuedApiKey> {
    const prefix = `cvk_${randomBytes(8).toString("hex")}`;
    const key = `${prefix}_${randomBytes(32).toString("base64url")}`;
    const row = Object.assign(new ApiKey(), {
      id: randomUUID(),
      organisationId,
      name: name?.trim() || null,
      prefix,
      keyHash: sha256(key).toString("hex"),
      createdAt: new Date(),
      revokedAt: null,
    });
    await this.dataSource.getRepository(ApiKey).insert(row);
    return { id: row.id, key, prefix };
  }

  /** Revokes a key; revoking twice keeps the first revocation time. */
  async revoke(id: string): Promise<{ id: string; revokedAt: Date }> {
    const repository = this.dataSource.getRepository(ApiKey);
    const row = await repository.findOneBy({ id });
    if (!row) throw new NotFound(`Unknown API key: ${id}`);
    if (!row.revokedAt) {
      row.revokedAt = new Date();
      await repository.update({ id }, { revokedAt: row.revokedAt });
    }
    this.cache.clear();
    return { id, revokedAt: row.revokedAt };
  }

  /**
   * The principal of a presented key, counted as `calls` calls of that key (a GraphQL request as one per
   * mutation field); throws Unauthenticated for a missing, unknown or revoked key and RateLimited past the
   * key's limit.
   */
  async authenticate(presented: string | undefined | null, deadline?: number, calls = 1): Promise<Principal> {
    const principal = await this.verify(presented, deadline);
    await this.callLimit?.consume(principal.apiKeyId, calls);
    return principal;
  }

  private async verify(presented: string | undefined | null, deadline?: number): Promise<Principal> {
    if (!presented) throw new Unauthenticated("Missing API key (X-API-Key header)");
    const hash = sha256(presented);
    const cacheKey = hash.toString("hex");
    const cached = this.cache.get(cacheKey);
    if (cached && cached.expiresAt > this.now()) return cached.principal;
    if (cached) this.cache.delete(cacheKey);

    const match = KEY_PATTERN.exec(presented);
    const find = async () => (match ? this.dataSource.getRepository(ApiKey).findOneBy({ prefix: match[1] }) : null);
    const row = await boundedBy(this.deadline, find, deadline);
    const stored = row ? Buffer.from(row.keyHash, "hex") : DUMMY_HASH;
    const equal = stored.length === hash.length && timingSafeEqual(stored, hash);
    if (!row || !equal || row.revokedAt) throw new Unauthenticated("Invalid API key");

    const principal = { organisationId: row.organisationId, apiKeyId: row.id };
    if (this.cacheTtlMs > 0) {
      if (this.cache.size >= CACHE_MAX_ENTRIES) this.cache.delete(this.cache.keys().next().value as string);
      this.cache.set(cacheKey, { principal, expiresAt: this.now() + this.cacheTtlMs });
    }
    return principal;
  }
}
