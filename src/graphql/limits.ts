// Limits on what one GraphQL operation may ask: nesting depth (a validation rule from
// graphql-armor) and cost (graphql-query-complexity, lists weighted by their `first`).
// Both answer 400 with a clear error before anything runs.
import type { ApolloServerPlugin } from "@apollo/server";
import { maxDepthRule } from "@escape.tech/graphql-armor-max-depth";
import { GraphQLError, type GraphQLSchema, separateOperations } from "graphql";
import { type ComplexityEstimator, getComplexity, simpleEstimator } from "graphql-query-complexity";

export function depthLimitRule(maxDepth: number) {
  return maxDepthRule({
    n: maxDepth,
    ignoreIntrospection: true,
    flattenFragments: true,
    exposeLimits: false,
    errorMessage: `Query is nested too deeply: the limit is ${maxDepth} levels`,
    // Report as a validation error (400) rather than throw out of validation (500).
    propagateOnRejection: false,
    onReject: [(context, error) => context?.reportError(error)],
  });
}

/** Every list here caps `first` at 100 whatever is asked. */
const MAX_PAGE_SIZE = 100;

/** A field with a `first` argument returns up to `first` items: its children cost that many times. */
const pageSizeEstimator: ComplexityEstimator = ({ args, childComplexity }) =>
  typeof args.first === "number" ? 1 + Math.min(Math.max(args.first, 0), MAX_PAGE_SIZE) * childComplexity : undefined;

export function complexityLimitPlugin(schema: GraphQLSchema, maxComplexity: number): ApolloServerPlugin {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ request, document, operationName }) {
          const operations = separateOperations(document);
          const operation = operationName ? operations[operationName] : Object.values(operations)[0];
          if (!operation) return;
          let complexity: number;
          try {
            complexity = getComplexity({
              schema,
              query: operation,
              variables: request.variables ?? {},
              estimators: [pageSizeEstimator, simpleEstimator({ defaultComplexity: 1 })],
            });
          } catch {
            // Invalid variables: execution reports them precisely as BAD_USER_INPUT.
            return;
          }
          if (complexity > maxComplexity) {
            throw new GraphQLError(`Query is too complex: ${complexity} exceeds the limit of ${maxComplexity}`, {
              extensions: { code: "QUERY_TOO_COMPLEX", complexity, maxComplexity, http: { status: 400 } },
            });
          }
        },
      };
    },
  };
}
