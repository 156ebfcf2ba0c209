// OpenAPI documentation of the Zephr recording endpoints and the outcome statistics CSV
// (documentation only: the routes parse their input themselves, see schemasDocumentOnly).
import { idempotencyKeyHeader, messageResponse, RESPONSE_HEADERS, SECURITY, TAGS } from "../http/openapi";
import { CONVERSION_MAX_LENGTH, OUTCOME_ID_MAX_LENGTH, OUTCOMES_PER_CALL_MAX, RULE_ID_MAX_LENGTH } from "./rule.input";

const RULE_ID = {
  type: "string",
  minLength: 1,
  maxLength: RULE_ID_MAX_LENGTH,
  description: "Kept and compared exactly as sent (case and spaces matter); not blank.",
} as const;

const RECORDING_FIELDS = {
  ruleId: RULE_ID,
  outcomeId: {
    type: "string",
    minLength: 1,
    description:
      `One outcome id or a comma-separated list (each trimmed, duplicates once, at most ${OUTCOMES_PER_CALL_MAX} ` +
      `ids of at most ${OUTCOME_ID_MAX_LENGTH} characters).`,
  },
  eventId: {
    type: "string",
    pattern: "^[A-Za-z0-9_-]{1,128}$",
    description: "The idempotency key when the caller cannot set headers (`navigator.sendBeacon`); the header wins.",
  },
} as const;

/** The headers and query parameter a public call may carry besides its cookie. */
const PUBLIC_HEADERS = {
  type: "object",
  properties: {
    ...idempotencyKeyHeader("1-255 visible ASCII characters; a replay of a stored key stores nothing."),
    "X-Blaize-Jwt": { type: "string", description: "The visitor's JWT; must verify when sent." },
    "X-Zephr-Jwt": { type: "string", description: "The visitor's JWT; must verify when sent." },
  },
} as const;
const PUBLIC_QUERY = {
  type: "object",
  properties: { jwt: { type: "string", description: "The visitor's JWT; must verify when sent." } },
} as const;

const PUBLIC_RESPONSES = {
  201: {
    description: "Stored and committed (or, with `Idempotent-Replayed: true`, already stored). No body.",
    headers: RESPONSE_HEADERS.replayed,
    type: "null",
  },
  400: messageResponse(
    "message",
    "Cookie missing or malformed; a field missing, empty, not a string or too long; malformed JSON; a malformed " +
      "idempotency key; a new outcome past `MAX_OUTCOMES_PER_RULE`.",
    "outcomeId: Field required",
  ),
  401: messageResponse(
    "message",
    "A JWT presented explicitly (query `jwt`, `X-Blaize-Jwt`, `X-Zephr-Jwt`, `Authorization: Bearer`) does not verify.",
    "Invalid token: signature verification failed",
  ),
  404: messageResponse(
    "message",
    "The host is no registered site and no default organisation is set.",
    "No site is registered for this host",
  ),
  413: messageResponse("message", "Body over 16 KiB.", "Request body too large"),
  422: messageResponse(
    "message",
    "The idempotency key was already used with a different body.",
    "Idempotency-Key was already used with a different request",
  ),
  429: {
    ...messageResponse(
      "message",
      "Over `PUBLIC_VISITOR_RATE_LIMIT_PER_MINUTE` (per organisation and visitor).",
      "Too many requests: retry in 12 s",
    ),
    headers: RESPONSE_HEADERS.rateLimit,
  },
  503: {
    ...messageResponse(
      "message",
      "Writer queue full, shutting down, or the database not answering within `DB_UNAVAILABLE_TIMEOUT_MS`.",
      "The database is not answering, retry shortly",
    ),
    headers: RESPONSE_HEADERS.retryAfter,
  },
};

const PUBLIC_DESCRIPTION =
  "Public, from browsers: the organisation is the one that registered the request's host (else " +
  "`DEFAULT_ORGANISATION_ID`), the visitor is the `blaize_tracking_id` cookie. A JWT may come as the `jwt` query " +
  "parameter, `X-Blaize-Jwt`, `X-Zephr-Jwt`, `Authorization: Bearer` or the `blaize_jwt` cookie. The body is read " +
  "as JSON whatever its `Content-Type` (`sendBeacon` sends `text/plain`).";

export const recordConversionDocumentation = {
  summary: "Record a split-test conversion",
  description: `One conversion event per outcome id. ${PUBLIC_DESCRIPTION}`,
  tags: [TAGS.splitTests],
  security: SECURITY.trackingCookie,
  consumes: ["application/json", "text/plain"],
  headers: PUBLIC_HEADERS,
  querystring: PUBLIC_QUERY,
  body: {
    type: "object",
    required: ["ruleId", "outcomeId", "conversion"],
    properties: {
      ...RECORDING_FIELDS,
      conversion: {
        type: "string",
        minLength: 1,
        maxLength: CONVERSION_MAX_LENGTH,
        description: "The conversion type, kept exactly as sent.",
      },
    },
    "x-examples": {
      registered: {
        summary: "A registration after seeing two outcomes",
        value: { ruleId: "article-22", outcomeId: "graph/1#1,graph/1#2", conversion: "REGISTERED" },
      },
      missingOutcome: {
        summary: "No outcome id: 400",
        value: { ruleId: "article-22", conversion: "REGISTERED" },
      },
    },
  },
  response: PUBLIC_RESPONSES,
};

export const recordExposureDocumentation = {
  summary: "Record a split-test exposure",
  description: `The visitor is exposed to the outcomes from now on; repeats change nothing. ${PUBLIC_DESCRIPTION}`,
  tags: [TAGS.splitTests],
  security: SECURITY.trackingCookie,
  consumes: ["application/json", "text/plain"],
  headers: PUBLIC_HEADERS,
  querystring: PUBLIC_QUERY,
  body: {
    type: "object",
    required: ["ruleId", "outcomeId"],
    properties: RECORDING_FIELDS,
    "x-examples": {
      exposure: { summary: "An exposure to one outcome", value: { ruleId: "article-22", outcomeId: "graph/1#1" } },
    },
  },
  response: PUBLIC_RESPONSES,
};

const CSV_EXAMPLE =
  '"ruleId","conversion","from","to","confidenceLevel","baselineOutcomeId","totalExposures",' +
  '"sampleRatioMismatchPValue","outcomeId","exposures","converters","conversions","unattributedConversions",' +
  '"conversionRate","confidenceIntervalLower","confidenceIntervalUpper","uplift","pValue","probabilityToBeBest"\r\n' +
  '"article-22","REGISTERED","2026-03-01","2026-03-31",0.95,"graph/1#1",2,1,"graph/1#1",1,1,1,0,1,0.2065,1,,,0.6667\r\n';

export const outcomeStatsCsvDocumentation = {
  summary: "Download a rule's outcome statistics as CSV",
  description:
    "RFC 4180 (CRLF, text fields quoted, numbers bare), UTF-8, a header row and one row per outcome; undefined " +
    "values are empty cells. Formula triggers in text fields are prefixed with `'`.",
  tags: [TAGS.splitTests],
  security: SECURITY.apiKey,
  params: {
    type: "object",
    required: ["ruleId"],
    properties: { ruleId: { ...RULE_ID, description: "The rule id, percent-encoded.", examples: ["article-22"] } },
  },
  querystring: {
    type: "object",
    properties: {
      conversion: {
        type: "string",
        description: "Count only conversions of this type (any type when omitted).",
        examples: ["REGISTERED"],
      },
      from: {
        type: "string",
        format: "date",
        description: "First UTC day of the cohort, inclusive.",
        examples: ["2026-03-01"],
      },
      to: { type: "string", format: "date", description: "Last UTC day, inclusive.", examples: ["2026-03-31"] },
      baselineOutcomeId: {
        type: "string",
        description: "The outcome compared against (the first by id when omitted).",
      },
      confidenceLevel: {
        type: "string",
        description: "A number in (0, 1); 0.95 when omitted.",
        examples: ["0.95"],
      },
    },
  },
  response: {
    200: {
      description: "The statistics, as an attachment (`Content-Disposition`), never cached.",
      content: { "text/csv": { schema: { type: "string" }, example: CSV_EXAMPLE } },
    },
    400: messageResponse(
      "detail",
      "A bad filter, or a rule id too long.",
      "from: from must be a day YYYY-MM-DD on or before to",
    ),
    401: messageResponse("detail", "`X-API-Key` missing, unknown or revoked.", "Invalid API key"),
    503: {
      ...messageResponse(
        "detail",
        "The database is not answering within `DB_UNAVAILABLE_TIMEOUT_MS`.",
        "The database is not answering, retry shortly",
      ),
      headers: RESPONSE_HEADERS.retryAfter,
    },
  },
};
