// REST compatibility shim of the legacy FastAPI endpoint POST /api/v2/conversions:
// request -> the same ConversionService as GraphQL -> the legacy statuses and bodies.
import type { FastifyInstance } from "fastify";
import { principalOf } from "../auth/api-key.plugin";
import { type FieldIssue, InvalidInput } from "../errors";
import { restErrorHandler } from "../http/error-handler";
import { headerOf } from "../http/headers";
import { acceptAnyBodyAsText, parseJsonObjectBody } from "../http/json-body";
import { schemasDocumentOnly } from "../http/openapi";
import type { ConversionServices } from "./conversion.loaders";
import { logConversionDocumentation, logConversionsDocumentation } from "./conversion.openapi";
import type { RawLoggedConversion } from "./conversion.service";

/** Stands in for a batch item that is not an object: the service sees it invalid, the answer says why. */
const NOT_AN_OBJECT: RawLoggedConversion = { email: null };

export const LEGACY_CONVERSIONS_BODY_LIMIT = 64 * 1024;
/** POST /api/v2/conversions/batch: the whole body at most. */
export const BATCH_BODY_LIMIT = 1024 * 1024;

/** Wire (snake_case) names of the input's fields, for FastAPI's `loc`. */
const WIRE_NAMES: Record<string, string> = {
  email: "email",
  conversionType: "conversion_type",
  conversionData: "conversion_data",
  idempotencyKey: "idempotency_key",
};

/** FastAPI's `loc` of an issue: body fields by their wire names; the single endpoint's key is a header. */
function locOf(path: (string | number)[], prefix: (string | number)[]): (string | number)[] {
  if (prefix.length === 0 && path.length === 1 && path[0] === "idempotencyKey") return ["header", "idempotency-key"];
  return ["body", ...prefix, ...path.map((part) => (typeof part === "string" ? (WIRE_NAMES[part] ?? part) : part))];
}

export function fastApiValidationDetail(issues: FieldIssue[], prefix: (string | number)[] = []) {
  return {
    detail: issues.map((issue) => ({ type: issue.type, loc: locOf(issue.path, prefix), msg: issue.message })),
  };
}

/** A conversion of the legacy wire format, in the service's words. */
function fromWire(body: Record<string, unknown>, idempotencyKey: unknown): RawLoggedConversion {
  return {
    email: body.email,
    conversionType: body.conversion_type,
    conversionData: body.conversion_data,
    idempotencyKey,
  };
}

const BATCH_STATUS = { ACCEPTED: "ACCEPTED", CONTACT_NOT_FOUND: "CONTACT_NOT_FOUND", INVALID: "INVALID" } as const;

/** Needs the apiKeyAuthentication plugin registered above it. */
export async function conversionRoutes(app: FastifyInstance, { conversions }: ConversionServices) {
  // FastAPI read any body as JSON whatever its Content-Type.
  acceptAnyBodyAsText(app, BATCH_BODY_LIMIT);
  schemasDocumentOnly(app);
  app.setErrorHandler(
    restErrorHandler({
      message: (message) => ({ detail: message }),
      invalidInput: (error) => ({ status: 422, body: fastApiValidationDetail(error.issues) }),
    }),
  );

  app.post(
    "/api/v2/conversions",
    {
      bodyLimit: LEGACY_CONVERSIONS_BODY_LIMIT,
      onRequest: app.authenticateApiKey,
      schema: logConversionDocumentation,
    },
    async (request, reply) => {
      const body = parseJsonObjectBody(request.body);
      const result = await conversions.logConversion(
        principalOf(request).organisationId,
        fromWire(body, headerOf(request.headers, "idempotency-key")),
        request.databaseDeadline,
      );
      if (result.replayed) reply.header("idempotent-replayed", "true");
      return reply.status(result.status === "ACCEPTED" ? 202 : 200).send({ status: result.status });
    },
  );

  app.post(
    "/api/v2/conversions/batch",
    { bodyLimit: BATCH_BODY_LIMIT, onRequest: app.authenticateApiKey, schema: logConversionsDocumentation },
    async (request, reply) => {
      const body = parseJsonObjectBody(request.body);
      const items = body.conversions;
      if (!Array.isArray(items)) {
        throw new InvalidInput([
          {
            path: ["conversions"],
            type: items === undefined ? "missing" : "list_type",
            message: items === undefined ? "Field required" : "Input should be a valid list",
          },
        ]);
      }
      const objects = items.map((item) => item !== null && typeof item === "object" && !Array.isArray(item));
      const results = await conversions.logConversions(
        principalOf(request).organisationId,
        items.map((item, index) => {
          if (!objects[index]) return NOT_AN_OBJECT;
          const fields = item as Record<string, unknown>;
          return fromWire(fields, fields.idempotency_key);
        }),
        request.databaseDeadline,
      );
      return reply.status(200).send({
        results: results.map((result, index) => {
          if (!objects[index]) {
            return {
              status: BATCH_STATUS.INVALID,
              detail: [
                {
                  type: "model_attributes_type",
                  loc: ["body", "conversions", index],
                  msg: "Input should be a valid dictionary or object to extract fields from",
                },
              ],
            };
          }
          if (result.status === "INVALID") {
            return {
              status: BATCH_STATUS.INVALID,
              detail: fastApiValidationDetail(result.issues, ["conversions", index]).detail,
            };
          }
          return { status: result.replayed ? "REPLAYED" : BATCH_STATUS[result.status] };
        }),
      });
    },
  );
}
