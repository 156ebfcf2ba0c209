// GraphQL inputs and payloads of the split-test domain.
import { ArgsType, Field, Float, ID, InputType, Int, ObjectType, registerEnumType } from "type-graphql";
import { connectionType } from "../graphql/connection";
import {
  CONVERSION_MAX_LENGTH,
  OUTCOME_ID_MAX_LENGTH,
  OUTCOMES_PER_CALL_MAX,
  RULE_ID_MAX_LENGTH,
  SEQUENTIAL_TUNING_DEFAULT,
  SEQUENTIAL_TUNING_MAX,
  SERIES_MAX_DAYS,
  SRM_THRESHOLD_DEFAULT,
} from "./rule.input";
import type { RecordedConversion, RecordedOutcomes } from "./rule.service";
import type { RuleSummary as RuleSummaryShape } from "./rule-counters";
import {
  GRAPHQL_INT_MAX,
  type OutcomeDay as OutcomeDayShape,
  type OutcomeDayStats,
  type OutcomeStats,
  type RuleSeries,
  type RuleStats,
  type SampleSizePlan,
  type SampleSize as SampleSizeShape,
} from "./rule-stats";
import type { Interval, PValueAdjustment as PValueAdjustmentName } from "./statistics";

@InputType({ description: "A conversion on outcome(s) of a rule, as POST /zephr/public/rule-outcomes/v1/conversions." })
export class RecordRuleConversionInput {
  @Field(() => ID, {
    description: `The rule (version), at most ${RULE_ID_MAX_LENGTH} characters; compared exactly (case and spaces matter).`,
  })
  ruleId: string;

  @Field({
    description: `One outcome id or a comma-separated list (each id trimmed, duplicates once, at most ${OUTCOMES_PER_CALL_MAX}, each ≤ ${OUTCOME_ID_MAX_LENGTH}).`,
  })
  outcomeId: string;

  @Field({
    description: `What the visitor converted on: REGISTERED, CUSTOMER or any string of at most ${CONVERSION_MAX_LENGTH} characters, compared exactly (case and spaces matter).`,
  })
  conversion: string;

  @Field(() => String, { nullable: true, description: "The visitor; defaults to the blaize_tracking_id cookie." })
  trackingId?: string | null;

  @Field(() => String, {
    nullable: true,
    description:
      "Idempotency key (1-255 visible ASCII characters), one key space per organisation and visitor: a repeat of the same request stores nothing; the same key with a different request is BAD_USER_INPUT.",
  })
  idempotencyKey?: string | null;
}

@InputType({ description: "An exposure of a visitor to outcome(s) of a rule." })
export class RecordRuleOutcomeExposureInput {
  @Field(() => ID)
  ruleId: string;

  @Field({ description: "One outcome id or a comma-separated list." })
  outcomeId: string;

  @Field(() => String, { nullable: true, description: "The visitor; defaults to the blaize_tracking_id cookie." })
  trackingId?: string | null;

  @Field(() => String, {
    nullable: true,
    description:
      "Idempotency key (1-255 visible ASCII characters), one key space per organisation and visitor: a repeat of the same request stores nothing; the same key with a different request is BAD_USER_INPUT.",
  })
  idempotencyKey?: string | null;
}

@ObjectType()
export class RuleConversionPayload implements RecordedConversion {
  @Field(() => ID)
  ruleId: string;

  @Field(() => [String], { description: "The outcomes a conversion event was stored for." })
  outcomeIds: string[];

  @Field()
  conversion: string;

  @Field({
    description: "True when an earlier request with the same idempotencyKey stored the event: nothing was stored now.",
  })
  replayed: boolean;
}

@ObjectType()
export class RuleOutcomeExposurePayload implements RecordedOutcomes {
  @Field(() => ID)
  ruleId: string;

  @Field(() => [String])
  outcomeIds: string[];

  @Field({
    description: "True when an earlier request with the same idempotencyKey stored the event: nothing was stored now.",
  })
  replayed: boolean;
}

export enum PValueAdjustment {
  NONE = "NONE",
  HOLM = "HOLM",
  BENJAMINI_HOCHBERG = "BENJAMINI_HOCHBERG",
}

registerEnumType(PValueAdjustment, {
  name: "PValueAdjustment",
  description: "Multiple-comparison adjustment over the non-baseline outcomes with a p-value (m of them).",
  valuesConfig: {
    NONE: { description: "The p-values unchanged." },
    HOLM: { description: "Holm's step-down: p̃₍ᵢ₎ = max_{j≤i} min(1, (m − j + 1)·p₍ⱼ₎), p sorted ascending." },
    BENJAMINI_HOCHBERG: { description: "Benjamini–Hochberg's step-up: p̃₍ᵢ₎ = min_{j≥i} min(1, m·p₍ⱼ₎ / j)." },
  },
});

@InputType({ description: "An outcome's share of the configured split." })
export class OutcomeWeightInput {
  @Field()
  outcomeId: string;

  @Field(() => Float, { description: "Above 0; the shares are weight / Σ weights." })
  weight: number;
}

@ArgsType()
export class OutcomeWindowArgs {
  @Field(() => ID)
  ruleId: string;

  @Field(() => String, { nullable: true, description: "Count only conversions of this type; any type when omitted." })
  conversion?: string | null;

  @Field(() => String, { nullable: true, description: "First UTC day of the cohort, YYYY-MM-DD (inclusive)." })
  from?: string | null;

  @Field(() => String, { nullable: true, description: "Last UTC day of the cohort, YYYY-MM-DD (inclusive)." })
  to?: string | null;

  @Field(() => String, {
    nullable: true,
    description: "The outcome others are compared with; the first by id when omitted.",
  })
  baselineOutcomeId?: string | null;

  @Field(() => Float, {
    nullable: true,
    defaultValue: 0.95,
    description: "Confidence level of the intervals, in (0, 1).",
  })
  confidenceLevel?: number | null;

  @Field(() => Int, {
    nullable: true,
    defaultValue: SEQUENTIAL_TUNING_DEFAULT,
    description: `N*, the total sample size at which the sequential interval is tightest; 1 to ${SEQUENTIAL_TUNING_MAX}.`,
  })
  sequentialTuning?: number | null;
}

@ArgsType()
export class OutcomeConversionStatsArgs extends OutcomeWindowArgs {
  @Field(() => PValueAdjustment, {
    nullable: true,
    defaultValue: PValueAdjustment.NONE,
    description: "Adjustment of adjustedPValue and adjustedSequentialPValue.",
  })
  pValueAdjustment?: PValueAdjustmentName | null;

  @Field(() => [OutcomeWeightInput], {
    nullable: true,
    description: "The configured split, naming every outcome once; an equal split when omitted.",
  })
  expectedWeights?: OutcomeWeightInput[] | null;

  @Field(() => Float, {
    nullable: true,
    defaultValue: SRM_THRESHOLD_DEFAULT,
    description: "sampleRatioMismatch is sampleRatioMismatchPValue < srmThreshold; in (0, 1).",
  })
  srmThreshold?: number | null;
}

@ArgsType()
export class OutcomeConversionSeriesArgs extends OutcomeWindowArgs {}

// simpleResolvers (here and on the figures' other types): plain data, read by graphql-jit straight off the
// object instead of through type-graphql's per-field resolver (no middleware or auth applies to them); a
// 366-day series has 40,000 such fields. Field resolvers (sampleSize, OutcomeDay.outcomes) stay as they are.
@ObjectType({ simpleResolvers: true })
export class ConfidenceInterval implements Interval {
  @Field(() => Float)
  lower: number;

  @Field(() => Float)
  upper: number;
}

@ObjectType({ description: "How many exposures a test needs, and how long it would take at the pace so far." })
export class SampleSize implements SampleSizeShape {
  @Field(() => Int, {
    nullable: true,
    description:
      "n = ⌈(z√(2p̄(1−p̄)) + z_β√(p₁(1−p₁)+p₂(1−p₂)))² / (p₂−p₁)²⌉, p₁ = p_b, p₂ = p_b(1+relativeMde), p̄ = (p₁+p₂)/2; " +
      `null when p_b = 0, p₂ ∉ (0, 1) or n > ${GRAPHQL_INT_MAX}.`,
  })
  exposuresPerOutcome: number | null;

  @Field(() => Int, {
    nullable: true,
    description:
      "⌈max over all outcomes of max(0, n − n_k) / r_k⌉, r_k = n_k / UTC days from its first exposure in the window to today; " +
      `null when n is null, an outcome has no exposures, or beyond ${GRAPHQL_INT_MAX}.`,
  })
  daysRemaining: number | null;
}

@ObjectType({
  description: "Aggregates of one outcome of a rule. Never any single visitor's data.",
  simpleResolvers: true,
})
export class OutcomeConversionStats implements OutcomeStats {
  @Field()
  outcomeId: string;

  @Field(() => Int, { description: "Distinct visitors whose first exposure falls on a day in [from, to]." })
  exposures: number;

  @Field(() => Int, { description: "Exposed visitors with a conversion at or after their first exposure." })
  converters: number;

  @Field(() => Int, { description: "All conversion events of the exposed visitors, at or after first exposure." })
  conversions: number;

  @Field(() => Int, { description: "Conversion events on a day in [from, to] by visitors not exposed at that time." })
  unattributedConversions: number;

  @Field(() => Float, { nullable: true, description: "converters / exposures; null without exposures." })
  conversionRate: number | null;

  @Field(() => ConfidenceInterval, { nullable: true, description: "Wilson score interval, no continuity correction." })
  confidenceInterval: ConfidenceInterval | null;

  @Field(() => Float, { nullable: true, description: "(rate − baseline rate) / baseline rate; null for the baseline." })
  uplift: number | null;

  @Field(() => Float, { nullable: true, description: "Two-sided pooled two-proportion z-test against the baseline." })
  pValue: number | null;

  @Field(() => Float, { description: "P(this outcome's true rate is the highest), Beta(1+c, 1+n−c) posteriors." })
  probabilityToBeBest: number;

  @Field(() => Float, { nullable: true, description: "d = p_k − p_b. Null for the baseline, as every figure below." })
  difference: number | null;

  @Field(() => ConfidenceInterval, {
    nullable: true,
    description:
      "Newcombe's hybrid score interval of d (method 10): d − √((p_k−l_k)² + (u_b−p_b)²), d + √((u_k−p_k)² + (p_b−l_b)²).",
  })
  differenceInterval: ConfidenceInterval | null;

  @Field(() => ConfidenceInterval, {
    nullable: true,
    description:
      "Katz's log interval of r = p_k/p_b, minus 1: r·e^(∓zs) − 1, s = √(1/c_k − 1/n_k + 1/c_b − 1/n_b); null when c = 0.",
  })
  upliftInterval: ConfidenceInterval | null;

  @Field(() => Float, { nullable: true, description: "P(θ_k > θ_b), Beta(1+c, 1+n−c) posteriors." })
  chanceToBeatBaseline: number | null;

  @Field(() => Float, {
    nullable: true,
    description: "E[max(θ_b − θ_k, 0)], the rate choosing this outcome is expected to lose.",
  })
  expectedLoss: number | null;

  @Field(() => ConfidenceInterval, {
    nullable: true,
    description:
      "Asymptotic confidence sequence of d (Waudby-Smith et al. 2023), valid at every look: d ± √(V·2(Nρ²+1)/(Nρ²)·ln(√(Nρ²+1)/α)), " +
      "V = p_b(1−p_b)/n_b + p_k(1−p_k)/n_k, N = n_b + n_k, ρ² = (−2 ln α + ln(1 − 2 ln α))/N*.",
  })
  sequentialDifferenceInterval: ConfidenceInterval | null;

  @Field(() => Float, {
    nullable: true,
    description:
      "min(1, √(Nρ²+1)·exp(−d²Nρ²/(2V(Nρ²+1)))): below α exactly when sequentialDifferenceInterval excludes 0.",
  })
  sequentialPValue: number | null;

  @Field(() => Float, { nullable: true, description: "pValue adjusted per pValueAdjustment." })
  adjustedPValue: number | null;

  @Field(() => Float, { nullable: true, description: "sequentialPValue adjusted per pValueAdjustment." })
  adjustedSequentialPValue: number | null;

  /** What the sampleSize field resolver computes from (not a GraphQL field). */
  sampleSizePlan: SampleSizePlan | null;
}

@ObjectType({ simpleResolvers: true })
export class RuleConversionStats implements RuleStats {
  @Field(() => ID)
  ruleId: string;

  @Field(() => String, { nullable: true })
  conversion: string | null;

  @Field(() => String, { nullable: true })
  from: string | null;

  @Field(() => String, { nullable: true })
  to: string | null;

  @Field(() => Float)
  confidenceLevel: number;

  @Field(() => String, { nullable: true })
  baselineOutcomeId: string | null;

  @Field(() => Int)
  totalExposures: number;

  @Field(() => Float, {
    nullable: true,
    description:
      "Pearson chi-square p-value of exposures against the expected split (expected count N·w_k/Σw, df = outcomes − 1).",
  })
  sampleRatioMismatchPValue: number | null;

  @Field(() => Boolean, {
    nullable: true,
    description: "sampleRatioMismatchPValue < srmThreshold; null when that p-value is null.",
  })
  sampleRatioMismatch: boolean | null;

  @Field(() => Int, { description: "Distinct visitors exposed to two or more outcomes of the rule, all time." })
  crossoverVisitors: number;

  @Field(() => [OutcomeConversionStats], { description: "Ordered by outcome id." })
  outcomes: OutcomeConversionStats[];
}

@ObjectType("OutcomeDayStats", {
  description: "One outcome's figures as they stood at the end of a day.",
  simpleResolvers: true,
})
export class OutcomeDayStatsType implements OutcomeDayStats {
  @Field()
  outcomeId: string;

  @Field(() => Int, { description: "Visitors first exposed from `from` through the day." })
  exposures: number;

  @Field(() => Int, { description: "Of them, visitors with an attributed conversion recorded through the day." })
  converters: number;

  @Field(() => Int, { description: "Their attributed conversions recorded through the day." })
  conversions: number;

  @Field(() => Float, { nullable: true })
  conversionRate: number | null;

  @Field(() => ConfidenceInterval, { nullable: true })
  confidenceInterval: ConfidenceInterval | null;

  @Field(() => Float, { nullable: true })
  uplift: number | null;

  @Field(() => Float, { nullable: true })
  pValue: number | null;

  @Field(() => Float, { nullable: true })
  sequentialPValue: number | null;

  // Null only in a series made without it, when no one asked for it (SeriesFigures).
  @Field(() => Float)
  probabilityToBeBest: number | null;
}

@ObjectType({ simpleResolvers: true })
export class OutcomeDay implements OutcomeDayShape {
  @Field({ description: "UTC day, YYYY-MM-DD." })
  day: string;

  @Field(() => [OutcomeDayStatsType], { description: "Ordered by outcome id; figures as in outcomeConversionStats." })
  outcomes: OutcomeDayStatsType[];
}

@ObjectType()
export class OutcomeConversionSeries implements RuleSeries {
  @Field(() => ID)
  ruleId: string;

  @Field(() => String, { nullable: true })
  conversion: string | null;

  @Field(() => String, { nullable: true, description: "The first day; null when there are no days." })
  from: string | null;

  @Field()
  to: string;

  @Field(() => Float)
  confidenceLevel: number;

  @Field(() => Int)
  sequentialTuning: number;

  @Field(() => String, { nullable: true })
  baselineOutcomeId: string | null;

  @Field(() => [OutcomeDay], { description: `One per UTC day from \`from\` to \`to\`, at most ${SERIES_MAX_DAYS}.` })
  days: OutcomeDay[];
}

@ObjectType()
export class RuleSummary implements RuleSummaryShape {
  @Field(() => ID)
  ruleId: string;

  @Field(() => [String])
  outcomeIds: string[];

  @Field(() => Int, { description: "Distinct visitors exposed, summed over the outcomes." })
  exposures: number;

  @Field(() => Date)
  lastActivityAt: Date;
}

export const RuleSummaryConnection = connectionType<RuleSummary>("RuleSummary", RuleSummary);
