// Erasing one visitor of an organisation (the right to be forgotten) with exact counters: the
// visitor's fact rows say exactly which counter cells they incremented, so inside one transaction
// they are read (locked on MySQL), those cells are decremented by the same amounts, and the rows
// are deleted. Afterwards every figure equals what it would be had the visitor never been recorded:
// the daily counters, the (cohort day, conversion day) counters of the series, and the crossovers.
import type { EntityManager } from "typeorm";
import { deleteWhereIn, dialectOf, fromDbTimestamp, selectWhereIn } from "../db/sql";
import {
  ANY_CONVERSION,
  ConversionDayCounters,
  Counters,
  CrossoverCounters,
  keyHash,
  utcDay,
} from "./rule-event-store";

export interface VisitorErasure {
  /** First-exposure rows deleted (one per outcome the visitor saw). */
  exposures: number;
  /** Conversion events deleted. */
  conversions: number;
}

interface OutcomeKey {
  ruleId: string;
  outcomeId: string;
}

export async function eraseVisitorEvents(
  manager: EntityManager,
  organisationId: string,
  trackingId: string,
): Promise<VisitorErasure> {
  const lock = dialectOf(manager) === "mysql" ? " FOR UPDATE" : "";
  const exposures: { key_hash: string; rule_id: string; outcome_id: string; day: string }[] = await manager.query(
    `SELECT key_hash, rule_id, outcome_id, day FROM rule_exposures WHERE organisation_id = ? AND tracking_id = ?${lock}`,
    [organisationId, trackingId],
  );
  const events: {
    id: string;
    rule_id: string;
    outcome_id: string;
    conversion: string;
    created_at: unknown;
    attributed: number | boolean;
    cohort_day: string | null;
  }[] = await manager.query(
    `SELECT id, rule_id, outcome_id, conversion, created_at, attributed, cohort_day
       FROM rule_conversion_events WHERE organisation_id = ? AND tracking_id = ?${lock}`,
    [organisationId, trackingId],
  );
  if (exposures.length === 0 && events.length === 0) return { exposures: 0, conversions: 0 };

  const counters = new Counters();
  const conversionDays = new ConversionDayCounters(counters);
  const crossovers = new CrossoverCounters();
  const touched = new Map<string, OutcomeKey & { exposures: number }>();
  const touch = (ruleId: string, outcomeId: string) => {
    const key = JSON.stringify([ruleId, outcomeId]);
    const outcome = touched.get(key) ?? { ruleId, outcomeId, exposures: 0 };
    touched.set(key, outcome);
    return outcome;
  };
  for (const exposure of exposures) {
    counters.add(organisationId, exposure.rule_id, exposure.outcome_id, ANY_CONVERSION, exposure.day, "exposures", -1);
    touch(exposure.rule_id, exposure.outcome_id).exposures++;
  }
  // Converter facts exist only for attributed conversions: their keys follow from the events.
  const converterKeys = new Set<string>();
  for (const event of events) {
    touch(event.rule_id, event.outcome_id);
    for (const type of [event.conversion, ANY_CONVERSION]) {
      if (event.attributed && event.cohort_day) {
        counters.add(organisationId, event.rule_id, event.outcome_id, type, event.cohort_day, "conversions", -1);
        conversionDays.add(
          [organisationId, event.rule_id, event.outcome_id, type],
          event.cohort_day,
          utcDay(fromDbTimestamp(event.created_at)),
          "conversions",
          -1,
        );
        converterKeys.add(keyHash(organisationId, event.rule_id, event.outcome_id, trackingId, type));
      } else {
        const day = utcDay(fromDbTimestamp(event.created_at));
        counters.add(organisationId, event.rule_id, event.outcome_id, type, day, "unattributed", -1);
      }
    }
  }
  const converters = await selectWhereIn<{
    key_hash: string;
    rule_id: string;
    outcome_id: string;
    conversion_type: string;
    cohort_day: string;
    converted_at: unknown;
  }>(
    manager,
    "SELECT key_hash, rule_id, outcome_id, conversion_type, cohort_day, converted_at FROM rule_converters WHERE key_hash",
    [...converterKeys],
    [],
    lock,
  );
  for (const converter of converters) {
    counters.add(
      organisationId,
      converter.rule_id,
      converter.outcome_id,
      converter.conversion_type,
      converter.cohort_day,
      "converters",
      -1,
    );
    conversionDays.add(
      [organisationId, converter.rule_id, converter.outcome_id, converter.conversion_type],
      converter.cohort_day,
      utcDay(fromDbTimestamp(converter.converted_at)),
      "converters",
      -1,
    );
  }
  // The visitor's outcome count per rule: a crossover (two or more) is taken back from its rule.
  const visitorRules = [...new Set(exposures.map((row) => row.rule_id))];
  const visitorOutcomes = await selectWhereIn<{ key_hash: string; rule_id: string; outcomes: number | string }>(
    manager,
    "SELECT key_hash, rule_id, outcomes FROM rule_visitor_outcomes WHERE key_hash",
    visitorRules.map((ruleId) => keyHash(organisationId, ruleId, trackingId)),
    [],
    lock,
  );
  for (const row of visitorOutcomes) {
    if (Number(row.outcomes) >= 2) crossovers.add(organisationId, row.rule_id, -1);
  }

  const erased: [table: string, column: string, keys: string[]][] = [
    ["rule_exposures", "key_hash", exposures.map((row) => row.key_hash)],
    ["rule_conversion_events", "id", events.map((row) => row.id)],
    ["rule_converters", "key_hash", converters.map((row) => row.key_hash)],
    ["rule_visitor_outcomes", "key_hash", visitorOutcomes.map((row) => row.key_hash)],
  ];
  for (const [table, column, keys] of erased) await deleteWhereIn(manager, table, column, keys);
  // Cells that only this visitor filled are gone, as they would be had the visitor never come.
  for (const cells of [counters, conversionDays, crossovers]) {
    await cells.apply(manager);
    await cells.deleteEmpty(manager);
  }
  for (const [, outcome] of [...touched].sort(([a], [b]) => (a < b ? -1 : 1))) {
    await manager.query(
      "UPDATE rule_outcomes SET exposures = exposures - ? WHERE organisation_id = ? AND rule_id = ? AND outcome_id = ?",
      [outcome.exposures, organisationId, outcome.ruleId, outcome.outcomeId],
    );
    // An outcome nobody else was recorded on disappears: every event adds to some counter cell.
    const [remaining] = await manager.query(
      "SELECT COUNT(*) AS n FROM rule_outcome_daily_stats WHERE organisation_id = ? AND rule_id = ? AND outcome_id = ?",
      [organisationId, outcome.ruleId, outcome.outcomeId],
    );
    if (Number(remaining.n) === 0) {
      await manager.query("DELETE FROM rule_outcomes WHERE organisation_id = ? AND rule_id = ? AND outcome_id = ?", [
        organisationId,
        outcome.ruleId,
        outcome.outcomeId,
      ]);
    }
  }
  return { exposures: exposures.length, conversions: events.length };
}
