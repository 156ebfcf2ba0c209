// GraphQL error mapping: domain errors keep their code and message; anything unexpected is
// logged and answered without internals (no stack, no SQL).

import { unwrapResolverError } from "@apollo/server/errors";
import type { GraphQLFormattedError } from "graphql";
import type { Logger } from "pino";
import { DomainError } from "../errors";

export function graphQLErrorFormatter(logger?: Logger) {
  return (formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError => {
    const original = unwrapResolverError(error);
    const { http: _http, stacktrace: _stacktrace, ...extensions } = formatted.extensions ?? {};
    if (original instanceof DomainError) return { ...formatted, message: original.message, extensions };
    if (extensions.code === "INTERNAL_SERVER_ERROR") {
      logger?.error({ err: original }, "GraphQL operation failed");
      return { message: "Internal server error", path: formatted.path, extensions: { code: "INTERNAL_SERVER_ERROR" } };
    }
    return { ...formatted, extensions };
  };
}
