// Turns the type-graphql schema into a Federation 2 subgraph schema (type-graphql's
// examples/apollo-federation-2 approach): print with directives, add the @link, rebuild with
// @apollo/subgraph, and keep type-graphql's resolvers.
import { buildSubgraphSchema } from "@apollo/subgraph";
import { printSchemaWithDirectives } from "@graphql-tools/utils";
import { type GraphQLSchema, parse } from "graphql";
import { GraphQLDateTime } from "graphql-scalars";
import { buildSchema, createResolversMap } from "type-graphql";
import { ContactResolver } from "../contacts/contact.resolver";
import { ConversionResolver } from "../conversions/conversion.resolver";
import { RuleResolver } from "../rules/rule.resolver";

const FEDERATION_LINK =
  'extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key", "@shareable", "@external", "@requires", "@provides"])';

export async function buildConversionsSubgraphSchema(): Promise<GraphQLSchema> {
  const schema = await buildSchema({
    resolvers: [ConversionResolver, ContactResolver, RuleResolver],
    scalarsMap: [{ type: Date, scalar: GraphQLDateTime }],
    validate: false,
    skipCheck: true,
  });
  const typeDefs = parse(`${FEDERATION_LINK}\n\n${printSchemaWithDirectives(schema)}`);
  return buildSubgraphSchema({ typeDefs, resolvers: createResolversMap(schema) as never });
}
