// GraphQL entry points of the split-test domain: arguments -> RuleService -> payload.
import type { GraphQLResolveInfo } from "graphql";
import { Arg, Args, Ctx, FieldResolver, Float, Info, Int, Mutation, Query, Resolver, Root } from "type-graphql";
import { type Connection, toConnection } from "../graphql/connection";
import { selectsField } from "../graphql/selection";
import { inLaterTurn } from "../graphql/turns";
import { parseSampleSizeInput } from "./rule.input";
import type { RuleContext } from "./rule.loaders";
import {
  OutcomeConversionSeries,
  OutcomeConversionSeriesArgs,
  OutcomeConversionStats,
  OutcomeConversionStatsArgs,
  OutcomeDay,
  OutcomeDayStatsType,
  RecordRuleConversionInput,
  RecordRuleOutcomeExposureInput,
  RuleConversionPayload,
  RuleConversionStats,
  RuleOutcomeExposurePayload,
  RuleSummary,
  RuleSummaryConnection,
  SampleSize,
} from "./rule.types";
import { sampleSizeFor } from "./rule-stats";

/** The mutations anyone may call (browsers): they share the public budgets of the REST endpoints. */
export const PUBLIC_RECORDING_FIELDS = ["recordRuleConversion", "recordRuleOutcomeExposure"];
/** Public recording mutations one GraphQL operation may carry at most. */
export const PUBLIC_RECORDINGS_PER_OPERATION = 10;
/**
 * Series one GraphQL operation may carry at most. A series' answer is bounded (366 days × MAX_OUTCOMES_PER_RULE
 * outcomes: 36,600 objects, 7.6 MB) but far past what the cost of its selection says: ten aliased series of a
 * 100-outcome rule took 3.7 s and 76 MB to answer and held /health for 750 ms while serialised.
 */
export const SERIES_PER_OPERATION = 1;

@Resolver()
export class RuleResolver {
  @Mutation(() => RuleConversionPayload, { description: "Records a visitor's conversion on outcome(s) of a rule." })
  async recordRuleConversion(
    @Arg("input") input: RecordRuleConversionInput,
    @Ctx() context: RuleContext,
  ): Promise<RuleConversionPayload> {
    const visitor = await context.visitor(input.trackingId);
    return context.services.rules.recordConversion(visitor, input, context.databaseDeadline);
  }

  @Mutation(() => RuleOutcomeExposurePayload, { description: "Records that a visitor saw outcome(s) of a rule." })
  async recordRuleOutcomeExposure(
    @Arg("input") input: RecordRuleOutcomeExposureInput,
    @Ctx() context: RuleContext,
  ): Promise<RuleOutcomeExposurePayload> {
    const visitor = await context.visitor(input.trackingId);
    return context.services.rules.recordExposure(visitor, input, context.databaseDeadline);
  }

  @Query(() => RuleConversionStats, {
    description: "Compares the outcomes of a rule of the caller's organisation (X-API-Key).",
  })
  async outcomeConversionStats(
    @Args() args: OutcomeConversionStatsArgs,
    @Ctx() context: RuleContext,
  ): Promise<RuleConversionStats> {
    const { organisationId } = await context.principal();
    return context.services.rules.stats(organisationId, args);
  }

  @Query(() => OutcomeConversionSeries, {
    description: "The outcomes' figures as they stood at the end of each UTC day (X-API-Key).",
  })
  async outcomeConversionSeries(
    @Args() args: OutcomeConversionSeriesArgs,
    @Ctx() context: RuleContext,
    @Info() info: GraphQLResolveInfo,
  ): Promise<OutcomeConversionSeries> {
    const { organisationId } = await context.principal();
    // The posterior passes are nearly all of a series' cost: only made when asked for.
    const probabilityToBeBest = selectsField(info, ["days", "outcomes", "probabilityToBeBest"]);
    return context.services.rules.series(organisationId, args, { probabilityToBeBest });
  }

  @Query(() => RuleSummaryConnection, { description: "The caller's organisation's rules, by id." })
  async rules(
    @Ctx() context: RuleContext,
    // Parameter decorators run last to first: declared in reverse to print (first, after).
    @Arg("after", () => String, { nullable: true }) after?: string,
    @Arg("first", () => Int, { nullable: true }) first?: number,
  ): Promise<Connection<RuleSummary>> {
    const { organisationId } = await context.principal();
    const page = await context.services.rules.listRules(organisationId, first, after);
    return toConnection({ ...page, nodes: page.rules }, after);
  }
}

@Resolver(() => OutcomeConversionStats)
export class OutcomeConversionStatsResolver {
  @FieldResolver(() => SampleSize, {
    nullable: true,
    description:
      "Exposures per outcome to detect a relative change relativeMde (> 0) of the baseline rate at `power` (in (0, 1)) " +
      "with a two-sided test at confidenceLevel; null for the baseline.",
  })
  sampleSize(
    @Root() outcome: OutcomeConversionStats,
    // Parameter decorators run last to first: declared in reverse to print (relativeMde, power).
    @Arg("power", () => Float, { nullable: true, defaultValue: 0.8 }) power: number | null,
    @Arg("relativeMde", () => Float) relativeMde: number,
  ): SampleSize | null {
    const input = parseSampleSizeInput({ relativeMde, power });
    return outcome.sampleSizePlan ? sampleSizeFor(outcome.sampleSizePlan, input) : null;
  }
}

@Resolver(() => OutcomeDay)
export class OutcomeDayResolver {
  @FieldResolver(() => [OutcomeDayStatsType], {
    description: "Ordered by outcome id; figures as in outcomeConversionStats.",
  })
  outcomes(@Root() day: OutcomeDay): Promise<OutcomeDayStatsType[]> {
    // Each day's outcomes in a later turn of the event loop, a few days a turn: the 3,660 objects of a long
    // series are completed between other requests' callbacks, not in one go.
    return inLaterTurn(day.outcomes);
  }
}
