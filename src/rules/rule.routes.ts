// REST for split tests: the legacy Zephr endpoints (400/404/401 as {"message"}), our exposures
// extension, and the CSV download of outcome statistics. Each maps onto the same RuleService
// and validation as the GraphQL resolvers.
import fastifyCors from "@fastify/cors";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { principalOf } from "../auth/api-key.plugin";
import { publicRequest, type Visitor, type VisitorIdentifier } from "../auth/visitor";
import { InvalidInput } from "../errors";
import { restErrorHandler } from "../http/error-handler";
import { headerOf } from "../http/headers";
import { acceptAnyBodyAsText, parseJsonObjectBody } from "../http/json-body";
import { schemasDocumentOnly } from "../http/openapi";
import { publicIdempotencyKey } from "../idempotency/idempotency.service";
import type { SiteService } from "../sites/site.service";
import { outcomeStatsCsv, outcomeStatsFileName } from "./outcome-stats.csv";
import { parseSampleSizeInput, RULE_ID_MAX_LENGTH } from "./rule.input";
import type { RuleServices } from "./rule.loaders";
import {
  outcomeStatsCsvDocumentation,
  recordConversionDocumentation,
  recordExposureDocumentation,
} from "./rule.openapi";

export interface ZephrRouteOptions extends RuleServices {
  visitors: VisitorIdentifier;
  sites: SiteService;
}

export const ZEPHR_BODY_LIMIT = 16 * 1024;

/** The Idempotency-Key header, else the body's eventId (sendBeacon cannot set headers). */
const keyOf = (request: FastifyRequest, body: Record<string, unknown>) =>
  publicIdempotencyKey(headerOf(request.headers, "idempotency-key"), body.eventId);

/** POST /zephr/public/rule-outcomes/v1/conversions and .../exposures: 201 once stored. */
export async function zephrRoutes(app: FastifyInstance, { rules, visitors, sites }: ZephrRouteOptions) {
  acceptAnyBodyAsText(app, ZEPHR_BODY_LIMIT);
  schemasDocumentOnly(app);
  // Pages of the organisation's own sites may call from another origin (e.g. www.example.com to
  // tracking.example.com), with cookies; any other origin gets no CORS headers.
  await app.register(fastifyCors, {
    delegator: async (request: FastifyRequest) => {
      const origin = request.headers.origin;
      if (!origin) return { origin: false };
      try {
        const organisationId = await sites.resolveTenantFromHost(request.host);
        const allowed = await sites.isOriginOf(origin, organisationId);
        return allowed
          ? {
              origin: true,
              credentials: true,
              methods: ["POST"],
              allowedHeaders: ["Content-Type", "Authorization", "X-Blaize-Jwt", "X-Zephr-Jwt", "Idempotency-Key"],
              maxAge: 600,
            }
          : { origin: false };
      } catch {
        return { origin: false };
      }
    },
  });
  app.setErrorHandler(
    restErrorHandler({
      message: (message) => ({ message }),
      invalidInput: (error) => ({ status: 400, body: { message: error.message } }),
    }),
  );

  // Both endpoints: the visitor, the body as JSON, its key (header or eventId), 201 once stored.
  const recording =
    (record: (visitor: Visitor, raw: Record<string, unknown>, deadline: number) => Promise<{ replayed: boolean }>) =>
    async (request: FastifyRequest, reply: FastifyReply) => {
      const visitor = await visitors.identify(publicRequest(request));
      const body = parseJsonObjectBody(request.body);
      const recorded = await record(
        visitor,
        { ...body, idempotencyKey: keyOf(request, body) },
        request.databaseDeadline,
      );
      if (recorded.replayed) reply.header("idempotent-replayed", "true");
      return reply.status(201).send();
    };

  app.post(
    "/zephr/public/rule-outcomes/v1/conversions",
    { bodyLimit: ZEPHR_BODY_LIMIT, schema: recordConversionDocumentation },
    recording((visitor, raw, deadline) => rules.recordConversion(visitor, raw, deadline)),
  );
  app.post(
    "/zephr/public/rule-outcomes/v1/exposures",
    { bodyLimit: ZEPHR_BODY_LIMIT, schema: recordExposureDocumentation },
    recording((visitor, raw, deadline) => rules.recordExposure(visitor, raw, deadline)),
  );
}

/**
 * The router's limit on a path parameter (Fastify's default is 100): the CSV route's rule id, the
 * only one, fits at its longest even percent-encoded as 4-byte UTF-8 (12 characters each).
 */
export const PATH_PARAM_MAX_LENGTH = RULE_ID_MAX_LENGTH * 12;

/** A path parameter over the router's limit is a rule id too long: the CSV route's 400 {"detail"}. */
export function answerPathParamTooLong(reply: FastifyReply) {
  return reply.status(400).send({ detail: `ruleId: ruleId must be at most ${RULE_ID_MAX_LENGTH} characters` });
}

/**
 * GET /api/v1/rules/:ruleId/outcome-stats.csv with X-API-Key: the stats as an RFC 4180 download.
 * Needs the apiKeyAuthentication plugin registered above it.
 */
export async function outcomeStatsCsvRoutes(app: FastifyInstance, { rules }: RuleServices) {
  schemasDocumentOnly(app);
  app.setErrorHandler(
    restErrorHandler({
      message: (message) => ({ detail: message }),
      invalidInput: (error) => ({ status: 400, body: { detail: error.message } }),
    }),
  );

  app.get<{ Params: { ruleId: string }; Querystring: Record<string, string | undefined> }>(
    "/api/v1/rules/:ruleId/outcome-stats.csv",
    { onRequest: app.authenticateApiKey, schema: outcomeStatsCsvDocumentation },
    async (request, reply) => {
      const { interval = "all", relativeMde, power, ...filter } = request.query;
      const organisationId = principalOf(request).organisationId;
      const query = { ...filter, ruleId: request.params.ruleId };
      let body: string;
      let fileName: string;
      if (interval === "day") {
        ({ csv: body, fileName } = await rules.seriesCsv(organisationId, query));
      } else if (interval === "all") {
        const sampleSize =
          relativeMde === undefined || relativeMde === "" ? null : parseSampleSizeInput({ relativeMde, power });
        const stats = await rules.stats(organisationId, query);
        body = outcomeStatsCsv(stats, sampleSize);
        fileName = outcomeStatsFileName(stats);
      } else {
        throw new InvalidInput([{ path: ["interval"], type: "value_error", message: "interval must be all or day" }]);
      }
      return reply
        .header("content-type", "text/csv; charset=utf-8")
        .header(
          "content-disposition",
          `attachment; filename="${fileName.replace(/[^\x20-\x7e]|["\\]/g, "_")}"; filename*=UTF-8''${encodeURIComponent(fileName)}`,
        )
        .header("cache-control", "no-store")
        .send(body);
    },
  );
}
