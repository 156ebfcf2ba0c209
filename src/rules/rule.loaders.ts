// Per-request DataLoaders of the split-test domain: N RuleOutcome representations in one gateway
// request cost one SQL statement, bound to the caller's organisation.
import DataLoader from "dataloader";
import type { GraphQLContext } from "../graphql/context";
import type { RuleService } from "./rule.service";
import type { RuleOutcomeTotals } from "./rule-counters";

/** The services the split-test domain's resolvers use. */
export interface RuleServices {
  rules: RuleService;
}

export type RuleContext = GraphQLContext<RuleServices>;

export function createRuleLoaders({ rules }: RuleServices, organisationId: string) {
  return {
    ruleOutcome: new DataLoader<{ ruleId: string; outcomeId: string }, RuleOutcomeTotals | null, string>(
      (keys) => rules.outcomeTotals(organisationId, keys),
      { cacheKeyFn: (key) => JSON.stringify([key.ruleId, key.outcomeId]) },
    ),
  };
}
