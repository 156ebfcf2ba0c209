// Turns a type-graphql schema into a Federation 2 subgraph schema (type-graphql's
// examples/apollo-federation-2 approach): print with directives, add the @link, rebuild with
// @apollo/subgraph, and hand it type-graphql's resolvers merged with the reference resolvers.
import { buildSubgraphSchema } from "@apollo/subgraph";
import { printSchemaWithDirectives } from "@graphql-tools/utils";
import { type GraphQLSchema, parse } from "graphql";
import { GraphQLDateTime } from "graphql-scalars";
import { buildSchema, createResolversMap, type NonEmptyArray } from "type-graphql";

const FEDERATION_LINK =
  'extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key", "@shareable", "@external", "@requires", "@provides"])';

/** A class decorated for type-graphql (a resolver or an object type). */
type ClassType = Function;

export interface FederatedSchemaDefinition {
  resolvers: NonEmptyArray<ClassType>;
  /** Entity types reachable only through _entities, which @apollo/subgraph adds. */
  orphanedTypes?: ClassType[];
  /** Each entity's `__resolveReference`, by GraphQL type name. */
  referenceResolvers?: Record<string, (reference: never, context: never) => unknown>;
}

export async function buildFederatedSchema(definition: FederatedSchemaDefinition): Promise<GraphQLSchema> {
  const schema = await buildSchema({
    resolvers: definition.resolvers,
    orphanedTypes: definition.orphanedTypes,
    scalarsMap: [{ type: Date, scalar: GraphQLDateTime }],
    validate: false,
    skipCheck: true,
  });
  const typeDefs = parse(`${FEDERATION_LINK}\n\n${printSchemaWithDirectives(schema)}`);
  const resolvers = createResolversMap(schema) as Record<string, object>;
  for (const [typeName, resolveReference] of Object.entries(definition.referenceResolvers ?? {})) {
    resolvers[typeName] = { ...resolvers[typeName], __resolveReference: resolveReference };
  }
  return buildSubgraphSchema({ typeDefs, resolvers: resolvers as never });
}
