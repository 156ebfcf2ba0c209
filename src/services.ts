// The services of one running instance, wired once: the typed container the resolvers and
// routes receive, and what shutdown drains.
import type { Logger } from "pino";
import type { DataSource } from "typeorm";
import { ApiKeyService } from "./auth/api-key.service";
import { JwtVerifier } from "./auth/jwt";
import { VisitorResolver } from "./auth/visitor";
import type { Config } from "./config";
import { ContactService } from "./contacts/contact.service";
import { ConversionService } from "./conversions/conversion.service";
import { BatchWriter } from "./db/batch-writer";
import { eventPersister, type StoredEvent } from "./db/event-store";
import { OrganisationService } from "./organisations/organisation.service";
import { RuleService } from "./rules/rule.service";
import { SiteService } from "./sites/site.service";

export interface Services {
  dataSource: DataSource;
  organisations: OrganisationService;
  apiKeys: ApiKeyService;
  contacts: ContactService;
  conversions: ConversionService;
  sites: SiteService;
  visitors: VisitorResolver;
  rules: RuleService;
  writer: BatchWriter<StoredEvent>;
}

export type ServiceSettings = Pick<
  Config,
  | "API_KEY_CACHE_TTL_MS"
  | "WRITER_MAX_BATCH"
  | "WRITER_MAX_QUEUE"
  | "DEFAULT_ORGANISATION_ID"
  | "SITE_CACHE_TTL_MS"
  | "JWT_SECRET"
  | "JWT_JWKS_URL"
  | "JWT_ISSUER"
  | "JWT_AUDIENCE"
>;

export function createServices(dataSource: DataSource, settings: ServiceSettings, logger?: Logger): Services {
  const writer = new BatchWriter<StoredEvent>(
    eventPersister(dataSource),
    { maxBatch: settings.WRITER_MAX_BATCH, maxQueue: settings.WRITER_MAX_QUEUE },
    logger,
  );
  const contacts = new ContactService(dataSource);
  const sites = new SiteService(dataSource, {
    defaultOrganisationId: settings.DEFAULT_ORGANISATION_ID,
    cacheTtlMs: settings.SITE_CACHE_TTL_MS,
  });
  const jwt = new JwtVerifier({
    secret: settings.JWT_SECRET,
    jwksUrl: settings.JWT_JWKS_URL,
    issuer: settings.JWT_ISSUER,
    audience: settings.JWT_AUDIENCE,
  });
  return {
    dataSource,
    organisations: new OrganisationService(dataSource),
    apiKeys: new ApiKeyService(dataSource, settings.API_KEY_CACHE_TTL_MS),
    contacts,
    conversions: new ConversionService(dataSource, contacts, writer),
    sites,
    visitors: new VisitorResolver(sites, jwt),
    rules: new RuleService(dataSource, writer),
    writer,
  };
}
