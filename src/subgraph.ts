// The conversions subgraph's schema: every domain's resolvers and federated entities, handed to
// the domain-free federated-schema build.
import { ContactResolver } from "./contacts/contact.resolver";
import { ContactNode, resolveContactReference } from "./conversions/contact.node";
import { ContactConversionsResolver } from "./conversions/contact-conversions.resolver";
import { resolveConversionReference } from "./conversions/conversion.reference";
import { ConversionResolver } from "./conversions/conversion.resolver";
import { buildFederatedSchema } from "./graphql/federated-schema";
import { RuleResolver } from "./rules/rule.resolver";
import { RuleOutcomeNode, resolveRuleOutcomeReference } from "./rules/rule-outcome.node";

export function buildConversionsSubgraphSchema() {
  return buildFederatedSchema({
    resolvers: [ConversionResolver, ContactResolver, ContactConversionsResolver, RuleResolver],
    orphanedTypes: [RuleOutcomeNode, ContactNode],
    referenceResolvers: {
      Conversion: resolveConversionReference,
      RuleOutcome: resolveRuleOutcomeReference,
      Contact: resolveContactReference,
    },
  });
}
