// The composition root: the services of one running instance, wired once. It owns what spans
// domains: the list of entities the data source maps, the one writer every domain's events go
// through (the union of event kinds and the dispatch to each domain's write function), and the
// typed container the app hands to routes and resolvers.
import type { Logger } from "pino";
import type { DataSource, EntityManager } from "typeorm";
import { ApiKey } from "./auth/api-key.entity";
import { ApiKeyService } from "./auth/api-key.service";
import { JwtVerifier } from "./auth/jwt";
import { VisitorIdentifier } from "./auth/visitor";
import type { Config } from "./config";
import { Contact } from "./contacts/contact.entity";
import { ContactService } from "./contacts/contact.service";
import { Conversion } from "./conversions/conversion.entity";
import { ConversionService } from "./conversions/conversion.service";
import { type ConversionEvent, writeConversions } from "./conversions/conversion.writer";
import { BatchWriter } from "./db/batch-writer";
import { DatabaseDeadline } from "./db/deadline";
import { type PersistOptions, persistInTransaction } from "./db/persist-in-transaction";
import { Organisation } from "./organisations/organisation.entity";
import { OrganisationService } from "./organisations/organisation.service";
import { RateLimitStore } from "./rate-limit/rate-limiter";
import { ruleEntities } from "./rules/rule.entities";
import { RuleService } from "./rules/rule.service";
import { RuleCounters } from "./rules/rule-counters";
import { type RuleEvent, type RuleWriteLimits, writeRuleEvents } from "./rules/rule-event-store";
import { Site } from "./sites/site.entity";
import { SiteService } from "./sites/site.service";

/** Every TypeORM entity of the service, for the data source and the drift test. */
export const entities = [Organisation, ApiKey, Contact, Conversion, Site, ...ruleEntities];

/** Every kind of event the writer stores, one transaction per batch. */
export type StoredEvent = ConversionEvent | RuleEvent;

/** Each domain writes its own events; their answers are put back in the batch's order. */
async function writeEvents(
  manager: EntityManager,
  events: StoredEvent[],
  limits: RuleWriteLimits,
): Promise<(Error | undefined)[]> {
  const conversions: { index: number; row: ConversionEvent["row"] }[] = [];
  const ruleEvents: { index: number; event: RuleEvent }[] = [];
  events.forEach((event, index) => {
    if (event.kind === "conversion") conversions.push({ index, row: event.row });
    else ruleEvents.push({ index, event });
  });
  const results: (Error | undefined)[] = new Array(events.length).fill(undefined);
  const conversionResults = await writeConversions(
    manager,
    conversions.map((entry) => entry.row),
  );
  conversionResults.forEach((result, position) => {
    results[conversions[position].index] = result;
  });
  const ruleResults = await writeRuleEvents(
    manager,
    ruleEvents.map((entry) => entry.event),
    limits,
  );
  ruleResults.forEach((result, position) => {
    results[ruleEvents[position].index] = result;
  });
  return results;
}

/** The persist function of the writer: every event kind in one retried transaction per batch. */
export function persistEvents(dataSource: DataSource, limits: RuleWriteLimits, options: PersistOptions = {}) {
  return persistInTransaction<StoredEvent, undefined>(
    dataSource,
    (manager, events) => writeEvents(manager, events, limits),
    options,
  );
}

export interface Services {
  dataSource: DataSource;
  /** Each request's bound on waiting for the database (DB_UNAVAILABLE_TIMEOUT_MS). */
  deadline: DatabaseDeadline;
  organisations: OrganisationService;
  apiKeys: ApiKeyService;
  contacts: ContactService;
  conversions: ConversionService;
  sites: SiteService;
  visitors: VisitorIdentifier;
  rules: RuleService;
  writer: BatchWriter<StoredEvent, undefined>;
  rateLimits: RateLimitStore;
}

export type ServiceSettings = Pick<
  Config,
  | "API_KEY_CACHE_TTL_MS"
  | "WRITER_MAX_BATCH"
  | "WRITER_MAX_QUEUE"
  | "DB_UNAVAILABLE_TIMEOUT_MS"
  | "MAX_OUTCOMES_PER_RULE"
  | "DEFAULT_ORGANISATION_ID"
  | "SITE_CACHE_TTL_MS"
  | "JWT_SECRET"
  | "JWT_JWKS_URL"
  | "JWT_ISSUER"
  | "JWT_AUDIENCE"
  | "PUBLIC_VISITOR_RATE_LIMIT_PER_MINUTE"
  | "PUBLIC_ADDRESS_RATE_LIMIT_PER_MINUTE"
  | "API_KEY_RATE_LIMIT_PER_SECOND"
  | "REDIS_URL"
  | "REDIS_KEY_PREFIX"
  | "REDIS_COMMAND_TIMEOUT_MS"
>;

export interface ServiceOptions {
  logger?: Logger;
  /** When events happen; the wall clock unless a test places events on chosen days. */
  clock?: () => Date;
}

export function createServices(
  dataSource: DataSource,
  settings: ServiceSettings,
  options: ServiceOptions = {},
): Services {
  const deadline = new DatabaseDeadline(settings.DB_UNAVAILABLE_TIMEOUT_MS);
  const writer = new BatchWriter<StoredEvent, undefined>(
    persistEvents(
      dataSource,
      { maxOutcomesPerRule: settings.MAX_OUTCOMES_PER_RULE },
      { deadline, logger: options.logger },
    ),
    {
      maxBatch: settings.WRITER_MAX_BATCH,
      maxQueue: settings.WRITER_MAX_QUEUE,
      deadline: () => deadline.at(),
      expired: () => deadline.unreachable(),
    },
    options.logger,
  );
  const contacts = new ContactService(dataSource, deadline);
  const sites = new SiteService(dataSource, {
    defaultOrganisationId: settings.DEFAULT_ORGANISATION_ID,
    cacheTtlMs: settings.SITE_CACHE_TTL_MS,
    deadline,
  });
  const jwt = new JwtVerifier({
    secret: settings.JWT_SECRET,
    jwksUrl: settings.JWT_JWKS_URL,
    issuer: settings.JWT_ISSUER,
    audience: settings.JWT_AUDIENCE,
  });
  const rateLimits = new RateLimitStore({
    redisUrl: settings.REDIS_URL,
    keyPrefix: settings.REDIS_KEY_PREFIX,
    commandTimeoutMs: settings.REDIS_COMMAND_TIMEOUT_MS,
    logger: options.logger,
  });
  const publicLimits = {
    perAddress: rateLimits.limiter("public-address", settings.PUBLIC_ADDRESS_RATE_LIMIT_PER_MINUTE, 60),
    perVisitor: rateLimits.limiter("public-visitor", settings.PUBLIC_VISITOR_RATE_LIMIT_PER_MINUTE, 60),
  };
  return {
    dataSource,
    deadline,
    organisations: new OrganisationService(dataSource),
    apiKeys: new ApiKeyService(
      dataSource,
      settings.API_KEY_CACHE_TTL_MS,
      Date.now,
      rateLimits.limiter("api-key", settings.API_KEY_RATE_LIMIT_PER_SECOND, 1),
      deadline,
    ),
    contacts,
    conversions: new ConversionService(dataSource, contacts, writer),
    sites,
    visitors: new VisitorIdentifier(sites, jwt, publicLimits),
    rules: new RuleService(new RuleCounters(dataSource), writer, options.clock),
    writer,
    rateLimits,
  };
}
