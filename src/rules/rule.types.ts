// GraphQL inputs and payloads of the split-test domain.
import { ArgsType, Field, Float, ID, InputType, Int, ObjectType } from "type-graphql";
import { connectionType } from "../graphql/connection";
import { CONVERSION_MAX_LENGTH, OUTCOME_ID_MAX_LENGTH, OUTCOMES_PER_CALL_MAX, RULE_ID_MAX_LENGTH } from "./rule.input";
import type { RecordedConversion, RecordedOutcomes } from "./rule.service";
import type { RuleSummary as RuleSummaryShape } from "./rule-counters";
import type { OutcomeStats, RuleStats } from "./rule-stats";
import type { Interval } from "./statistics";

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

@ArgsType()
export class OutcomeConversionStatsArgs {
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
}

@ObjectType()
export class ConfidenceInterval implements Interval {
  @Field(() => Float)
  lower: number;

  @Field(() => Float)
  upper: number;
}

@ObjectType({ description: "Aggregates of one outcome of a rule. Never any single visitor's data." })
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
}

@ObjectType()
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

  @Field(() => Float, { nullable: true, description: "Chi-square p-value of exposures against an equal split." })
  sampleRatioMismatchPValue: number | null;

  @Field(() => [OutcomeConversionStats], { description: "Ordered by outcome id." })
  outcomes: OutcomeConversionStats[];
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
