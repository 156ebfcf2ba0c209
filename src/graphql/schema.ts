// Turns the type-graphql schema into a Federation 2 subgraph schema (type-graphql's
// examples/apollo-federation-2 approach): print with directives, add the @link, rebuild with
// @apollo/subgraph, and hand it type-graphql's resolvers merged with the reference resolvers.
import { buildSubgraphSchema } from "@apollo/subgraph";
import { printSchemaWithDirectives } from "@graphql-tools/utils";
import { type GraphQLSchema, parse } from "graphql";
import { GraphQLDateTime } from "graphql-scalars";
import { buildSchema, createResolversMap } from "type-graphql";
import { ContactNode, resolveContactReference } from "../contacts/contact.node";
import { ContactConversionsResolver, ContactResolver } from "../contacts/contact.resolver";
import { resolveConversionReference } from "../conversions/conversion.reference";
import { ConversionResolver } from "../conversions/conversion.resolver";
import { RuleResolver } from "../rules/rule.resolver";
import { RuleOutcomeNode, resolveRuleOutcomeReference } from "../rules/rule-outcome.node";

const FEDERATION_LINK =
  'extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key", "@shareable", "@external", "@requires", "@provides"])';

const referenceResolvers: Record<string, { __resolveReference: (...args: never[]) => unknown }> = {
  Conversion: { __resolveReference: resolveConversionReference },
  RuleOutcome: { __resolveReference: resolveRuleOutcomeReference },
  Contact: { __resolveReference: resolveContactReference },
};

export async function buildConversionsSubgraphSchema(): Promise<GraphQLSchema> {
  const schema = await buildSchema({
    resolvers: [ConversionResolver, ContactResolver, ContactConversionsResolver, RuleResolver],
    // Reachable only through _entities, which @apollo/subgraph adds.
    orphanedTypes: [RuleOutcomeNode, ContactNode],
    scalarsMap: [{ type: Date, scalar: GraphQLDateTime }],
    validate: false,
    skipCheck: true,
  });
  const typeDefs = parse(`${FEDERATION_LINK}\n\n${printSchemaWithDirectives(schema)}`);
  const resolvers = createResolversMap(schema) as Record<string, object>;
  for (const [typeName, reference] of Object.entries(referenceResolvers)) {
    resolvers[typeName] = { ...resolvers[typeName], ...reference };
  }
  return buildSubgraphSchema({ typeDefs, resolvers: resolvers as never });
}
