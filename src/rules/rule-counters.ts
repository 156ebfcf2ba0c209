// The read side of the split-test counters (twin of rule-event-store.ts, which writes them):
// every query reads outcome or (outcome × day) counter rows, never raw events or visitors, and is
// scoped to one organisation.
import type { DataSource } from "typeorm";
import { dialectOf, fromDbTimestamp } from "../db/sql";
import type { RuleSeriesFilter, RuleStatsFilter } from "./rule.input";
import { ANY_CONVERSION, keyHash } from "./rule-event-store";
import type { OutcomeCounts, OutcomeDailyCounts } from "./rule-stats";

/** All-time totals of one outcome (any conversion type), as the RuleOutcome entity shows them. */
export interface RuleOutcomeTotals {
  ruleId: string;
  outcomeId: string;
  exposures: number;
  converters: number;
  conversions: number;
  unattributedConversions: number;
  lastActivityAt: Date;
}

export interface RuleSummary {
  ruleId: string;
  outcomeIds: string[];
  exposures: number;
  lastActivityAt: Date;
}

interface CounterSums {
  exposures: number;
  converters: number;
  conversions: number;
  unattributed: number;
  firstExposureDay: string | null;
}

/** Outcome keys looked up by one statement at most. */
const OUTCOME_KEYS_PER_STATEMENT = 100;

/** Binary (code unit) order, the same on every database. */
export const byCodeUnits = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** One (outcome, conversion type, day) counter cell of a series' window. */
interface DailyCell {
  outcomeId: string;
  conversionType: string;
  day: string;
  exposures: number;
  recordedConverters: number;
  recordedConversions: number;
}

export class RuleCounters {
  constructor(private readonly dataSource: DataSource) {}

  /** Each outcome of the rule (by id, in code unit order) with its counts in the filter's window. */
  async outcomeCounts(organisationId: string, filter: RuleStatsFilter): Promise<OutcomeCounts[]> {
    const outcomeIds = await this.outcomeIds(organisationId, filter.ruleId);
    const sums = await this.sumCounters(organisationId, filter);
    return outcomeIds.map((outcomeId) => {
      const counts = sums.get(`${outcomeId}\u0000${filter.conversion ?? ANY_CONVERSION}`);
      return {
        outcomeId,
        // Exposures are counted once per visitor, under "any" conversion type.
        exposures: sums.get(`${outcomeId}\u0000${ANY_CONVERSION}`)?.exposures ?? 0,
        converters: counts?.converters ?? 0,
        conversions: counts?.conversions ?? 0,
        unattributedConversions: counts?.unattributed ?? 0,
        firstExposureDay: sums.get(`${outcomeId}\u0000${ANY_CONVERSION}`)?.firstExposureDay ?? null,
      };
    });
  }

  /** The rule's outcome ids, in code unit order. */
  private async outcomeIds(organisationId: string, ruleId: string): Promise<string[]> {
    const rows: { outcome_id: string }[] = await this.dataSource.query(
      "SELECT outcome_id FROM rule_outcomes WHERE organisation_id = ? AND rule_id = ?",
      [organisationId, ruleId],
    );
    return rows.map((row) => row.outcome_id).sort(byCodeUnits);
  }

  /** Distinct visitors exposed to two or more outcomes of the rule, all time: one counter row. */
  async crossoverVisitors(organisationId: string, ruleId: string): Promise<number> {
    const rows: { visitors: number | string }[] = await this.dataSource.query(
      "SELECT visitors FROM rule_crossovers WHERE counter_key = ? AND organisation_id = ? AND rule_id = ?",
      [keyHash(organisationId, ruleId), organisationId, ruleId],
    );
    return rows.length > 0 ? Number(rows[0].visitors) : 0;
  }

  /** UTC day of the rule's first exposure (any outcome); null when it has none. */
  async firstExposureDay(organisationId: string, ruleId: string): Promise<string | null> {
    const [row]: { day: string | null }[] = await this.dataSource.query(
      `SELECT MIN(day) AS day FROM rule_outcome_daily_stats
        WHERE organisation_id = ? AND rule_id = ? AND conversion_type = ? AND exposures > 0`,
      [organisationId, ruleId, ANY_CONVERSION],
    );
    return row?.day ?? null;
  }

  /**
   * Each outcome's counts per day of [from, to] for a series: exposures by cohort day, converters
   * and conversions of that cohort by the day they were recorded (through `to`). Reads the outcome ×
   * day rows of the daily counters, whose recorded_* cells count what was recorded on each day for
   * every cohort, and takes back what cohorts before `from` recorded in the window: (cohort day,
   * conversion day) cells with a cohort day before `from`, none when `from` is the rule's first
   * exposure day (the default).
   */
  async outcomeDailyCounts(
    organisationId: string,
    filter: RuleSeriesFilter,
    from: string,
    to: string,
  ): Promise<OutcomeDailyCounts[]> {
    const type = filter.conversion ?? ANY_CONVERSION;
    // Three independent statements, sent at once: on MySQL each on its own pooled connection, so the read waits
    // for one round trip instead of three (a 366-day read on MariaDB: 10.5-12.9 -> 9.3-10.9 ms); SQLite runs them
    // one after another as before.
    const [outcomeIds, daily, earlierCohorts] = await Promise.all([
      this.outcomeIds(organisationId, filter.ruleId),
      this.dailyCells(organisationId, filter.ruleId, type, from, to),
      // A conversion is never before its cohort day, so every earlier cohort's cell has a day < from.
      this.dataSource.query(
        `SELECT outcome_id, conversion_day, SUM(converters) AS converters, SUM(conversions) AS conversions
           FROM rule_outcome_conversion_days
          WHERE organisation_id = ? AND rule_id = ? AND conversion_type = ? AND cohort_day < ?
            AND conversion_day >= ? AND conversion_day <= ?
          GROUP BY outcome_id, conversion_day`,
        [organisationId, filter.ruleId, type, from, from, to],
      ) as Promise<
        { outcome_id: string; conversion_day: string; converters: number | string; conversions: number | string }[]
      >,
    ]);
    const byOutcome = new Map<string, OutcomeDailyCounts>(
      outcomeIds.map((outcomeId) => [
        outcomeId,
        { outcomeId, exposures: new Map(), converters: new Map(), conversions: new Map() },
      ]),
    );
    const add = (counts: Map<string, number>, day: string, amount: number) => {
      const total = (counts.get(day) ?? 0) + amount;
      if (total === 0) counts.delete(day);
      else counts.set(day, total);
    };
    for (const cell of daily) {
      const outcome = byOutcome.get(cell.outcomeId);
      if (!outcome) continue;
      if (cell.conversionType === ANY_CONVERSION) add(outcome.exposures, cell.day, cell.exposures);
      if (cell.conversionType === type) {
        add(outcome.converters, cell.day, cell.recordedConverters);
        add(outcome.conversions, cell.day, cell.recordedConversions);
      }
    }
    for (const row of earlierCohorts) {
      const outcome = byOutcome.get(row.outcome_id);
      if (!outcome) continue;
      add(outcome.converters, row.conversion_day, -Number(row.converters));
      add(outcome.conversions, row.conversion_day, -Number(row.conversions));
    }
    return [...byOutcome.values()];
  }

  /**
   * The (outcome, day) counter cells of a rule in [from, to], of every conversion type ('') and of `type`:
   * exposures live on the '' rows, recorded converters and conversions on the rows of the type.
   */
  private async dailyCells(
    organisationId: string,
    ruleId: string,
    type: string,
    from: string,
    to: string,
  ): Promise<DailyCell[]> {
    const where = "organisation_id = ? AND rule_id = ? AND conversion_type IN (?, ?) AND day >= ? AND day <= ?";
    const parameters = [organisationId, ruleId, ANY_CONVERSION, type, from, to];
    if (dialectOf(this.dataSource.manager) === "mysql") {
      const rows: Record<string, string | number>[] = await this.dataSource.query(
        `SELECT outcome_id, conversion_type, day, exposures, recorded_converters, recorded_conversions
           FROM rule_outcome_daily_stats WHERE ${where}`,
        parameters,
      );
      return rows.map((row) => ({
        outcomeId: String(row.outcome_id),
        conversionType: String(row.conversion_type),
        day: String(row.day),
        exposures: Number(row.exposures),
        recordedConverters: Number(row.recorded_converters),
        recordedConversions: Number(row.recorded_conversions),
      }));
    }
    // better-sqlite3 pays about 1 µs for each value it hands over (3,660 cells × 6 values: 19 ms of a 366-day
    // series): an outcome's cells come as one string, split here (0.5 ms).
    const groups: { outcome_id: string; conversion_type: string; cells: string }[] = await this.dataSource.query(
      `SELECT outcome_id, conversion_type,
              group_concat(day || ' ' || exposures || ' ' || recorded_converters || ' ' || recorded_conversions, ' ') AS cells
         FROM rule_outcome_daily_stats WHERE ${where}
        GROUP BY outcome_id, conversion_type`,
      parameters,
    );
    const cells: DailyCell[] = [];
    for (const group of groups) {
      const values = group.cells.split(" ");
      for (let index = 0; index + 3 < values.length; index += 4) {
        cells.push({
          outcomeId: group.outcome_id,
          conversionType: group.conversion_type,
          day: values[index],
          exposures: Number(values[index + 1]),
          recordedConverters: Number(values[index + 2]),
          recordedConversions: Number(values[index + 3]),
        });
      }
    }
    return cells;
  }

  private async sumCounters(organisationId: string, filter: RuleStatsFilter): Promise<Map<string, CounterSums>> {
    const conditions = ["organisation_id = ?", "rule_id = ?", "conversion_type IN (?, ?)"];
    const parameters: unknown[] = [organisationId, filter.ruleId, ANY_CONVERSION, filter.conversion ?? ANY_CONVERSION];
    if (filter.from) {
      conditions.push("day >= ?");
      parameters.push(filter.from);
    }
    if (filter.to) {
      conditions.push("day <= ?");
      parameters.push(filter.to);
    }
    const rows: Record<string, string | number>[] = await this.dataSource.query(
      `SELECT outcome_id, conversion_type, SUM(exposures) AS exposures, SUM(converters) AS converters,
              SUM(conversions) AS conversions, SUM(unattributed) AS unattributed,
              MIN(CASE WHEN exposures > 0 THEN day END) AS first_exposure_day
         FROM rule_outcome_daily_stats WHERE ${conditions.join(" AND ")}
        GROUP BY outcome_id, conversion_type`,
      parameters,
    );
    const sums = new Map<string, CounterSums>();
    for (const row of rows) {
      sums.set(`${row.outcome_id}\u0000${row.conversion_type}`, {
        exposures: Number(row.exposures),
        converters: Number(row.converters),
        conversions: Number(row.conversions),
        unattributed: Number(row.unattributed),
        firstExposureDay: (row.first_exposure_day as string | null) ?? null,
      });
    }
    return sums;
  }

  /**
   * Totals of many outcomes, one statement per chunk of keys (an OR chain of thousands of pairs is
   * too deep an expression for SQLite); null for an outcome the organisation never saw.
   */
  async outcomeTotals(
    organisationId: string,
    keys: readonly { ruleId: string; outcomeId: string }[],
  ): Promise<(RuleOutcomeTotals | null)[]> {
    const rows: Record<string, unknown>[] = [];
    for (let start = 0; start < keys.length; start += OUTCOME_KEYS_PER_STATEMENT) {
      const chunk = keys.slice(start, start + OUTCOME_KEYS_PER_STATEMENT);
      rows.push(
        ...(await this.dataSource.query(
          `SELECT o.rule_id, o.outcome_id, o.last_activity_at,
                  COALESCE(SUM(s.exposures), 0) AS exposures, COALESCE(SUM(s.converters), 0) AS converters,
                  COALESCE(SUM(s.conversions), 0) AS conversions, COALESCE(SUM(s.unattributed), 0) AS unattributed
             FROM rule_outcomes o
             LEFT JOIN rule_outcome_daily_stats s
               ON s.organisation_id = o.organisation_id AND s.rule_id = o.rule_id AND s.outcome_id = o.outcome_id
              AND s.conversion_type = ?
            WHERE o.organisation_id = ? AND (${chunk.map(() => "(o.rule_id = ? AND o.outcome_id = ?)").join(" OR ")})
            GROUP BY o.rule_id, o.outcome_id, o.last_activity_at`,
          [ANY_CONVERSION, organisationId, ...chunk.flatMap((key) => [key.ruleId, key.outcomeId])],
        )),
      );
    }
    const totals = new Map<string, RuleOutcomeTotals>();
    for (const row of rows) {
      const ruleId = row.rule_id as string;
      const outcomeId = row.outcome_id as string;
      totals.set(JSON.stringify([ruleId, outcomeId]), {
        ruleId,
        outcomeId,
        exposures: Number(row.exposures),
        converters: Number(row.converters),
        conversions: Number(row.conversions),
        unattributedConversions: Number(row.unattributed),
        lastActivityAt: fromDbTimestamp(row.last_activity_at),
      });
    }
    return keys.map((key) => totals.get(JSON.stringify([key.ruleId, key.outcomeId])) ?? null);
  }

  /** Up to `limit` of the organisation's rules after `afterRuleId`, by id, with their outcomes, exposures and last activity. */
  async ruleSummaries(
    organisationId: string,
    limit: number,
    afterRuleId: string | null,
  ): Promise<{ rules: RuleSummary[]; hasNextPage: boolean }> {
    const ruleRows: { rule_id: string }[] = await this.dataSource.query(
      `SELECT DISTINCT rule_id FROM rule_outcomes WHERE organisation_id = ?${afterRuleId !== null ? " AND rule_id > ?" : ""} ORDER BY rule_id LIMIT ?`,
      afterRuleId !== null ? [organisationId, afterRuleId, limit + 1] : [organisationId, limit + 1],
    );
    const ruleIds = ruleRows.map((row) => row.rule_id).slice(0, limit);
    const summaries = new Map<string, RuleSummary>(
      ruleIds.map((ruleId) => [ruleId, { ruleId, outcomeIds: [], exposures: 0, lastActivityAt: new Date(0) }]),
    );
    if (ruleIds.length > 0) {
      const outcomes: { rule_id: string; outcome_id: string; exposures: number | string; last_activity_at: unknown }[] =
        await this.dataSource.query(
          `SELECT rule_id, outcome_id, exposures, last_activity_at FROM rule_outcomes WHERE organisation_id = ? AND rule_id IN (${ruleIds.map(() => "?").join(", ")})`,
          [organisationId, ...ruleIds],
        );
      for (const row of outcomes) {
        const summary = summaries.get(row.rule_id);
        if (!summary) continue;
        summary.outcomeIds.push(row.outcome_id);
        summary.exposures += Number(row.exposures);
        const last = fromDbTimestamp(row.last_activity_at);
        if (last > summary.lastActivityAt) summary.lastActivityAt = last;
      }
    }
    const rules = [...summaries.values()].map((summary) => ({
      ...summary,
      outcomeIds: summary.outcomeIds.sort(byCodeUnits),
    }));
    return { rules, hasNextPage: ruleRows.length > limit };
  }
}
