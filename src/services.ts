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
import { dialectOf } from "./db/sql";
import { IdempotencyService, type Replayed } from "./idempotency/idempotency.service";
import { IdempotencyKey } from "./idempotency/idempotency-key.entity";
import { Organisation } from "./organisations/organisation.entity";
import { OrganisationService } from "./organisations/organisation.service";
import { RateLimitStore } from "./rate-limit/rate-limiter";
import { ruleEntities } from "./rules/rule.entities";
import { RuleService } from "./rules/rule.service";
import { RuleCounters } from "./rules/rule-counters";
import { type RuleEvent, type RuleWriteLimits, writeRuleEvents } from "./rules/rule-event-store";
import { RULE_FIGURES_WARM_UP, RULE_FIGURES_WORKER, RuleFigures } from "./rules/rule-figures";
import { Site } from "./sites/site.entity";
import { SiteService } from "./sites/site.service";
import { WorkerPool } from "./workers/worker-pool";

/** Every TypeORM entity of the service, for the data source and the drift test. */
export const entities = [Organisation, ApiKey, Contact, Conversion, Site, ...ruleEntities, IdempotencyKey];

/** How long a request waits for a concurrent one with the same Idempotency-Key (then 409). */
const IDEMPOTENCY_WAIT_MS = 10_000;

/** Every kind of event the writer stores, one transaction per batch. */
export type StoredEvent = ConversionEvent | RuleEvent;

/** What the writer answers for one event: stored (undefined), replayed, or refused (an Error). */
export type StoredResult = Replayed | Error | undefined;

/**
 * One batch, in one transaction: the idempotency keys the events carry are claimed first (an event
 * whose key another request stored is a replay, or a conflict, and is not written); each domain
 * writes its own events; a key whose event a domain refused is released, so a retry is judged afresh.
 */
async function writeEvents(
  manager: EntityManager,
  events: StoredEvent[],
  limits: RuleWriteLimits,
  idempotency: IdempotencyService,
): Promise<StoredResult[]> {
  const results: StoredResult[] = await idempotency.claim(
    manager,
    events.map((event) => event.idempotency),
  );
  const conversions: { index: number; row: ConversionEvent["row"] }[] = [];
  const ruleEvents: { index: number; event: RuleEvent }[] = [];
  events.forEach((event, index) => {
    if (results[index] !== undefined) return;
    if (event.kind === "conversion") conversions.push({ index, row: event.row });
    else ruleEvents.push({ index, event });
  });
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
  const refusedClaims = [...conversions, ...ruleEvents].flatMap(({ index }) => {
    const claim = events[index].idempotency;
    return results[index] instanceof Error && claim ? [claim] : [];
  });
  await idempotency.release(manager, refusedClaims);
  return results;
}

/** The persist function of the writer: every event kind in one retried transaction per batch. */
export function persistEvents(
  dataSource: DataSource,
  limits: RuleWriteLimits,
  idempotency: IdempotencyService,
  options: PersistOptions = {},
) {
  return persistInTransaction<StoredEvent, Replayed | undefined>(
    dataSource,
    (manager, events) => writeEvents(manager, events, limits, idempotency),
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
  writer: BatchWriter<StoredEvent, Replayed | undefined>;
  idempotency: IdempotencyService;
  rateLimits: RateLimitStore;
  /** Worker threads for the statistics too costly for the event loop (STATS_WORKERS); closed at shutdown. */
  statsWorkers: WorkerPool;
  /** With STATS_WARM_UP: starts the statistics threads, and runs the warm-up series on them and here. */
  warmUp(): Promise<void>;
}

export type ServiceSettings = Pick<
  Config,
  | "API_KEY_CACHE_TTL_MS"
  | "CONTACT_CACHE_TTL_MS"
  | "WRITER_MAX_BATCH"
  | "WRITER_MAX_QUEUE"
  | "DB_UNAVAILABLE_TIMEOUT_MS"
  | "MAX_OUTCOMES_PER_RULE"
  | "IDEMPOTENCY_TTL_HOURS"
  | "IDEMPOTENCY_SWEEP_INTERVAL_MS"
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
  | "STATS_WORKERS"
  | "STATS_WARM_UP"
  | "STATS_WORKER_QUEUE"
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
  const idempotency = new IdempotencyService(
    dataSource,
    {
      ttlMs: settings.IDEMPOTENCY_TTL_HOURS * 3_600_000,
      waitMs: IDEMPOTENCY_WAIT_MS,
      sweepIntervalMs: settings.IDEMPOTENCY_SWEEP_INTERVAL_MS,
    },
    options.logger,
    Date.now,
    deadline,
  );
  const writer = new BatchWriter<StoredEvent, Replayed | undefined>(
    persistEvents(dataSource, { maxOutcomesPerRule: settings.MAX_OUTCOMES_PER_RULE }, idempotency, {
      deadline,
      logger: options.logger,
    }),
    {
      maxBatch: settings.WRITER_MAX_BATCH,
      maxQueue: settings.WRITER_MAX_QUEUE,
      // A split-test request is one item of a row per outcome named: both bounds count rows.
      sizeOf: (event) => (event.kind === "conversion" ? 1 : event.rows.length),
      deadline: () => deadline.at(),
      expired: () => deadline.unreachable(),
      // Logged conversions touch only their own rows (and share-lock their contacts): a batch of
      // them may be written beside another on MySQL. Split-test events keep their order (an
      // exposure is written before a conversion that follows it). SQLite has one connection.
      orderFree: dialectOf(dataSource.manager) === "mysql" ? (event) => event.kind === "conversion" : undefined,
    },
    options.logger,
  );
  const contacts = new ContactService(dataSource, deadline, settings.CONTACT_CACHE_TTL_MS);
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
  const statsWorkers = new WorkerPool({
    script: RULE_FIGURES_WORKER,
    size: settings.STATS_WORKERS,
    maxQueue: settings.STATS_WORKER_QUEUE,
    logger: options.logger,
    warmUp: RULE_FIGURES_WARM_UP,
  });
  const figures = new RuleFigures(statsWorkers);
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
    conversions: new ConversionService(dataSource, contacts, writer, idempotency, deadline),
    sites,
    visitors: new VisitorIdentifier(sites, jwt, publicLimits),
    rules: new RuleService(dataSource, new RuleCounters(dataSource), writer, idempotency, figures, options.clock),
    writer,
    idempotency,
    rateLimits,
    statsWorkers,
    warmUp: async () => {
      if (!settings.STATS_WARM_UP) return;
      // The threads' warm-up and this one's at once, on different cores.
      await Promise.all([statsWorkers.prestart(), figures.warmUp()]);
    },
  };
}
