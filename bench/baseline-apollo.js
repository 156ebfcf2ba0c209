// Baseline of the GraphQL path: a bare Apollo Server 5 on Fastify 5 (@as-integrations/fastify) whose
// only mutation, logConversion(input: {email}), does nothing and answers {status: ACCEPTED}, the
// payload the service answers. No logger, no auth, no plugins, no database. Started by bench/run.js.
"use strict";

const { ApolloServer } = require("@apollo/server");
const { fastifyApolloHandler } = require("@as-integrations/fastify");
const Fastify = require("fastify");
const { serveParent } = require("./child");

const typeDefs = `#graphql
  scalar JSON
  enum LogConversionStatus { ACCEPTED CONTACT_NOT_FOUND INVALID }
  input LogConversionInput { email: String! conversionType: String conversionData: JSON }
  type LogConversionPayload { status: LogConversionStatus! }
  type Query { ok: Boolean }
  type Mutation { logConversion(input: LogConversionInput!): LogConversionPayload! }
`;
const resolvers = { Mutation: { logConversion: () => ({ status: "ACCEPTED" }) } };

async function main() {
  const apollo = new ApolloServer({ typeDefs, resolvers, introspection: false });
  await apollo.start();
  const app = Fastify({ logger: false });
  app.route({ url: "/graphql", method: ["GET", "POST", "OPTIONS"], handler: fastifyApolloHandler(apollo) });
  const url = await app.listen({ host: "127.0.0.1", port: 0 });
  serveParent(url, {}, async () => {
    await app.close();
    await apollo.stop();
  });
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
