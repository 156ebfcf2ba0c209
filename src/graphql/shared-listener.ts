// An Apollo plugin whose request listener is one object for every request, with plain hooks: Apollo awaits
// every hook of every listener at each stage of each request, and async hooks (and a listener made per
// request) cost about a tenth of a no-op logConversion's CPU here. Nothing is made per request.
import type { ApolloServerPlugin, BaseContext, GraphQLRequestListener } from "@apollo/server";

/** What a plain hook answers: one settled promise, never a new one. */
export const SETTLED: Promise<void> = Promise.resolve();

/** A plugin that hands `listener` itself to every request. */
export function sharedListenerPlugin<TContext extends BaseContext>(
  listener: GraphQLRequestListener<TContext>,
): ApolloServerPlugin<TContext> {
  const started = Promise.resolve(listener);
  return { requestDidStart: () => started };
}
