// Which organisation a public call belongs to: the one that registered the request's host,
// else DEFAULT_ORGANISATION_ID, else none (404).
import type { DataSource } from "typeorm";
import { boundedBy, type DatabaseDeadline } from "../db/deadline";
import { InvalidInput, NotFound } from "../errors";
import { Site } from "./site.entity";

const HOST_PATTERN = /^(?=.{1,253}$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/;
const CACHE_MAX_ENTRIES = 10_000;

/** "WWW.Example.com:8080" -> "www.example.com"; "[::1]:80" -> "::1". */
export function normalizeHost(host: string): string {
  const trimmed = host.trim().toLowerCase();
  if (trimmed.startsWith("[")) return trimmed.slice(1, trimmed.indexOf("]") > 0 ? trimmed.indexOf("]") : undefined);
  return trimmed.replace(/:\d*$/, "").replace(/\.$/, "");
}

export class SiteService {
  private readonly cache = new Map<string, { organisationId: string | null; expiresAt: number }>();

  constructor(
    private readonly dataSource: DataSource,
    private readonly settings: {
      defaultOrganisationId?: string;
      cacheTtlMs: number;
      /** Bounds the lookup of public calls (503 instead of a hang when the database does not answer). */
      deadline?: DatabaseDeadline;
    },
  ) {}

  async add(organisationId: string, host: string): Promise<{ organisationId: string; host: string }> {
    const normalized = normalizeHost(host);
    if (!HOST_PATTERN.test(normalized)) {
      throw new InvalidInput([{ path: ["host"], type: "value_error", message: `not a host name: ${host}` }]);
    }
    const repository = this.dataSource.getRepository(Site);
    const existing = await repository.findOneBy({ host: normalized });
    if (existing && existing.organisationId !== organisationId) {
      throw new InvalidInput([
        { path: ["host"], type: "value_error", message: `${normalized} already belongs to another organisation` },
      ]);
    }
    if (!existing) await repository.insert({ host: normalized, organisationId, createdAt: new Date() });
    this.cache.delete(normalized);
    return { organisationId, host: normalized };
  }

  /** The organisation of a public request made to `host`; throws NotFound when there is none. */
  async resolveTenantFromHost(host: string | undefined, deadline?: number): Promise<string> {
    const normalized = host ? normalizeHost(host) : "";
    const organisationId = normalized ? await this.lookup(normalized, deadline) : null;
    const resolved = organisationId ?? this.settings.defaultOrganisationId;
    if (!resolved) throw new NotFound("No site is registered for this host");
    return resolved;
  }

  /**
   * Whether a browser page at `origin` may call the public endpoints of `organisationId`: its
   * host is a site registered by that same organisation.
   */
  async isOriginOf(origin: string, organisationId: string): Promise<boolean> {
    let host: string;
    try {
      host = normalizeHost(new URL(origin).host);
    } catch {
      return false;
    }
    return (await this.lookup(host)) === organisationId;
  }

  private async lookup(host: string, deadline?: number): Promise<string | null> {
    const cached = this.cache.get(host);
    if (cached && cached.expiresAt > Date.now()) return cached.organisationId;
    const find = () => this.dataSource.getRepository(Site).findOneBy({ host });
    const site = await boundedBy(this.settings.deadline, find, deadline);
    const organisationId = site?.organisationId ?? null;
    if (this.settings.cacheTtlMs > 0) {
      if (this.cache.size >= CACHE_MAX_ENTRIES) this.cache.delete(this.cache.keys().next().value as string);
      this.cache.set(host, { organisationId, expiresAt: Date.now() + this.settings.cacheTtlMs });
    }
    return organisationId;
  }
}
