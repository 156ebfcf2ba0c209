// The conversions subgraph's schema: every domain's resolvers and federated entities, handed to
// the domain-free federated-schema build.

import type { Config } from "./config";
import { ContactResolver } from "./contacts/contact.resolver";
import { ContactNode, resolveContactReference } from "./conversions/contact.node";
import { ContactConversionsResolver } from "./conversions/contact-conversions.resolver";
import { resolveConversionReference } from "./conversions/conversion.reference";
import { ConversionResolver } from "./conversions/conversion.resolver";
import { buildFederatedSchema } from "./graphql/federated-schema";
import type { OperationLimits } from "./graphql/limits";
import {
  OutcomeConversionStatsResolver,
  OutcomeDayResolver,
  PUBLIC_RECORDING_FIELDS,
  PUBLIC_RECORDINGS_PER_OPERATION,
  RuleResolver,
  SERIES_PER_OPERATION,
} from "./rules/rule.resolver";
import { RuleOutcomeNode, resolveRuleOutcomeReference } from "./rules/rule-outcome.node";

export function buildConversionsSubgraphSchema() {
  return buildFederatedSchema({
    resolvers: [
      ConversionResolver,
      ContactResolver,
      ContactConversionsResolver,
      RuleResolver,
      OutcomeConversionStatsResolver,
      OutcomeDayResolver,
    ],
    orphanedTypes: [RuleOutcomeNode, ContactNode],
    referenceResolvers: {
      Conversion: resolveConversionReference,
      RuleOutcome: resolveRuleOutcomeReference,
      Contact: resolveContactReference,
    },
  });
}

/** The operation limits of this subgraph: the configured ones, and what its own lists and fields bound. */
export function subgraphOperationLimits(
  config: Pick<
    Config,
    "GRAPHQL_MAX_COMPLEXITY" | "GRAPHQL_MAX_ALIASES" | "GRAPHQL_MAX_REPRESENTATIONS" | "MAX_OUTCOMES_PER_RULE"
  >,
): OperationLimits {
  return {
    maxComplexity: config.GRAPHQL_MAX_COMPLEXITY,
    maxAliases: config.GRAPHQL_MAX_ALIASES,
    maxRepresentations: config.GRAPHQL_MAX_REPRESENTATIONS,
    listSizes: { "RuleConversionStats.outcomes": config.MAX_OUTCOMES_PER_RULE },
    fieldGroups: [
      {
        description: "public recording mutations",
        rootType: "Mutation",
        fields: PUBLIC_RECORDING_FIELDS,
        max: PUBLIC_RECORDINGS_PER_OPERATION,
      },
      {
        description: "outcomeConversionSeries",
        rootType: "Query",
        fields: ["outcomeConversionSeries"],
        max: SERIES_PER_OPERATION,
      },
    ],
    // A keyed mutation of N fields counts N calls against API_KEY_RATE_LIMIT_PER_SECOND; public recordings
    // count against the visitor's budget instead.
    uncountedCalls: PUBLIC_RECORDING_FIELDS,
  };
}
