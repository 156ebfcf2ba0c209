// A small second subgraph for the federation test: it owns Contact and a `contacts` query, as a
// CRM subgraph would in a real supergraph.
import { ApolloServer } from "@apollo/server";
import { startStandaloneServer } from "@apollo/server/standalone";
import { buildSubgraphSchema } from "@apollo/subgraph";
import { parse } from "graphql";

export const contactsTypeDefs = parse(`
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key"])

  type Contact @key(fields: "email") {
    email: String!
    name: String!
  }

  "A marketing campaign: points at conversions and split-test outcomes owned by the conversions subgraph."
  type Campaign {
    name: String!
    outcomes: [RuleOutcome!]!
    highlights: [Conversion!]!
  }

  type RuleOutcome @key(fields: "ruleId outcomeId", resolvable: false) {
    ruleId: ID!
    outcomeId: String!
  }

  type Conversion @key(fields: "id", resolvable: false) {
    id: ID!
  }

  type Query {
    contacts: [Contact!]!
    campaign: Campaign!
  }
`);

export interface Campaign {
  name: string;
  outcomes: { ruleId: string; outcomeId: string }[];
  highlights: { id: string }[];
}

export async function startContactsSubgraph(contacts: { email: string; name: string }[], campaign: Campaign) {
  const server = new ApolloServer({
    schema: buildSubgraphSchema({
      typeDefs: contactsTypeDefs,
      resolvers: {
        Query: { contacts: () => contacts, campaign: () => campaign },
        Contact: {
          __resolveReference: (reference: { email: string }) => contacts.find((c) => c.email === reference.email),
        },
      },
    }),
  });
  const { url } = await startStandaloneServer(server, { listen: { port: 0, host: "127.0.0.1" } });
  return { url, stop: () => server.stop() };
}
