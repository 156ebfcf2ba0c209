// GraphQL error mapping: domain errors keep their code and message; anything unexpected is
// logged and answered without internals (no stack, no SQL).

import { unwrapResolverError } from "@apollo/server/errors";
import type { GraphQLFormattedError } from "graphql";
import type { Logger } from "pino";
import { asDatabaseUnreachable } from "../db/deadline";
import { DomainError } from "../errors";

// graphql-js 16 spells it "more that N tokens".
const TOKEN_LIMIT = /^Syntax Error: Document contains more tha[nt] \d+ tokens/;

// graphql-js 16's OverlappingFieldsCanBeMerged stops past its work budget with this one error.
const VALIDATION_ABORTED = "Validation aborted.";

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
  // A failed DataLoader batch rejects every one of its keys with the same error: log it once.
  const logged = new WeakSet<object>();
  return (formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError => {
    const unwrapped = unwrapResolverError(error);
    // A database that cannot be reached is SERVICE_UNAVAILABLE, whichever query met it.
    const original = asDatabaseUnreachable(unwrapped) ?? unwrapped;
    const { http: _http, stacktrace: _stacktrace, ...extensions } = formatted.extensions ?? {};
    if (original instanceof DomainError) {
      // Its own code, also when it stands for a driver error that reached here unmapped (unreachable database).
      const { http: _status, ...own } = original.extensions;
      return { ...formatted, message: original.message, extensions: { ...extensions, ...own } };
    }
    // graphql-js reports its token limit as a syntax error: it is a limit, like the cost limit.
    if (extensions.code === "GRAPHQL_PARSE_FAILED" && TOKEN_LIMIT.test(formatted.message)) {
      return { message: formatted.message, extensions: { code: "QUERY_TOO_COMPLEX" } };
    }
    // ... and its own bound on the work of checking that fields merge (a selection of a thousand fields) as
    // an aborted validation: a limit too.
    if (extensions.code === "GRAPHQL_VALIDATION_FAILED" && formatted.message === VALIDATION_ABORTED) {
      return {
        message: "Validation aborted: the operation's selections are too many to check",
        extensions: { code: "QUERY_TOO_COMPLEX" },
      };
    }
    if (extensions.code === "INTERNAL_SERVER_ERROR") {
      const once = original !== null && typeof original === "object";
      if (!once || !logged.has(original)) logger?.error({ err: original }, "GraphQL operation failed");
      if (once) logged.add(original);
      return { message: "Internal server error", path: formatted.path, extensions: { code: "INTERNAL_SERVER_ERROR" } };
    }
    return { ...formatted, extensions };
  };
}
