// Writes a batch of split-test events inside the writer's transaction and keeps the counters
// exact: facts that count once (first exposure, first attributed conversion per type) are
// inserted tagged with the batch id, duplicates ignored by the unique key, and the counters are
// bumped only for the rows this batch really inserted. The database decides every duplicate,
// so several service instances on one MySQL stay exact.
import { hash } from "node:crypto";
import type { EntityManager } from "typeorm";
import {
  deleteWhereIn,
  dialectOf,
  fromDbTimestamp,
  insertRows,
  insertRowsReturning,
  selectWhereIn,
  toDbTimestamp,
} from "../db/sql";
import { timeOrderedUuid } from "../db/time-ordered-id";
import { InvalidInput } from "../errors";
import type { IdempotencyClaim } from "../idempotency/idempotency.service";

export interface ExposureRecord {
  organisationId: string;
  ruleId: string;
  outcomeId: string;
  trackingId: string;
  userId: string | null;
  at: Date;
}

export interface RuleConversionRecord extends ExposureRecord {
  id: string;
  conversion: string;
}

/**
 * The events the split-test domain hands to the writer: one request's exposures or conversions
 * (one row per outcome named), stored together or not at all, with the request's idempotency claim.
 */
export type RuleEvent = (
  | { kind: "exposures"; rows: ExposureRecord[] }
  | { kind: "ruleConversions"; rows: RuleConversionRecord[] }
) & { idempotency?: IdempotencyClaim };

/** The conversion type of the counters and converters that count conversions of any type. */
export const ANY_CONVERSION = "";

/**
 * A fact or counter row's identity in memory: its parts as JSON, which no two different tuples
 * share (any character may appear in an id). The database's key is the SHA-256 of this text,
 * computed once per distinct row of a batch (hashOfKey), never per event.
 */
const partsKey = (...parts: string[]) => JSON.stringify(parts);

/** The hashed unique key of a fact or counter row, from its partsKey. */
const hashOfKey = (key: string) => hash("sha256", key, "hex");

/** The hashed unique key of a fact or counter row: SHA-256 of its parts as JSON. */
export function keyHash(...parts: string[]): string {
  return hashOfKey(partsKey(...parts));
}

const DAY_MS = 86_400_000;
let lastDayNumber = Number.NaN;
let lastDay = "";

/** The UTC day of a date, "YYYY-MM-DD" (the last one remembered: a batch's events share few days). */
export function utcDay(date: Date): string {
  const dayNumber = Math.floor(date.getTime() / DAY_MS);
  if (dayNumber !== lastDayNumber) {
    lastDay = date.toISOString().slice(0, 10);
    lastDayNumber = dayNumber;
  }
  return lastDay;
}

/**
 * Amounts to add to the cells of a counter table, each cell keyed by the hash of its scope
 * (negative amounts take back what erased rows contributed). apply() adds them in one upsert.
 */
class CounterCells<Name extends string> {
  /** By partsKey of the scope; the hash is taken when the cells are written. */
  readonly rows = new Map<string, { scope: string[]; values: Record<Name, number> }>();

  constructor(
    private readonly table: string,
    private readonly scopeColumns: string[],
    private readonly names: readonly Name[],
  ) {}

  protected addTo(scope: string[], name: Name, amount: number) {
    const key = partsKey(...scope);
    let row = this.rows.get(key);
    if (!row) {
      row = { scope, values: Object.fromEntries(this.names.map((n) => [n, 0])) as Record<Name, number> };
      this.rows.set(key, row);
    }
    row.values[name] += amount;
  }

  /** Adds every amount to its cell, creating the cells that do not exist yet. */
  async apply(manager: EntityManager): Promise<void> {
    await insertRows(
      manager,
      this.table,
      ["counter_key", ...this.scopeColumns, ...this.names],
      byKey(
        [...this.rows].map(([key, row]) => [
          hashOfKey(key),
          ...row.scope,
          ...this.names.map((name) => row.values[name]),
        ]),
      ),
      {
        conflictKey: ["counter_key"],
        updates: Object.fromEntries(this.names.map((name) => [name, "add" as const])),
      },
    );
  }

  /** Deletes the given cells that hold nothing any more (after an erasure). */
  async deleteEmpty(manager: EntityManager): Promise<void> {
    await deleteWhereIn(
      manager,
      this.table,
      "counter_key",
      [...this.rows.keys()].map(hashOfKey),
      this.names.map((name) => `${name} = 0`).join(" AND "),
    );
  }
}

type CounterName =
  | "exposures"
  | "converters"
  | "conversions"
  | "unattributed"
  | "recorded_converters"
  | "recorded_conversions";

/** Cells of rule_outcome_daily_stats: (organisation, rule, outcome, conversion type, day). */
export class Counters extends CounterCells<CounterName> {
  constructor() {
    super(
      "rule_outcome_daily_stats",
      ["organisation_id", "rule_id", "outcome_id", "conversion_type", "day"],
      ["exposures", "converters", "conversions", "unattributed", "recorded_converters", "recorded_conversions"],
    );
  }

  add(
    organisationId: string,
    ruleId: string,
    outcomeId: string,
    conversionType: string,
    day: string,
    name: CounterName,
    amount = 1,
  ) {
    this.addTo([organisationId, ruleId, outcomeId, conversionType, day], name, amount);
  }
}

/**
 * Cells of rule_outcome_conversion_days: attributed converters and conversions by (cohort day, day
 * of the conversion), for the results as they stood on each day. A converter counts on the day of
 * its first attributed conversion, a conversion on its own day. Each amount is also added to the
 * daily counters' recorded_* cells of the conversion day, which the series reads.
 */
export class ConversionDayCounters extends CounterCells<"converters" | "conversions"> {
  constructor(private readonly daily: Counters) {
    super(
      "rule_outcome_conversion_days",
      ["organisation_id", "rule_id", "outcome_id", "conversion_type", "cohort_day", "conversion_day"],
      ["converters", "conversions"],
    );
  }

  add(
    scope: [organisationId: string, ruleId: string, outcomeId: string, conversionType: string],
    cohortDay: string,
    conversionDay: string,
    name: "converters" | "conversions",
    amount = 1,
  ) {
    this.addTo([...scope, cohortDay, conversionDay], name, amount);
    this.daily.add(
      ...scope,
      conversionDay,
      name === "converters" ? "recorded_converters" : "recorded_conversions",
      amount,
    );
  }
}

/** Cells of rule_crossovers: per (organisation, rule), visitors exposed to two or more of its outcomes. */
export class CrossoverCounters extends CounterCells<"visitors"> {
  constructor() {
    super("rule_crossovers", ["organisation_id", "rule_id"], ["visitors"]);
  }

  add(organisationId: string, ruleId: string, amount = 1) {
    this.addTo([organisationId, ruleId], "visitors", amount);
  }
}

class OutcomeActivity {
  readonly rows = new Map<string, { scope: [string, string, string]; exposures: number; first: Date; last: Date }>();
  /** The row of the last event: consecutive events mostly name the same outcome. */
  private latest?: { scope: [string, string, string]; exposures: number; first: Date; last: Date };

  touch(event: ExposureRecord, newExposure = false) {
    let row = this.latest;
    if (
      !row ||
      row.scope[0] !== event.organisationId ||
      row.scope[1] !== event.ruleId ||
      row.scope[2] !== event.outcomeId
    ) {
      const key = partsKey(event.organisationId, event.ruleId, event.outcomeId);
      row = this.rows.get(key);
      if (!row) {
        row = {
          scope: [event.organisationId, event.ruleId, event.outcomeId],
          exposures: 0,
          first: event.at,
          last: event.at,
        };
        this.rows.set(key, row);
      }
      this.latest = row;
    }
    if (newExposure) row.exposures++;
    if (event.at < row.first) row.first = event.at;
    if (event.at > row.last) row.last = event.at;
  }
}

export const byKey = <T extends unknown[]>(rows: T[]) => rows.sort((a, b) => (String(a[0]) < String(b[0]) ? -1 : 1));

/**
 * Inserts fact rows tagged with the batch id, duplicates of the key_hash kept unchanged, and
 * answers the key_hash of those this batch really inserted: from the INSERT itself where it can
 * return its rows (MariaDB), else read back by batch id.
 */
async function insertNewFacts(
  manager: EntityManager,
  table: string,
  columns: string[],
  rows: unknown[][],
  batchId: string,
): Promise<string[]> {
  const answered = await insertRowsReturning<{ key_hash: string; batch_id: string }>(
    manager,
    table,
    columns,
    rows,
    { conflictKey: ["key_hash"] },
    ["key_hash", "batch_id"],
    () => manager.query(`SELECT key_hash, batch_id FROM ${table} WHERE batch_id = ?`, [batchId]),
  );
  // A row already there (returned by MariaDB as it stands) keeps the batch id of the batch that inserted it.
  return answered.filter((row) => row.batch_id === batchId).map((row) => row.key_hash);
}

export interface RuleWriteLimits {
  /** Distinct outcomes a rule may have; an event naming one more is refused whole. */
  maxOutcomesPerRule: number;
}

/**
 * Stores a batch of split-test events inside the writer's transaction. Answers each event: nothing
 * when stored, InvalidInput when it would take its rule past the outcome limit (nothing of it stored).
 */
export async function writeRuleEvents(
  manager: EntityManager,
  events: RuleEvent[],
  limits: RuleWriteLimits,
): Promise<(InvalidInput | undefined)[]> {
  const refusals = await refuseOutcomesBeyondLimit(manager, events, limits.maxOutcomesPerRule);
  const exposures: ExposureRecord[] = [];
  const conversions: RuleConversionRecord[] = [];
  events.forEach((event, index) => {
    if (refusals[index]) return;
    if (event.kind === "exposures") exposures.push(...event.rows);
    else conversions.push(...event.rows);
  });
  await persistRuleEvents(manager, exposures, conversions);
  return refusals;
}

/**
 * Which events would give their rule more than `max` outcomes. A rule that gains outcomes is
 * locked first (on MySQL its rule_outcomes range, FOR UPDATE: another instance adding an outcome
 * to it waits for this transaction), so the count is decided by the database, exact across instances.
 */
async function refuseOutcomesBeyondLimit(
  manager: EntityManager,
  events: RuleEvent[],
  max: number,
): Promise<(InvalidInput | undefined)[]> {
  const rules = new Map<string, { organisationId: string; ruleId: string; outcomeIds: Set<string> }>();
  // Rows come in runs of one rule: its key is built once per run.
  let last: { organisationId: string; ruleId: string; key: string } | undefined;
  const ruleKeyOf = (row: ExposureRecord) => {
    if (!last || last.organisationId !== row.organisationId || last.ruleId !== row.ruleId) {
      last = { organisationId: row.organisationId, ruleId: row.ruleId, key: partsKey(row.organisationId, row.ruleId) };
    }
    return last.key;
  };
  for (const event of events) {
    for (const row of event.rows) {
      const key = ruleKeyOf(row);
      const rule = rules.get(key) ?? { organisationId: row.organisationId, ruleId: row.ruleId, outcomeIds: new Set() };
      rule.outcomeIds.add(row.outcomeId);
      rules.set(key, rule);
    }
  }
  const knownOutcomes = async (rule: { organisationId: string; ruleId: string; outcomeIds: Set<string> }) =>
    new Set(
      (
        await selectWhereIn<{ outcome_id: string }>(
          manager,
          "SELECT outcome_id FROM rule_outcomes WHERE organisation_id = ? AND rule_id = ? AND outcome_id",
          [...rule.outcomeIds],
          [rule.organisationId, rule.ruleId],
        )
      ).map((row) => row.outcome_id),
    );
  const state = new Map<string, { known: Set<string>; count: number }>();
  const lock = dialectOf(manager) === "mysql" ? " FOR UPDATE" : "";
  // In key order, so two instances lock the same rules in the same order.
  for (const [key, rule] of [...rules].sort(([a], [b]) => (a < b ? -1 : 1))) {
    let known = await knownOutcomes(rule);
    if (known.size === rule.outcomeIds.size) continue;
    const [{ n }] = await manager.query(
      `SELECT COUNT(*) AS n FROM rule_outcomes WHERE organisation_id = ? AND rule_id = ?${lock}`,
      [rule.organisationId, rule.ruleId],
    );
    // Another instance may have added some of them before the lock was ours.
    known = await knownOutcomes(rule);
    state.set(key, { known, count: Number(n) });
  }
  // Every outcome named is known already: the common case, nothing to decide.
  if (state.size === 0) return events.map(() => undefined);
  return events.map((event) => {
    const fresh = new Map<string, Set<string>>();
    for (const row of event.rows) {
      const key = ruleKeyOf(row);
      const rule = state.get(key);
      if (!rule || rule.known.has(row.outcomeId)) continue;
      const ids = fresh.get(key) ?? new Set();
      ids.add(row.outcomeId);
      fresh.set(key, ids);
    }
    for (const [key, ids] of fresh) {
      const rule = state.get(key) as { known: Set<string>; count: number };
      if (rule.count + ids.size > max) {
        return new InvalidInput([
          {
            path: ["outcomeId"],
            type: "value_error",
            message: `the rule already has ${rule.count} outcomes: at most ${max} are recorded per rule`,
          },
        ]);
      }
    }
    for (const [key, ids] of fresh) {
      const rule = state.get(key) as { known: Set<string>; count: number };
      rule.count += ids.size;
      for (const id of ids) rule.known.add(id);
    }
    return undefined;
  });
}

async function persistRuleEvents(
  manager: EntityManager,
  exposures: ExposureRecord[],
  conversions: RuleConversionRecord[],
): Promise<void> {
  if (exposures.length === 0 && conversions.length === 0) return;
  const batchId = timeOrderedUuid();
  const counters = new Counters();
  const conversionDays = new ConversionDayCounters(counters);
  const activity = new OutcomeActivity();
  const newExposures: ExposureRecord[] = [];

  // First exposures: the earliest of the batch per visitor and outcome; the key drops repeats.
  const earliest = new Map<string, ExposureRecord>();
  for (const exposure of exposures) {
    const key = partsKey(exposure.organisationId, exposure.ruleId, exposure.outcomeId, exposure.trackingId);
    const known = earliest.get(key);
    if (!known || exposure.at < known.at) earliest.set(key, exposure);
  }
  /** By key_hash, each hashed once. */
  const exposureCandidates = new Map<string, ExposureRecord>();
  for (const [key, exposure] of earliest) exposureCandidates.set(hashOfKey(key), exposure);
  const insertedExposures = await insertNewFacts(
    manager,
    "rule_exposures",
    ["key_hash", "organisation_id", "rule_id", "outcome_id", "tracking_id", "user_id", "exposed_at", "day", "batch_id"],
    byKey(
      [...exposureCandidates].map(([key, e]) => [
        key,
        e.organisationId,
        e.ruleId,
        e.outcomeId,
        e.trackingId,
        e.userId,
        toDbTimestamp(e.at),
        utcDay(e.at),
        batchId,
      ]),
    ),
    batchId,
  );
  for (const keyHash of insertedExposures) {
    const exposure = exposureCandidates.get(keyHash);
    if (!exposure) continue;
    counters.add(
      exposure.organisationId,
      exposure.ruleId,
      exposure.outcomeId,
      ANY_CONVERSION,
      utcDay(exposure.at),
      "exposures",
    );
    activity.touch(exposure, true);
    newExposures.push(exposure);
  }
  for (const exposure of exposures) activity.touch(exposure);

  if (conversions.length > 0) {
    await persistConversions(manager, batchId, conversions, counters, conversionDays, activity);
  }

  await countCrossovers(manager, newExposures);
  await counters.apply(manager);
  await conversionDays.apply(manager);
  await insertRows(
    manager,
    "rule_outcomes",
    ["organisation_id", "rule_id", "outcome_id", "exposures", "first_seen_at", "last_activity_at"],
    [...activity.rows]
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([, row]) => [...row.scope, row.exposures, toDbTimestamp(row.first), toDbTimestamp(row.last)]),
    {
      conflictKey: ["organisation_id", "rule_id", "outcome_id"],
      updates: { exposures: "add", last_activity_at: "max" },
    },
  );
}

/**
 * Keeps the crossover counters: per (organisation, rule, visitor) the number of outcomes first
 * exposed (rule_visitor_outcomes), and per rule the visitors with two or more. The database adds
 * this batch's new first exposures to each visitor's count; the count read back under the row's
 * lock (ours until commit) says whether this batch took it from below 2 to 2 or more, so each
 * crossover is counted once, also across instances.
 */
async function countCrossovers(manager: EntityManager, newExposures: ExposureRecord[]): Promise<void> {
  if (newExposures.length === 0) return;
  const byVisitor = new Map<string, { scope: [string, string, string]; added: number }>();
  for (const exposure of newExposures) {
    const key = partsKey(exposure.organisationId, exposure.ruleId, exposure.trackingId);
    let visitor = byVisitor.get(key);
    if (!visitor) {
      visitor = { scope: [exposure.organisationId, exposure.ruleId, exposure.trackingId], added: 0 };
      byVisitor.set(key, visitor);
    }
    visitor.added++;
  }
  /** By key_hash, each hashed once. */
  const visitors = new Map<string, { scope: [string, string, string]; added: number }>();
  for (const [key, visitor] of byVisitor) visitors.set(hashOfKey(key), visitor);
  // The upsert locks the rows it writes: the counts it returns (MariaDB), or reads back, are final.
  const counts = await insertRowsReturning<{ key_hash: string; outcomes: number | string }>(
    manager,
    "rule_visitor_outcomes",
    ["key_hash", "organisation_id", "rule_id", "tracking_id", "outcomes"],
    byKey([...visitors].map(([key, visitor]) => [key, ...visitor.scope, visitor.added])),
    { conflictKey: ["key_hash"], updates: { outcomes: "add" } },
    ["key_hash", "outcomes"],
    () =>
      selectWhereIn(
        manager,
        "SELECT key_hash, outcomes FROM rule_visitor_outcomes WHERE key_hash",
        [...visitors.keys()],
        [],
        dialectOf(manager) === "mysql" ? " FOR UPDATE" : "",
      ),
  );
  const crossovers = new CrossoverCounters();
  for (const row of counts) {
    const visitor = visitors.get(row.key_hash);
    if (!visitor) continue;
    const now = Number(row.outcomes);
    if (now >= 2 && now - visitor.added < 2) crossovers.add(visitor.scope[0], visitor.scope[1]);
  }
  await crossovers.apply(manager);
}

async function persistConversions(
  manager: EntityManager,
  batchId: string,
  conversions: RuleConversionRecord[],
  counters: Counters,
  conversionDays: ConversionDayCounters,
  activity: OutcomeActivity,
): Promise<void> {
  // Attribution is decided now, once: exposed at or before the event, or not at all.
  /** The key_hash of each visitor and outcome converting, hashed once. */
  const exposureKeyOf = new Map<string, string>();
  const exposureKeys = conversions.map((c) => {
    const key = partsKey(c.organisationId, c.ruleId, c.outcomeId, c.trackingId);
    let hashed = exposureKeyOf.get(key);
    if (hashed === undefined) {
      hashed = hashOfKey(key);
      exposureKeyOf.set(key, hashed);
    }
    return hashed;
  });
  const firstExposures = new Map<string, { at: Date; day: string }>();
  // A shared lock on MySQL: an erasure of the visitor either waits for this batch (and then erases
  // these conversions too) or has committed before it (and they are unattributed).
  const found = await selectWhereIn<{ key_hash: string; exposed_at: unknown; day: string }>(
    manager,
    "SELECT key_hash, exposed_at, day FROM rule_exposures WHERE key_hash",
    [...exposureKeyOf.values()],
    [],
    dialectOf(manager) === "mysql" ? " LOCK IN SHARE MODE" : "",
  );
  for (const row of found) firstExposures.set(row.key_hash, { at: fromDbTimestamp(row.exposed_at), day: row.day });

  const eventRows: unknown[][] = [];
  const converterCandidates = new Map<
    string,
    { scope: [string, string, string, string]; cohortDay: string; at: Date }
  >();
  conversions.forEach((conversion, position) => {
    const { organisationId, ruleId, outcomeId, trackingId } = conversion;
    const exposure = firstExposures.get(exposureKeys[position]);
    const attributed = exposure !== undefined && exposure.at <= conversion.at;
    const cohortDay = attributed ? exposure.day : null;
    eventRows.push([
      conversion.id,
      organisationId,
      ruleId,
      outcomeId,
      trackingId,
      conversion.userId,
      conversion.conversion,
      toDbTimestamp(conversion.at),
      attributed ? 1 : 0,
      cohortDay,
    ]);
    activity.touch(conversion);
    for (const conversionType of [conversion.conversion, ANY_CONVERSION]) {
      if (!cohortDay) {
        counters.add(organisationId, ruleId, outcomeId, conversionType, utcDay(conversion.at), "unattributed");
        continue;
      }
      counters.add(organisationId, ruleId, outcomeId, conversionType, cohortDay, "conversions");
      conversionDays.add(
        [organisationId, ruleId, outcomeId, conversionType],
        cohortDay,
        utcDay(conversion.at),
        "conversions",
      );
      const key = partsKey(organisationId, ruleId, outcomeId, trackingId, conversionType);
      const known = converterCandidates.get(key);
      if (!known || conversion.at < known.at) {
        converterCandidates.set(key, {
          scope: [organisationId, ruleId, outcomeId, conversionType],
          cohortDay,
          at: conversion.at,
        });
      }
    }
  });
  await insertRows(
    manager,
    "rule_conversion_events",
    [
      "id",
      "organisation_id",
      "rule_id",
      "outcome_id",
      "tracking_id",
      "user_id",
      "conversion",
      "created_at",
      "attributed",
      "cohort_day",
    ],
    eventRows,
  );
  if (converterCandidates.size === 0) return;
  /** By key_hash, each hashed once. */
  const converters = new Map<string, { scope: [string, string, string, string]; cohortDay: string; at: Date }>();
  for (const [key, candidate] of converterCandidates) converters.set(hashOfKey(key), candidate);
  const insertedConverters = await insertNewFacts(
    manager,
    "rule_converters",
    [
      "key_hash",
      "organisation_id",
      "rule_id",
      "outcome_id",
      "conversion_type",
      "cohort_day",
      "converted_at",
      "batch_id",
    ],
    byKey([...converters].map(([key, c]) => [key, ...c.scope, c.cohortDay, toDbTimestamp(c.at), batchId])),
    batchId,
  );
  for (const keyHash of insertedConverters) {
    const candidate = converters.get(keyHash);
    if (!candidate) continue;
    counters.add(...candidate.scope, candidate.cohortDay, "converters");
    conversionDays.add(candidate.scope, candidate.cohortDay, utcDay(candidate.at), "converters");
  }
}
