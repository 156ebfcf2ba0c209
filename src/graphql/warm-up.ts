// Running an operation through the service's own GraphQL server before it listens (domain-free): V8 then has
// compiled graphql-js's and graphql-jit's code of a large answer before the first request meets it cold.
import type { ApolloServer, BaseContext, GraphQLRequest } from "@apollo/server";

/**
 * Executes `request` `rounds` times with `contextValue`, as a client's request would run (limits, graphql-js the
 * first time, then compiled by graphql-jit); throws when an answer has errors.
 */
export async function warmUpOperation<TContext extends BaseContext>(
  server: ApolloServer<TContext>,
  request: GraphQLRequest,
  contextValue: TContext,
  rounds: number,
): Promise<void> {
  for (let round = 0; round < rounds; round++) {
    const { body } = await server.executeOperation(request, { contextValue });
    const errors = body.kind === "single" ? body.singleResult.errors : undefined;
    if (errors?.length)
      throw new Error(`the warm-up operation failed: ${errors.map((error) => error.message).join("; ")}`);
  }
}
