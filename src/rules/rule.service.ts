// Split tests: recording what visitors saw and converted on, and comparing outcomes from the
// counters. Orchestration only: validation in rule.input.ts, writes in rule-event-store.ts,
// reads in rule-counters.ts, figures in rule-stats.ts (assembled where rule-figures.ts decides).
import type { DataSource } from "typeorm";
import { TRACKING_ID_PATTERN, type Visitor } from "../auth/visitor";
import type { EventSink } from "../db/batch-writer";
import { decodeCursor, encodeCursor, pageLimit } from "../db/pagination";
import { inRetriedTransaction } from "../db/persist-in-transaction";
import { timeOrderedUuid } from "../db/time-ordered-id";
import { InvalidInput } from "../errors";
import {
  fingerprintOf,
  type IdempotencyRequest,
  type IdempotencyService,
  parseIdempotencyKey,
  type Replayed,
} from "../idempotency/idempotency.service";
import { outcomeStatsFileName } from "./outcome-stats.csv";
import {
  parseRuleConversionInput,
  parseRuleOutcomesInput,
  parseRuleSeriesFilter,
  parseRuleStatsFilter,
  type RawRuleStatsFilter,
  SERIES_MAX_DAYS,
} from "./rule.input";
import type { RuleCounters, RuleOutcomeTotals, RuleSummary } from "./rule-counters";
import { eraseVisitorEvents, type VisitorErasure } from "./rule-erasure";
import { type RuleEvent, utcDay } from "./rule-event-store";
import type { RuleFigures, SeriesFigures, SeriesTask } from "./rule-figures";
import { daysBetweenInclusive, type RuleSeries, type RuleStats } from "./rule-stats";

export interface RecordedOutcomes {
  ruleId: string;
  outcomeIds: string[];
  /** True when an earlier request with the same Idempotency-Key stored the event: nothing was stored now. */
  replayed: boolean;
}

export interface RecordedConversion extends RecordedOutcomes {
  conversion: string;
}

export interface RulePage {
  rules: RuleSummary[];
  cursors: string[];
  hasNextPage: boolean;
}

export const RULES_DEFAULT_PAGE = 20;
export const RULES_MAX_PAGE = 100;

export class RuleService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly counters: RuleCounters,
    private readonly events: EventSink<RuleEvent, Replayed | undefined>,
    private readonly idempotency: IdempotencyService,
    /** Assembles the figures from the counts: inline, or on a worker thread when costly. */
    private readonly figures: RuleFigures,
    /** When an event happens: the time it is received (tests place events on chosen days). */
    private readonly clock: () => Date = () => new Date(),
  ) {}

  /** Records one conversion event per outcome named; resolves once stored. */
  async recordConversion(
    visitor: Visitor,
    raw: { ruleId?: unknown; outcomeId?: unknown; conversion?: unknown; idempotencyKey?: unknown },
    /** Epoch ms past which the request stops waiting for the database (unset: a full budget from now). */
    deadline?: number,
  ): Promise<RecordedConversion> {
    const key = parseIdempotencyKey(raw.idempotencyKey, ["idempotencyKey"]);
    const input = parseRuleConversionInput(raw);
    const recorded = { ruleId: input.ruleId, outcomeIds: input.outcomeIds, conversion: input.conversion };
    const at = this.clock();
    return this.record(visitor, key, deadline, recorded, {
      kind: "ruleConversions",
      rows: input.outcomeIds.map((outcomeId) => ({
        id: timeOrderedUuid(),
        organisationId: visitor.organisationId,
        ruleId: input.ruleId,
        outcomeId,
        trackingId: visitor.trackingId,
        userId: visitor.userId,
        conversion: input.conversion,
        at,
      })),
    });
  }

  /** Records that the visitor saw the outcome(s); only the first exposure counts. */
  async recordExposure(
    visitor: Visitor,
    raw: { ruleId?: unknown; outcomeId?: unknown; idempotencyKey?: unknown },
    deadline?: number,
  ): Promise<RecordedOutcomes> {
    const key = parseIdempotencyKey(raw.idempotencyKey, ["idempotencyKey"]);
    const input = parseRuleOutcomesInput(raw);
    const at = this.clock();
    return this.record(
      visitor,
      key,
      deadline,
      { ruleId: input.ruleId, outcomeIds: input.outcomeIds },
      {
        kind: "exposures",
        rows: input.outcomeIds.map((outcomeId) => ({
          organisationId: visitor.organisationId,
          ruleId: input.ruleId,
          outcomeId,
          trackingId: visitor.trackingId,
          userId: visitor.userId,
          at,
        })),
      },
    );
  }

  /**
   * Hands one request's event to the writer. With an Idempotency-Key (one key space per
   * organisation and visitor, exposures and conversions alike) a repeat of the same request is
   * answered as the first was and stores nothing.
   */
  private async record<T extends RecordedOutcomes>(
    visitor: Visitor,
    key: string | null,
    deadline: number | undefined,
    recorded: Omit<T, "replayed">,
    event: RuleEvent,
  ): Promise<T> {
    if (key === null) {
      await this.events.enqueue(event, deadline);
      return { ...recorded, replayed: false } as T;
    }
    const request: IdempotencyRequest = {
      organisationId: visitor.organisationId,
      scope: visitor.trackingId,
      key,
      fingerprint: fingerprintOf([event.kind, recorded]),
    };
    const replay = async (response: string) =>
      ({ ...(JSON.parse(response) as Omit<T, "replayed">), replayed: true }) as T;
    return this.idempotency.run(
      request,
      async () => {
        const written = await this.events.enqueue(
          { ...event, idempotency: { ...request, response: JSON.stringify(recorded) } },
          deadline,
        );
        return written ? replay(written.replayedResponse) : ({ ...recorded, replayed: false } as T);
      },
      replay,
      deadline,
    );
  }

  /** Aggregates of one rule of the organisation; reads (outcomes × days) counter rows. */
  async stats(organisationId: string, raw: RawRuleStatsFilter): Promise<RuleStats> {
    const filter = parseRuleStatsFilter(raw);
    const [counts, crossoverVisitors] = await Promise.all([
      this.counters.outcomeCounts(organisationId, filter),
      this.counters.crossoverVisitors(organisationId, filter.ruleId),
    ]);
    return this.figures.stats({ filter, rows: counts, context: { crossoverVisitors, today: utcDay(this.clock()) } });
  }

  /**
   * The figures of each day from `from` (default: the rule's first exposure day) to `to` (default:
   * today) as they stood at the end of that day; at most SERIES_MAX_DAYS days. Reads outcome × day
   * counter rows.
   */
  async series(
    organisationId: string,
    raw: RawRuleStatsFilter,
    wanted: SeriesFigures = { probabilityToBeBest: true },
  ): Promise<RuleSeries> {
    return this.figures.series(await this.seriesCounts(organisationId, raw), wanted);
  }

  /** The series as CSV, and the file name of the download. */
  async seriesCsv(organisationId: string, raw: RawRuleStatsFilter): Promise<{ csv: string; fileName: string }> {
    const task = await this.seriesCounts(organisationId, raw);
    const csv = await this.figures.seriesCsv(task);
    const { ruleId, conversion } = task.filter;
    return {
      csv,
      fileName: outcomeStatsFileName({ ruleId, conversion, from: task.from, to: task.to }, "outcome-series"),
    };
  }

  /** What a series is computed from: the filter, its days, and the counts of each outcome on each day. */
  private async seriesCounts(organisationId: string, raw: RawRuleStatsFilter): Promise<SeriesTask> {
    const filter = parseRuleSeriesFilter(raw);
    const to = filter.to ?? utcDay(this.clock());
    let from = filter.from;
    if (from !== null && from > to) {
      throw new InvalidInput([{ path: ["from"], type: "value_error", message: `from is after to (${to})` }]);
    }
    if (from === null) {
      // No exposure, or none by `to`: a series without days.
      const first = await this.counters.firstExposureDay(organisationId, filter.ruleId);
      from = first !== null && first <= to ? first : null;
    }
    if (from !== null && daysBetweenInclusive(from, to) > SERIES_MAX_DAYS) {
      throw new InvalidInput([
        {
          path: [filter.from ? "to" : "from"],
          type: "value_error",
          message: `a series covers at most ${SERIES_MAX_DAYS} days; ${from} to ${to} is ${daysBetweenInclusive(from, to)}`,
        },
      ]);
    }
    // Without days the outcomes are still read: an unknown baseline is refused as by the stats.
    const counts = await this.counters.outcomeDailyCounts(organisationId, filter, from ?? to, to);
    return { filter, from, to, counts };
  }

  /** Totals of many outcomes in one statement; null for an outcome the organisation never saw. */
  outcomeTotals(
    organisationId: string,
    keys: readonly { ruleId: string; outcomeId: string }[],
  ): Promise<(RuleOutcomeTotals | null)[]> {
    return this.counters.outcomeTotals(organisationId, keys);
  }

  /** The organisation's rules by id, with their outcomes, exposures and last activity. */
  async listRules(organisationId: string, first?: number | null, after?: string | null): Promise<RulePage> {
    const limit = pageLimit(first, RULES_DEFAULT_PAGE, RULES_MAX_PAGE);
    const afterRuleId = after
      ? decodeCursor(after, ([tag, ruleId]) => (tag === "rule" && typeof ruleId === "string" ? ruleId : undefined))
      : null;
    const { rules, hasNextPage } = await this.counters.ruleSummaries(organisationId, limit, afterRuleId);
    return { rules, cursors: rules.map((rule) => encodeCursor(["rule", rule.ruleId])), hasNextPage };
  }

  /**
   * Erases everything recorded of one visitor of the organisation, taking back from the counters
   * exactly what it contributed; idempotent (a second run erases nothing).
   */
  async eraseVisitor(organisationId: string, trackingId: string): Promise<VisitorErasure> {
    if (!TRACKING_ID_PATTERN.test(trackingId)) {
      throw new InvalidInput([
        { path: ["trackingId"], type: "value_error", message: "a tracking id is 1 to 128 letters, digits, '-' or '_'" },
      ]);
    }
    return inRetriedTransaction(this.dataSource, async (manager) => {
      const erased = await eraseVisitorEvents(manager, organisationId, trackingId);
      // Its idempotency keys too: a replay would answer as if its events were still recorded.
      await this.idempotency.forgetScope(manager, organisationId, trackingId);
      return erased;
    });
  }
}
