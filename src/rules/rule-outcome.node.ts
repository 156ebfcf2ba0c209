// Federation: RuleOutcome { ruleId outcomeId } is an entity of this subgraph; its all-time totals
// (any conversion type) are resolved for the caller's organisation, batched per request.
import { Directive, Field, Float, ID, Int, ObjectType } from "type-graphql";
import { createRuleLoaders, type RuleContext } from "./rule.loaders";
import { ConfidenceInterval } from "./rule.types";
import type { RuleOutcomeTotals } from "./rule-counters";
import { wilsonInterval } from "./statistics";

@Directive('@key(fields: "ruleId outcomeId")')
@ObjectType("RuleOutcome", { description: "An outcome of a split-test rule, with its all-time totals." })
export class RuleOutcomeNode implements RuleOutcomeTotals {
  @Field(() => ID)
  ruleId: string;

  @Field()
  outcomeId: string;

  @Field(() => Int)
  exposures: number;

  @Field(() => Int)
  converters: number;

  @Field(() => Int)
  conversions: number;

  @Field(() => Int)
  unattributedConversions: number;

  @Field(() => Float, { nullable: true })
  conversionRate: number | null;

  @Field(() => ConfidenceInterval, { nullable: true, description: "Wilson score interval at 95%." })
  confidenceInterval: ConfidenceInterval | null;

  @Field(() => Date)
  lastActivityAt: Date;
}

export function toRuleOutcomeNode(totals: RuleOutcomeTotals): RuleOutcomeNode {
  return Object.assign(new RuleOutcomeNode(), {
    ...totals,
    conversionRate: totals.exposures > 0 ? totals.converters / totals.exposures : null,
    confidenceInterval: wilsonInterval(totals.converters, totals.exposures, 0.95),
  });
}

export async function resolveRuleOutcomeReference(
  reference: { ruleId: string; outcomeId: string },
  context: RuleContext,
): Promise<RuleOutcomeNode | null> {
  const totals = await (await context.loaders(createRuleLoaders)).ruleOutcome.load({
    ruleId: reference.ruleId,
    outcomeId: reference.outcomeId,
  });
  return totals ? toRuleOutcomeNode(totals) : null;
}
