// Writes a batch of split-test events inside the writer's transaction and keeps the counters
// exact: facts that count once (first exposure, first attributed conversion per type) are
// inserted tagged with the batch id, duplicates ignored by the unique key, and the counters are
// bumped only for the rows this batch really inserted. The database decides every duplicate,
// so several service instances on one MySQL stay exact.
import { createHash, randomUUID } from "node:crypto";
import type { EntityManager } from "typeorm";
import { dialectOf, fromDbTimestamp, insertRows, selectWhereIn, toDbTimestamp } from "../db/sql";
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

/** The hashed unique key of a fact or counter row. */
export function keyHash(...parts: string[]): string {
  return createHash("sha256").update(JSON.stringify(parts)).digest("hex");
}

export const utcDay = (date: Date) => date.toISOString().slice(0, 10);

type CounterName = "exposures" | "converters" | "conversions" | "unattributed";

/** Amounts to add to counter cells (negative ones take back what erased rows contributed). */
export class Counters {
  readonly rows = new Map<
    string,
    { scope: [string, string, string, string, string]; values: Record<CounterName, number> }
  >();

  add(
    organisationId: string,
    ruleId: string,
    outcomeId: string,
    conversionType: string,
    day: string,
    name: CounterName,
    amount = 1,
  ) {
    const key = keyHash(organisationId, ruleId, outcomeId, conversionType, day);
    let row = this.rows.get(key);
    if (!row) {
      row = {
        scope: [organisationId, ruleId, outcomeId, conversionType, day],
        values: { exposures: 0, converters: 0, conversions: 0, unattributed: 0 },
      };
      this.rows.set(key, row);
    }
    row.values[name] += amount;
  }

  /** Adds every amount to its cell, creating the cells that do not exist yet. */
  async apply(manager: EntityManager): Promise<void> {
    await insertRows(
      manager,
      "rule_outcome_daily_stats",
      [
        "counter_key",
        "organisation_id",
        "rule_id",
        "outcome_id",
        "conversion_type",
        "day",
        "exposures",
        "converters",
        "conversions",
        "unattributed",
      ],
      byKey(
        [...this.rows].map(([key, row]) => [
          key,
          ...row.scope,
          row.values.exposures,
          row.values.converters,
          row.values.conversions,
          row.values.unattributed,
        ]),
      ),
      {
        conflictKey: ["counter_key"],
        updates: { exposures: "add", converters: "add", conversions: "add", unattributed: "add" },
      },
    );
  }
}

class OutcomeActivity {
  readonly rows = new Map<string, { scope: [string, string, string]; exposures: number; first: Date; last: Date }>();

  touch(event: ExposureRecord, newExposure = false) {
    const key = JSON.stringify([event.organisationId, event.ruleId, event.outcomeId]);
    const row = this.rows.get(key) ?? {
      scope: [event.organisationId, event.ruleId, event.outcomeId] as [string, string, string],
      exposures: 0,
      first: event.at,
      last: event.at,
    };
    if (newExposure) row.exposures++;
    if (event.at < row.first) row.first = event.at;
    if (event.at > row.last) row.last = event.at;
    this.rows.set(key, row);
  }
}

export const byKey = <T extends unknown[]>(rows: T[]) => rows.sort((a, b) => (String(a[0]) < String(b[0]) ? -1 : 1));

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
  const ruleKeyOf = (row: ExposureRecord) => JSON.stringify([row.organisationId, row.ruleId]);
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
  return events.map((event) => {
    const fresh = new Map<string, Set<string>>();
    for (const row of event.rows) {
      const rule = state.get(ruleKeyOf(row));
      if (!rule || rule.known.has(row.outcomeId)) continue;
      const ids = fresh.get(ruleKeyOf(row)) ?? new Set();
      ids.add(row.outcomeId);
      fresh.set(ruleKeyOf(row), ids);
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
  const batchId = randomUUID();
  const counters = new Counters();
  const activity = new OutcomeActivity();

  // First exposures: the earliest of the batch per visitor and outcome; the key drops repeats.
  const exposureCandidates = new Map<string, ExposureRecord>();
  for (const exposure of exposures) {
    const key = keyHash(exposure.organisationId, exposure.ruleId, exposure.outcomeId, exposure.trackingId);
    const known = exposureCandidates.get(key);
    if (!known || exposure.at < known.at) exposureCandidates.set(key, exposure);
  }
  await insertRows(
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
    { conflictKey: ["key_hash"] },
  );
  if (exposureCandidates.size > 0) {
    const inserted: { key_hash: string }[] = await manager.query(
      "SELECT key_hash FROM rule_exposures WHERE batch_id = ?",
      [batchId],
    );
    for (const { key_hash } of inserted) {
      const exposure = exposureCandidates.get(key_hash);
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
    }
  }
  for (const exposure of exposures) activity.touch(exposure);

  if (conversions.length > 0) await persistConversions(manager, batchId, conversions, counters, activity);

  await counters.apply(manager);
  await insertRows(
    manager,
    "rule_outcomes",
    ["organisation_id", "rule_id", "outcome_id", "exposures", "first_seen_at", "last_activity_at"],
    [...activity.rows.values()]
      .sort((a, b) => (JSON.stringify(a.scope) < JSON.stringify(b.scope) ? -1 : 1))
      .map((row) => [...row.scope, row.exposures, toDbTimestamp(row.first), toDbTimestamp(row.last)]),
    {
      conflictKey: ["organisation_id", "rule_id", "outcome_id"],
      updates: { exposures: "add", last_activity_at: "max" },
    },
  );
}

async function persistConversions(
  manager: EntityManager,
  batchId: string,
  conversions: RuleConversionRecord[],
  counters: Counters,
  activity: OutcomeActivity,
): Promise<void> {
  // Attribution is decided now, once: exposed at or before the event, or not at all.
  const exposureKeys = [
    ...new Set(conversions.map((c) => keyHash(c.organisationId, c.ruleId, c.outcomeId, c.trackingId))),
  ];
  const firstExposures = new Map<string, { at: Date; day: string }>();
  // A shared lock on MySQL: an erasure of the visitor either waits for this batch (and then erases
  // these conversions too) or has committed before it (and they are unattributed).
  const found = await selectWhereIn<{ key_hash: string; exposed_at: unknown; day: string }>(
    manager,
    "SELECT key_hash, exposed_at, day FROM rule_exposures WHERE key_hash",
    exposureKeys,
    [],
    dialectOf(manager) === "mysql" ? " LOCK IN SHARE MODE" : "",
  );
  for (const row of found) firstExposures.set(row.key_hash, { at: fromDbTimestamp(row.exposed_at), day: row.day });

  const eventRows: unknown[][] = [];
  const converterCandidates = new Map<
    string,
    { scope: [string, string, string, string]; cohortDay: string; at: Date }
  >();
  for (const conversion of conversions) {
    const { organisationId, ruleId, outcomeId, trackingId } = conversion;
    const exposure = firstExposures.get(keyHash(organisationId, ruleId, outcomeId, trackingId));
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
      const key = keyHash(organisationId, ruleId, outcomeId, trackingId, conversionType);
      const known = converterCandidates.get(key);
      if (!known || conversion.at < known.at) {
        converterCandidates.set(key, {
          scope: [organisationId, ruleId, outcomeId, conversionType],
          cohortDay,
          at: conversion.at,
        });
      }
    }
  }
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
  await insertRows(
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
    byKey([...converterCandidates].map(([key, c]) => [key, ...c.scope, c.cohortDay, toDbTimestamp(c.at), batchId])),
    { conflictKey: ["key_hash"] },
  );
  const inserted: { key_hash: string }[] = await manager.query(
    "SELECT key_hash FROM rule_converters WHERE batch_id = ?",
    [batchId],
  );
  for (const { key_hash } of inserted) {
    const candidate = converterCandidates.get(key_hash);
    if (candidate) counters.add(...candidate.scope, candidate.cohortDay, "converters");
  }
}
