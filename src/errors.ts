// One error type per kind of failure, each mapped once to an HTTP status and a GraphQL error code.
// Services throw these; the REST shim and the GraphQL layer only translate them.

export interface FieldIssue {
  /** Path of the offending value inside the input, in the domain's (camelCase) names. */
  path: (string | number)[];
  /** Machine-readable kind, in pydantic's vocabulary (missing, string_type, string_too_long...). */
  type: string;
  message: string;
}

export abstract class DomainError extends Error {
  abstract readonly httpStatus: number;
  abstract readonly graphqlCode: string;

  /** Read by graphql-js when it wraps the error, so Apollo sets the HTTP status and code. */
  get extensions(): Record<string, unknown> {
    return { code: this.graphqlCode, http: { status: this.httpStatus } };
  }
}

export class Unauthenticated extends DomainError {
  readonly httpStatus = 401;
  readonly graphqlCode = "UNAUTHENTICATED";
  constructor(message = "Invalid or missing API key") {
    super(message);
  }
}

export class InvalidInput extends DomainError {
  readonly httpStatus = 400;
  readonly graphqlCode = "BAD_USER_INPUT";
  constructor(readonly issues: FieldIssue[]) {
    super(issues.map((issue) => `${issue.path.join(".") || "input"}: ${issue.message}`).join("; "));
  }

  override get extensions(): Record<string, unknown> {
    return {
      ...super.extensions,
      field: this.issues[0]?.path.join("."),
      issues: this.issues.map((issue) => ({ field: issue.path.join("."), type: issue.type, message: issue.message })),
    };
  }

  /** The same issues, a path starting at `from` starting at `to` instead (one API's name for the same input). */
  renamed(from: string, to: string): InvalidInput {
    return new InvalidInput(
      this.issues.map((issue) => (issue.path[0] === from ? { ...issue, path: [to, ...issue.path.slice(1)] } : issue)),
    );
  }
}

export class NotFound extends DomainError {
  readonly httpStatus = 404;
  readonly graphqlCode = "NOT_FOUND";
}

export class Overloaded extends DomainError {
  readonly httpStatus = 503;
  readonly graphqlCode = "SERVICE_UNAVAILABLE";
  constructor(
    message = "The service is busy, retry shortly",
    readonly retryAfterSeconds = 1,
  ) {
    super(message);
  }

  /** Retry-After over GraphQL too (Apollo sets headers from extensions.http). */
  override get extensions(): Record<string, unknown> {
    return {
      code: this.graphqlCode,
      retryAfterSeconds: this.retryAfterSeconds,
      http: { status: this.httpStatus, headers: new Map([["retry-after", String(this.retryAfterSeconds)]]) },
    };
  }
}

/**
 * The database did not answer within DB_UNAVAILABLE_TIMEOUT_MS, or refused the connection: nothing
 * of the request was stored, unless `outcomeUnknown` (its commit was sent and not answered).
 */
export class DatabaseUnreachable extends Overloaded {
  constructor(
    message = "The database is not answering, retry shortly",
    retryAfterSeconds = 2,
    /** The commit was sent before the deadline: the event may still be stored by the database. */
    readonly outcomeUnknown = false,
    options?: { cause?: unknown },
  ) {
    super(message, retryAfterSeconds);
    if (options?.cause !== undefined) this.cause = options.cause;
  }
}

/** Too many calls in the current window of a rate limit. */
export class RateLimited extends DomainError {
  readonly httpStatus = 429;
  readonly graphqlCode = "RATE_LIMITED";
  constructor(
    /** Calls allowed per window. */
    readonly limit: number,
    /** Seconds until the window resets (also the Retry-After). */
    readonly resetSeconds: number,
  ) {
    super(`Too many requests: retry in ${resetSeconds} s`);
  }

  /** RateLimit-* fields (draft-ietf-httpapi-ratelimit-headers) and Retry-After. */
  get headers(): Record<string, string> {
    return {
      "retry-after": String(this.resetSeconds),
      "ratelimit-limit": String(this.limit),
      "ratelimit-remaining": "0",
      "ratelimit-reset": String(this.resetSeconds),
    };
  }

  override get extensions(): Record<string, unknown> {
    return {
      code: this.graphqlCode,
      retryAfterSeconds: this.resetSeconds,
      http: { status: this.httpStatus, headers: new Map(Object.entries(this.headers)) },
    };
  }
}

export class ShuttingDown extends Overloaded {
  constructor() {
    super("The service is shutting down, retry shortly", 1);
  }
}
