// The GraphQL side of the statistics warm-up (STATS_WARM_UP): a long series' query, every figure selected,
// answered from the synthetic warm-up series instead of the database. Measured: the first 366 × 10 series
// after a start took 200–240 ms, of which 140 ms were graphql-js and graphql-jit completing 3,660 objects
// with code V8 had not compiled yet (the second 90 ms, from the third on 20–30 ms).
import type { GraphQLRequest } from "@apollo/server";
import type { Principal } from "../auth/api-key.service";
import type { CallerIdentification } from "../graphql/context";
import type { RuleService } from "./rule.service";
import type { RuleSeries } from "./rule-stats";

/** The warm-up's rounds: graphql-js runs the document once, then graphql-jit's compiled query three times. */
export const SERIES_WARM_UP_ROUNDS = 4;

/** A series query as the analytics page asks for one: every figure of every day. */
export const SERIES_WARM_UP_REQUEST: GraphQLRequest = {
  query: `query SeriesWarmUp($ruleId: ID!) {
    outcomeConversionSeries(ruleId: $ruleId) {
      ruleId conversion from to confidenceLevel sequentialTuning baselineOutcomeId
      days { day outcomes { outcomeId exposures converters conversions conversionRate
        confidenceInterval { lower upper } uplift pValue sequentialPValue probabilityToBeBest } }
    }
  }`,
  variables: { ruleId: "warm-up" },
};

/** The warm-up's caller: no organisation of the database (nothing is read for it). */
const WARM_UP_PRINCIPAL: Principal = { organisationId: "00000000-0000-0000-0000-000000000000", apiKeyId: "warm-up" };

export const warmUpIdentification: CallerIdentification = {
  authenticate: async () => WARM_UP_PRINCIPAL,
  identifyVisitor: async () => {
    throw new Error("the warm-up records nothing");
  },
};

/** The rule service, but its series is `series` whatever is asked (the rest as the service's own). */
export function rulesAnsweringSeries(rules: RuleService, series: RuleSeries): RuleService {
  return Object.create(rules, { series: { value: async () => series } });
}
