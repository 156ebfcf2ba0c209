// REST compatibility shim of the legacy FastAPI endpoint POST /api/v2/conversions:
// request -> the same ConversionService as GraphQL -> the legacy statuses and bodies.
import type { FastifyInstance } from "fastify";
import { principalOf } from "../auth/api-key.plugin";
import type { FieldIssue } from "../errors";
import { restErrorHandler } from "../http/error-handler";
import { acceptAnyBodyAsText, parseJsonObjectBody } from "../http/json-body";
import type { ConversionServices } from "./conversion.loaders";

export const LEGACY_CONVERSIONS_BODY_LIMIT = 64 * 1024;

/** Wire (snake_case) names of the input's fields, for FastAPI's `loc`. */
const WIRE_NAMES: Record<string, string> = {
  email: "email",
  conversionType: "conversion_type",
  conversionData: "conversion_data",
};

export function fastApiValidationDetail(issues: FieldIssue[]) {
  return {
    detail: issues.map((issue) => {
      const [field, ...rest] = issue.path;
      const loc = field === undefined ? ["body"] : ["body", WIRE_NAMES[field] ?? field, ...rest];
      return { type: issue.type, loc, msg: issue.message };
    }),
  };
}

/** Needs the apiKeyAuthentication plugin registered above it. */
export async function conversionRoutes(app: FastifyInstance, { conversions }: ConversionServices) {
  // FastAPI read any body as JSON whatever its Content-Type.
  acceptAnyBodyAsText(app, LEGACY_CONVERSIONS_BODY_LIMIT);
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
    },
    async (request, reply) => {
      const body = parseJsonObjectBody(request.body);
      const result = await conversions.logConversion(principalOf(request).organisationId, {
        email: body.email,
        conversionType: body.conversion_type,
        conversionData: body.conversion_data,
      });
      return reply.status(result.status === "ACCEPTED" ? 202 : 200).send({ status: result.status });
    },
  );
}
