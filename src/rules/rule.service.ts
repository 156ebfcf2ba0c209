// Split tests: recording what visitors saw and converted on, and comparing outcomes from the
// daily counters (never from raw events or visitors), always within one organisation.
import { randomUUID } from "node:crypto";
import type { DataSource } from "typeorm";
import type { Visitor } from "../auth/visitor";
import type { BatchWriter } from "../db/batch-writer";
import type { StoredEvent } from "../db/event-store";
import { decodeCursor, encodeCursor, pageLimit } from "../db/pagination";
import { fromDbTimestamp } from "../db/sql";
import { InvalidInput } from "../errors";
import {
  parseRuleConversionInput,
  parseRuleOutcomesInput,
  parseRuleStatsFilter,
  type RuleStatsFilter,
} from "./rule.input";
import { ANY_CONVERSION } from "./rule-event-store";
import {
  equalSplitChiSquarePValue,
  type Interval,
  probabilityToBeBest,
  relativeUplift,
  twoProportionPValue,
  wilsonInterval,
} from "./statistics";

export interface RecordedOutcomes {
  ruleId: string;
  outcomeIds: string[];
}

export interface OutcomeStats {
  outcomeId: string;
  exposures: number;
  converters: number;
  conversions: number;
  unattributedConversions: number;
  conversionRate: number | null;
  confidenceInterval: Interval | null;
  uplift: number | null;
  pValue: number | null;
  probabilityToBeBest: number;
}

export interface RuleStats {
  ruleId: string;
  conversion: string | null;
  from: string | null;
  to: string | null;
  confidenceLevel: number;
  baselineOutcomeId: string | null;
  totalExposures: number;
  sampleRatioMismatchPValue: number | null;
  outcomes: OutcomeStats[];
}

export interface RuleSummary {
  ruleId: string;
  outcomeIds: string[];
  exposures: number;
  lastActivityAt: Date;
}

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

export const RULES_DEFAULT_PAGE = 20;
export const RULES_MAX_PAGE = 100;

/** Binary (code unit) order, the same on every database. */
const byCodeUnits = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

export class RuleService {
  /** When an event happens: the time it is received. Replaceable so tests can place events on chosen days. */
  clock: () => Date = () => new Date();

  constructor(
    private readonly dataSource: DataSource,
    private readonly writer: BatchWriter<StoredEvent>,
  ) {}

  /** Records one conversion event per outcome named; resolves once stored. */
  async recordConversion(
    visitor: Visitor,
    raw: { ruleId?: unknown; outcomeId?: unknown; conversion?: unknown },
  ): Promise<RecordedOutcomes & { conversion: string }> {
    const input = parseRuleConversionInput(raw);
    const at = this.clock();
    await this.writer.enqueue({
      kind: "ruleConversions",
      rows: input.outcomeIds.map((outcomeId) => ({
        id: randomUUID(),
        organisationId: visitor.organisationId,
        ruleId: input.ruleId,
        outcomeId,
        trackingId: visitor.trackingId,
        userId: visitor.userId,
        conversion: input.conversion,
        at,
      })),
    });
    return { ruleId: input.ruleId, outcomeIds: input.outcomeIds, conversion: input.conversion };
  }

  /** Records that the visitor saw the outcome(s); only the first exposure counts. */
  async recordExposure(visitor: Visitor, raw: { ruleId?: unknown; outcomeId?: unknown }): Promise<RecordedOutcomes> {
    const input = parseRuleOutcomesInput(raw);
    const at = this.clock();
    await this.writer.enqueue({
      kind: "exposures",
      rows: input.outcomeIds.map((outcomeId) => ({
        organisationId: visitor.organisationId,
        ruleId: input.ruleId,
        outcomeId,
        trackingId: visitor.trackingId,
        userId: visitor.userId,
        at,
      })),
    });
    return { ruleId: input.ruleId, outcomeIds: input.outcomeIds };
  }

  /** Aggregates of one rule of the organisation; reads (outcomes × days) counter rows. */
  async stats(organisationId: string, raw: Parameters<typeof parseRuleStatsFilter>[0]): Promise<RuleStats> {
    const filter = parseRuleStatsFilter(raw);
    const outcomeIds = (
      (await this.dataSource.query("SELECT outcome_id FROM rule_outcomes WHERE organisation_id = ? AND rule_id = ?", [
        organisationId,
        filter.ruleId,
      ])) as { outcome_id: string }[]
    )
      .map((row) => row.outcome_id)
      .sort(byCodeUnits);
    const totals = await this.readCounters(organisationId, filter);
    const rows = outcomeIds.map((outcomeId) => {
      const exposures = totals.get(`${outcomeId}\u0000${ANY_CONVERSION}`)?.exposures ?? 0;
      const counts = totals.get(`${outcomeId}\u0000${filter.conversion ?? ANY_CONVERSION}`);
      return {
        outcomeId,
        exposures,
        converters: counts?.converters ?? 0,
        conversions: counts?.conversions ?? 0,
        unattributedConversions: counts?.unattributed ?? 0,
      };
    });
    return computeRuleStats(filter, rows);
  }

  private async readCounters(organisationId: string, filter: RuleStatsFilter) {
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
              SUM(conversions) AS conversions, SUM(unattributed) AS unattributed
         FROM rule_outcome_daily_stats WHERE ${conditions.join(" AND ")}
        GROUP BY outcome_id, conversion_type`,
      parameters,
    );
    const totals = new Map<
      string,
      { exposures: number; converters: number; conversions: number; unattributed: number }
    >();
    for (const row of rows) {
      totals.set(`${row.outcome_id}\u0000${row.conversion_type}`, {
        exposures: Number(row.exposures),
        converters: Number(row.converters),
        conversions: Number(row.conversions),
        unattributed: Number(row.unattributed),
      });
    }
    return totals;
  }

  /** Totals of many outcomes in one statement; null for an outcome the organisation never saw. */
  async outcomeTotals(
    organisationId: string,
    keys: readonly { ruleId: string; outcomeId: string }[],
  ): Promise<(RuleOutcomeTotals | null)[]> {
    const rows: Record<string, unknown>[] = await this.dataSource.query(
      `SELECT o.rule_id, o.outcome_id, o.last_activity_at,
              COALESCE(SUM(s.exposures), 0) AS exposures, COALESCE(SUM(s.converters), 0) AS converters,
              COALESCE(SUM(s.conversions), 0) AS conversions, COALESCE(SUM(s.unattributed), 0) AS unattributed
         FROM rule_outcomes o
         LEFT JOIN rule_outcome_daily_stats s
           ON s.organisation_id = o.organisation_id AND s.rule_id = o.rule_id AND s.outcome_id = o.outcome_id
          AND s.conversion_type = ?
        WHERE o.organisation_id = ? AND (${keys.map(() => "(o.rule_id = ? AND o.outcome_id = ?)").join(" OR ")})
        GROUP BY o.rule_id, o.outcome_id, o.last_activity_at`,
      [ANY_CONVERSION, organisationId, ...keys.flatMap((key) => [key.ruleId, key.outcomeId])],
    );
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

  /** The organisation's rules by id, with their outcomes, exposures and last activity. */
  async listRules(organisationId: string, first?: number | null, after?: string | null) {
    const limit = pageLimit(first, RULES_DEFAULT_PAGE, RULES_MAX_PAGE);
    const afterRuleId = after
      ? decodeCursor(after, ([tag, ruleId]) => (tag === "rule" && typeof ruleId === "string" ? ruleId : undefined))
      : null;
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
    return {
      rules,
      cursors: rules.map((rule) => encodeCursor(["rule", rule.ruleId])),
      hasNextPage: ruleRows.length > limit,
    };
  }
}

/** The statistics of a rule from its outcomes' counts (pure). */
export function computeRuleStats(
  filter: RuleStatsFilter,
  rows: {
    outcomeId: string;
    exposures: number;
    converters: number;
    conversions: number;
    unattributedConversions: number;
  }[],
): RuleStats {
  const baseline = filter.baselineOutcomeId ? rows.find((row) => row.outcomeId === filter.baselineOutcomeId) : rows[0];
  if (filter.baselineOutcomeId && !baseline && rows.length > 0) {
    throw new InvalidInput([
      {
        path: ["baselineOutcomeId"],
        type: "value_error",
        message: `${filter.baselineOutcomeId} is not an outcome of this rule`,
      },
    ]);
  }
  const arms = rows.map((row) => ({ successes: row.converters, trials: row.exposures }));
  const best = probabilityToBeBest(arms);
  const rate = (row: { converters: number; exposures: number }) =>
    row.exposures > 0 ? row.converters / row.exposures : null;
  const baselineRate = baseline ? rate(baseline) : null;
  return {
    ruleId: filter.ruleId,
    conversion: filter.conversion,
    from: filter.from,
    to: filter.to,
    confidenceLevel: filter.confidenceLevel,
    baselineOutcomeId: baseline?.outcomeId ?? null,
    totalExposures: rows.reduce((sum, row) => sum + row.exposures, 0),
    sampleRatioMismatchPValue: equalSplitChiSquarePValue(rows.map((row) => row.exposures)),
    outcomes: rows.map((row, index) => {
      const isBaseline = row === baseline;
      return {
        ...row,
        conversionRate: rate(row),
        confidenceInterval: wilsonInterval(row.converters, row.exposures, filter.confidenceLevel),
        uplift: isBaseline || !baseline ? null : relativeUplift(rate(row), baselineRate),
        pValue:
          isBaseline || !baseline
            ? null
            : twoProportionPValue(arms[index], { successes: baseline.converters, trials: baseline.exposures }),
        probabilityToBeBest: best[index],
      };
    }),
  };
}
