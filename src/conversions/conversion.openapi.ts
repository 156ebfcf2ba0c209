// OpenAPI documentation of POST /api/v2/conversions and its batch (documentation only: the routes
// parse their bodies themselves, see schemasDocumentOnly).
import { EMAIL_MAX_LENGTH } from "../contacts/email";
import { idempotencyKeyHeader, messageResponse, RESPONSE_HEADERS, SECURITY, TAGS } from "../http/openapi";
import { LOG_CONVERSIONS_MAX_ITEMS } from "./conversion.service";
import {
  CONVERSION_DATA_MAX_BYTES,
  CONVERSION_DATA_MAX_DEPTH,
  CONVERSION_TYPE_MAX_LENGTH,
} from "./log-conversion.input";

const CONVERSION_FIELDS = {
  email: {
    type: "string",
    minLength: 1,
    maxLength: EMAIL_MAX_LENGTH,
    description: "A contact of the key's organisation; matched after trimming and lower-casing.",
  },
  conversion_type: {
    type: ["string", "null"],
    maxLength: CONVERSION_TYPE_MAX_LENGTH,
    description: "Stored and compared exactly as sent.",
  },
  conversion_data: {
    type: ["object", "null"],
    description: `Any JSON object of at most ${CONVERSION_DATA_MAX_BYTES / 1024} KiB and ${CONVERSION_DATA_MAX_DEPTH} levels of nesting.`,
  },
} as const;

/** One issue of FastAPI's (pydantic v2's) 422 `detail` list. */
const VALIDATION_ISSUE = {
  type: "object",
  required: ["type", "loc", "msg"],
  properties: {
    type: { type: "string", description: "pydantic's issue type: `missing`, `string_too_long`, `json_invalid`..." },
    loc: { type: "array", items: { type: ["string", "integer"] } },
    msg: { type: "string" },
  },
  additionalProperties: false,
} as const;

const UNAUTHENTICATED = messageResponse(
  "detail",
  "`X-API-Key` missing, unknown or revoked (checked before the body is read).",
  "Invalid API key",
);
const TOO_LARGE = (limit: string) => messageResponse("detail", `Body over ${limit}.`, "Request body too large");
const RATE_LIMITED = {
  ...messageResponse(
    "detail",
    "Over `API_KEY_RATE_LIMIT_PER_SECOND` (off by default).",
    "Too many requests: retry in 1 s",
  ),
  headers: RESPONSE_HEADERS.rateLimit,
};
const UNAVAILABLE = {
  ...messageResponse(
    "detail",
    "Writer queue full, shutting down, or the database not answering within `DB_UNAVAILABLE_TIMEOUT_MS`.",
    "The database is not answering, retry shortly",
  ),
  headers: RESPONSE_HEADERS.retryAfter,
};

export const logConversionDocumentation = {
  summary: "Log a contact's conversion",
  description:
    "The legacy FastAPI endpoint. The body is read as JSON whatever its `Content-Type`. A contact's conversion is " +
    "stored (`202`); an email that is no contact stores nothing (`200`). With an `Idempotency-Key`, a retry of the " +
    "same request answers what the first answered and stores nothing.",
  tags: [TAGS.conversions],
  security: SECURITY.apiKey,
  consumes: ["application/json", "text/plain"],
  headers: {
    type: "object",
    properties: idempotencyKeyHeader(
      "1-255 visible ASCII characters; a request already stored with it is answered again, not stored twice.",
    ),
  },
  body: {
    type: "object",
    required: ["email"],
    properties: CONVERSION_FIELDS,
    "x-examples": {
      contact: {
        summary: "A contact's purchase: stored",
        value: {
          email: "user@example.com",
          conversion_type: "purchase",
          conversion_data: { item: "premium_subscription", price: 99.99 },
        },
      },
      stranger: {
        summary: "An email that is no contact: nothing stored",
        value: { email: "stranger@example.com", conversion_type: "purchase" },
      },
      invalid: {
        summary: "A conversion type over 63 characters: 422",
        value: { email: "user@example.com", conversion_type: "p".repeat(CONVERSION_TYPE_MAX_LENGTH + 1) },
      },
    },
  },
  response: {
    200: {
      description: "The email is no contact of the key's organisation: nothing is stored.",
      type: "object",
      required: ["status"],
      properties: { status: { const: "CONTACT_NOT_FOUND" } },
      additionalProperties: false,
      examples: [{ status: "CONTACT_NOT_FOUND" }],
    },
    202: {
      description: "The conversion is stored (or, with `Idempotent-Replayed: true`, was already).",
      headers: RESPONSE_HEADERS.replayed,
      type: "object",
      required: ["status"],
      properties: { status: { const: "ACCEPTED" } },
      additionalProperties: false,
      examples: [{ status: "ACCEPTED" }],
    },
    401: UNAUTHENTICATED,
    409: {
      ...messageResponse(
        "detail",
        "A request with this `Idempotency-Key` is still in flight after 10 s.",
        "A request with this Idempotency-Key is still being processed: retry shortly",
      ),
      headers: RESPONSE_HEADERS.retryAfter,
    },
    413: TOO_LARGE("64 KiB"),
    422: {
      description:
        "The body does not fit (FastAPI's list of issues), or the `Idempotency-Key` was already used with a " +
        "different request (one message).",
      type: "object",
      required: ["detail"],
      properties: { detail: { anyOf: [{ type: "array", items: VALIDATION_ISSUE }, { type: "string" }] } },
      additionalProperties: false,
      examples: [
        {
          detail: [
            {
              type: "string_too_long",
              loc: ["body", "conversion_type"],
              msg: "String should have at most 63 characters",
            },
          ],
        },
      ],
    },
    429: RATE_LIMITED,
    503: UNAVAILABLE,
  },
};

const BATCH_RESULT = {
  anyOf: [
    {
      type: "object",
      required: ["status"],
      properties: { status: { enum: ["ACCEPTED", "CONTACT_NOT_FOUND", "REPLAYED"] } },
      additionalProperties: false,
    },
    {
      type: "object",
      required: ["status", "detail"],
      properties: { status: { const: "INVALID" }, detail: { type: "array", items: VALIDATION_ISSUE } },
      additionalProperties: false,
    },
  ],
} as const;

export const logConversionsDocumentation = {
  summary: "Log a batch of conversions",
  description:
    `1-${LOG_CONVERSIONS_MAX_ITEMS} items, each validated like \`POST /api/v2/conversions\`; an invalid item never ` +
    "fails a valid one. The answer lists the items' results in input order, once every accepted item is " +
    "committed. Item keys (`idempotency_key`) share the single endpoint's key space.",
  tags: [TAGS.conversions],
  security: SECURITY.apiKey,
  consumes: ["application/json", "text/plain"],
  body: {
    type: "object",
    required: ["conversions"],
    properties: {
      conversions: {
        type: "array",
        minItems: 1,
        maxItems: LOG_CONVERSIONS_MAX_ITEMS,
        items: {
          type: "object",
          required: ["email"],
          properties: {
            ...CONVERSION_FIELDS,
            idempotency_key: {
              type: ["string", "null"],
              minLength: 1,
              maxLength: 255,
              description: "1-255 visible ASCII characters, e.g. your event id.",
            },
          },
        },
      },
    },
    "x-examples": {
      mixed: {
        summary: "A contact's purchase, a stranger and an invalid item",
        value: {
          conversions: [
            { email: "user@example.com", conversion_type: "purchase", idempotency_key: "order-1042" },
            { email: "stranger@example.com", conversion_type: "purchase" },
            { email: "", conversion_type: "purchase" },
          ],
        },
      },
    },
  },
  response: {
    200: {
      description: "One result per item, in input order.",
      type: "object",
      required: ["results"],
      properties: { results: { type: "array", items: BATCH_RESULT } },
      additionalProperties: false,
      examples: [
        {
          results: [
            { status: "ACCEPTED" },
            { status: "CONTACT_NOT_FOUND" },
            {
              status: "INVALID",
              detail: [
                {
                  type: "string_too_short",
                  loc: ["body", "conversions", 2, "email"],
                  msg: "String should have at least 1 character",
                },
              ],
            },
          ],
        },
      ],
    },
    401: UNAUTHENTICATED,
    413: TOO_LARGE("1 MiB"),
    422: {
      description: "The envelope does not fit (FastAPI's list of issues).",
      type: "object",
      required: ["detail"],
      properties: { detail: { type: "array", items: VALIDATION_ISSUE } },
      additionalProperties: false,
      examples: [{ detail: [{ type: "missing", loc: ["body", "conversions"], msg: "Field required" }] }],
    },
    429: RATE_LIMITED,
    503: UNAVAILABLE,
  },
};
