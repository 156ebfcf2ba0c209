// The split-test tables. Raw events are kept, but statistics never read them: one row per fact
// that must be counted once (first exposure, first attributed conversion) with a unique key,
// and daily counters bumped only for rows that were really new, so a stats query reads
// (outcomes × days) rows however many events there are. Keys over long strings are SHA-256
// hashes of the tuple: exact, case-sensitive, and within MySQL's index size limit.
import { Column, Entity, Index, PrimaryColumn } from "typeorm";
import { EXACT_COLLATION } from "../db/collation";

/** An outcome of a rule as seen by the organisation, with its running exposure total. */
@Entity({ name: "rule_outcomes" })
export class RuleOutcome {
  @PrimaryColumn({ name: "organisation_id", type: "varchar", length: 36 })
  organisationId: string;

  @PrimaryColumn({ name: "rule_id", type: "varchar", length: 255, collation: EXACT_COLLATION })
  ruleId: string;

  @PrimaryColumn({ name: "outcome_id", type: "varchar", length: 255, collation: EXACT_COLLATION })
  outcomeId: string;

  @Column({ type: "int", default: 0 })
  exposures: number;

  @Column({ name: "first_seen_at", type: "datetime", precision: 3 })
  firstSeenAt: Date;

  @Column({ name: "last_activity_at", type: "datetime", precision: 3 })
  lastActivityAt: Date;
}

/** A visitor's first exposure to an outcome; later exposures hit the key and are ignored. */
@Entity({ name: "rule_exposures" })
@Index("idx_rule_exposures_batch", ["batchId"])
// Finds a visitor's rows for erasure.
@Index("idx_rule_exposures_visitor", ["organisationId", "trackingId"])
export class RuleExposure {
  /** sha256(organisation, rule, outcome, tracking id). */
  @PrimaryColumn({ name: "key_hash", type: "varchar", length: 64 })
  keyHash: string;

  @Column({ name: "organisation_id", type: "varchar", length: 36 })
  organisationId: string;

  @Column({ name: "rule_id", type: "varchar", length: 255, collation: EXACT_COLLATION })
  ruleId: string;

  @Column({ name: "outcome_id", type: "varchar", length: 255, collation: EXACT_COLLATION })
  outcomeId: string;

  @Column({ name: "tracking_id", type: "varchar", length: 128, collation: EXACT_COLLATION })
  trackingId: string;

  @Column({ name: "user_id", type: "varchar", length: 255, nullable: true, collation: EXACT_COLLATION })
  userId: string | null;

  @Column({ name: "exposed_at", type: "datetime", precision: 3 })
  exposedAt: Date;

  /** UTC day of the first exposure: the visitor's cohort. */
  @Column({ type: "varchar", length: 10 })
  day: string;

  /** The write batch that inserted the row: tells which rows of a batch were new. */
  @Column({ name: "batch_id", type: "varchar", length: 36 })
  batchId: string;
}

/** A visitor's first attributed conversion on an outcome, per conversion type and for "any" (''). */
@Entity({ name: "rule_converters" })
@Index("idx_rule_converters_batch", ["batchId"])
export class RuleConverter {
  /** sha256(organisation, rule, outcome, tracking id, conversion type or ''). */
  @PrimaryColumn({ name: "key_hash", type: "varchar", length: 64 })
  keyHash: string;

  @Column({ name: "organisation_id", type: "varchar", length: 36 })
  organisationId: string;

  @Column({ name: "rule_id", type: "varchar", length: 255, collation: EXACT_COLLATION })
  ruleId: string;

  @Column({ name: "outcome_id", type: "varchar", length: 255, collation: EXACT_COLLATION })
  outcomeId: string;

  @Column({ name: "conversion_type", type: "varchar", length: 255, collation: EXACT_COLLATION })
  conversionType: string;

  @Column({ name: "cohort_day", type: "varchar", length: 10 })
  cohortDay: string;

  @Column({ name: "converted_at", type: "datetime", precision: 3 })
  convertedAt: Date;

  @Column({ name: "batch_id", type: "varchar", length: 36 })
  batchId: string;
}

/** Every recorded conversion event, one per outcome named, with its attribution decided at write. */
@Entity({ name: "rule_conversion_events" })
@Index("idx_rule_conversion_events_rule_created", ["organisationId", "ruleId", "createdAt"])
// Finds a visitor's rows for erasure.
@Index("idx_rule_conversion_events_visitor", ["organisationId", "trackingId"])
export class RuleConversionEvent {
  @PrimaryColumn({ type: "varchar", length: 36 })
  id: string;

  @Column({ name: "organisation_id", type: "varchar", length: 36 })
  organisationId: string;

  @Column({ name: "rule_id", type: "varchar", length: 255, collation: EXACT_COLLATION })
  ruleId: string;

  @Column({ name: "outcome_id", type: "varchar", length: 255, collation: EXACT_COLLATION })
  outcomeId: string;

  @Column({ name: "tracking_id", type: "varchar", length: 128, collation: EXACT_COLLATION })
  trackingId: string;

  @Column({ name: "user_id", type: "varchar", length: 255, nullable: true, collation: EXACT_COLLATION })
  userId: string | null;

  @Column({ type: "varchar", length: 255, collation: EXACT_COLLATION })
  conversion: string;

  @Column({ name: "created_at", type: "datetime", precision: 3 })
  createdAt: Date;

  @Column({ type: "boolean" })
  attributed: boolean;

  @Column({ name: "cohort_day", type: "varchar", length: 10, nullable: true })
  cohortDay: string | null;
}

/**
 * Counters per (organisation, rule, outcome, conversion type or '' for any, UTC day). The day is
 * the cohort's (first exposure) for exposures, converters and conversions, and the event's own
 * day for unattributed conversions. Exposures live on the '' rows only. recorded_converters and
 * recorded_conversions count by the day they were recorded instead, whatever the cohort (a converter
 * on the day of its first attributed conversion): the running sums of the series read outcome × day
 * rows, not one row per (cohort day, conversion day).
 */
@Entity({ name: "rule_outcome_daily_stats" })
@Index("idx_rule_outcome_daily_stats_rule", ["organisationId", "ruleId", "conversionType", "day"])
export class RuleOutcomeDailyStats {
  /** sha256(organisation, rule, outcome, conversion type, day). */
  @PrimaryColumn({ name: "counter_key", type: "varchar", length: 64 })
  counterKey: string;

  @Column({ name: "organisation_id", type: "varchar", length: 36 })
  organisationId: string;

  @Column({ name: "rule_id", type: "varchar", length: 255, collation: EXACT_COLLATION })
  ruleId: string;

  @Column({ name: "outcome_id", type: "varchar", length: 255, collation: EXACT_COLLATION })
  outcomeId: string;

  @Column({ name: "conversion_type", type: "varchar", length: 255, collation: EXACT_COLLATION })
  conversionType: string;

  @Column({ type: "varchar", length: 10 })
  day: string;

  @Column({ type: "int", default: 0 })
  exposures: number;

  @Column({ type: "int", default: 0 })
  converters: number;

  @Column({ type: "int", default: 0 })
  conversions: number;

  @Column({ type: "int", default: 0 })
  unattributed: number;

  @Column({ name: "recorded_converters", type: "int", default: 0 })
  recordedConverters: number;

  @Column({ name: "recorded_conversions", type: "int", default: 0 })
  recordedConversions: number;
}

/**
 * Attributed converters and conversions per (organisation, rule, outcome, conversion type or '',
 * cohort day, conversion day): a converter on the day of its first attributed conversion, a
 * conversion on its own day. The series reads them as they stood at the end of each day.
 */
@Entity({ name: "rule_outcome_conversion_days" })
@Index("idx_rule_outcome_conversion_days_rule", ["organisationId", "ruleId", "conversionType", "cohortDay"])
export class RuleOutcomeConversionDay {
  /** sha256(organisation, rule, outcome, conversion type, cohort day, conversion day). */
  @PrimaryColumn({ name: "counter_key", type: "varchar", length: 64 })
  counterKey: string;

  @Column({ name: "organisation_id", type: "varchar", length: 36 })
  organisationId: string;

  @Column({ name: "rule_id", type: "varchar", length: 255, collation: EXACT_COLLATION })
  ruleId: string;

  @Column({ name: "outcome_id", type: "varchar", length: 255, collation: EXACT_COLLATION })
  outcomeId: string;

  @Column({ name: "conversion_type", type: "varchar", length: 255, collation: EXACT_COLLATION })
  conversionType: string;

  @Column({ name: "cohort_day", type: "varchar", length: 10 })
  cohortDay: string;

  @Column({ name: "conversion_day", type: "varchar", length: 10 })
  conversionDay: string;

  @Column({ type: "int", default: 0 })
  converters: number;

  @Column({ type: "int", default: 0 })
  conversions: number;
}

/** How many outcomes of a rule a visitor was first exposed to: the fact behind the crossovers. */
@Entity({ name: "rule_visitor_outcomes" })
export class RuleVisitorOutcomes {
  /** sha256(organisation, rule, tracking id). */
  @PrimaryColumn({ name: "key_hash", type: "varchar", length: 64 })
  keyHash: string;

  @Column({ name: "organisation_id", type: "varchar", length: 36 })
  organisationId: string;

  @Column({ name: "rule_id", type: "varchar", length: 255, collation: EXACT_COLLATION })
  ruleId: string;

  @Column({ name: "tracking_id", type: "varchar", length: 128, collation: EXACT_COLLATION })
  trackingId: string;

  @Column({ type: "int", default: 0 })
  outcomes: number;
}

/** Per rule, the visitors exposed to two or more of its outcomes (all time). */
@Entity({ name: "rule_crossovers" })
export class RuleCrossovers {
  /** sha256(organisation, rule). */
  @PrimaryColumn({ name: "counter_key", type: "varchar", length: 64 })
  counterKey: string;

  @Column({ name: "organisation_id", type: "varchar", length: 36 })
  organisationId: string;

  @Column({ name: "rule_id", type: "varchar", length: 255, collation: EXACT_COLLATION })
  ruleId: string;

  @Column({ type: "int", default: 0 })
  visitors: number;
}

export const ruleEntities = [
  RuleOutcome,
  RuleExposure,
  RuleConverter,
  RuleConversionEvent,
  RuleOutcomeDailyStats,
  RuleOutcomeConversionDay,
  RuleVisitorOutcomes,
  RuleCrossovers,
];
