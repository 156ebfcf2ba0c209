// GraphQL error mapping: domain errors keep their code and message; anything unexpected is
// logged and answered without internals (no stack, no SQL).

import { unwrapResolverError } from "@apollo/server/errors";
import type { GraphQLFormattedError } from "graphql";
import type { Logger } from "pino";
import { DomainError } from "../errors";

// graphql-js appends suggestions to a message: ` Did you mean "email"?`, `Did you mean "a", "b", or "c"?`,
// `Did you mean the enum value "X"?`. Names never hold a "?".
const SUGGESTION = / ?Did you mean [^?]*\?/g;

export interface ErrorFormatOptions {
  /** Strip "Did you mean ...?": outside development they tell a stranger the schema's names. */
  hideSuggestions?: boolean;
}

export function graphQLErrorFormatter(logger?: Logger, { hideSuggestions = false }: ErrorFormatOptions = {}) {
  const format = formatError(logger);
  if (!hideSuggestions) return format;
  return (formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError => {
    const result = format(formatted, error);
    return { ...result, message: result.message.replace(SUGGESTION, "") };
  };
}

function formatError(logger?: Logger) {
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
