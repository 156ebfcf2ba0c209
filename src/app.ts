// Builds the Fastify app: GraphQL at /graphql, the REST compatibility shim and its OpenAPI document,
// the analytics page, health endpoints.
import { randomUUID } from "node:crypto";
import { ApolloServer } from "@apollo/server";
import {
  ApolloServerPluginCacheControlDisabled,
  ApolloServerPluginLandingPageDisabled,
} from "@apollo/server/plugin/disabled";
import { ApolloServerPluginLandingPageLocalDefault } from "@apollo/server/plugin/landingPage/default";
import fastifyApollo, { fastifyApolloDrainPlugin } from "@as-integrations/fastify";
import fastifyCookie from "@fastify/cookie";
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyReply, LogController } from "fastify";
import { type Logger, pino } from "pino";
import { apiKeyAuthentication } from "./auth/api-key.plugin";
import { apiKeyFrom } from "./auth/api-key.service";
import { type PublicRequest, publicRequest } from "./auth/visitor";
import type { Config } from "./config";
import { conversionRoutes } from "./conversions/conversion.routes";
import { localSchemaGateway } from "./graphql/compiled-execution";
import { type CallerIdentification, createGraphQLContext, type GraphQLContext } from "./graphql/context";
import { graphQLErrorFormatter } from "./graphql/errors";
import { depthLimitRule, operationLimitsPlugin } from "./graphql/limits";
import { SETTLED, sharedListenerPlugin } from "./graphql/shared-listener";
import { warmUpOperation } from "./graphql/warm-up";
import { healthRoutes } from "./health/health.routes";
import { analyticsPage } from "./http/analytics-page";
import { openApiDocumentation } from "./http/openapi";
import { requestDeadline } from "./http/request-deadline";
import { httpServerOptions } from "./http/server-options";
import { loggerOptions } from "./logger";
import { metricsRoute, type ServiceMetrics } from "./metrics";
import { answerPathParamTooLong, outcomeStatsCsvRoutes, PATH_PARAM_MAX_LENGTH, zephrRoutes } from "./rules/rule.routes";
import {
  rulesAnsweringSeries,
  SERIES_WARM_UP_REQUEST,
  SERIES_WARM_UP_ROUNDS,
  warmUpIdentification,
} from "./rules/rule.warm-up";
import { warmUpSeries } from "./rules/rule-figures";
import type { Services } from "./services";
import { buildConversionsSubgraphSchema, subgraphOperationLimits } from "./subgraph";

export type AppConfig = Pick<
  Config,
  | "LOG_LEVEL"
  | "LOG_REQUESTS"
  | "TRUST_PROXY"
  | "graphqlIntrospection"
  | "graphqlLandingPage"
  | "GRAPHQL_ALLOW_BATCHING"
  | "GRAPHQL_MAX_DEPTH"
  | "GRAPHQL_MAX_COMPLEXITY"
  | "GRAPHQL_MAX_ALIASES"
  | "GRAPHQL_MAX_TOKENS"
  | "GRAPHQL_MAX_REPRESENTATIONS"
  | "GRAPHQL_COMPILE_AFTER"
  | "MAX_OUTCOMES_PER_RULE"
  | "graphqlHideSuggestions"
  | "METRICS_PORT"
  | "REQUEST_TIMEOUT_MS"
  | "HEADERS_TIMEOUT_MS"
  | "STATS_WARM_UP"
>;

/** The warm-up's request: no header, no cookie, from nowhere. */
const WARM_UP_REQUEST: PublicRequest = { host: undefined, ip: "127.0.0.1", headers: {}, cookies: {}, query: {} };

const REQUEST_ID_PATTERN = /^[A-Za-z0-9._-]{1,128}$/;

/** The service's one logger (pino), shared by the app and the services. */
export function createLogger(config: Pick<Config, "LOG_LEVEL">): Logger {
  return pino(loggerOptions(config.LOG_LEVEL));
}

/** `cache-control: no-store` on every GraphQL answer: they are per key and never stored. */
const noStorePlugin = sharedListenerPlugin<GraphQLContext<Services>>({
  willSendResponse({ response }) {
    response.http.headers.set("cache-control", "no-store");
    return SETTLED;
  },
});

export interface AppOptions {
  /** Observe every route's latency; served at /metrics here unless METRICS_PORT is set. */
  metrics?: ServiceMetrics;
}

export async function buildApp(
  config: AppConfig,
  services: Services,
  logger: Logger,
  { metrics }: AppOptions = {},
): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: logger as FastifyBaseLogger,
    // Two log lines per request cost about a tenth of the ingest path's CPU: opt-in (LOG_REQUESTS).
    // Errors are logged either way.
    logController: new LogController({ disableRequestLogging: !config.LOG_REQUESTS }),
    // Fastify accepts a hop count at run time although its types omit it.
    trustProxy: config.TRUST_PROXY as boolean | string,
    bodyLimit: 1024 * 1024,
    ...httpServerOptions(config),
    routerOptions: { maxParamLength: PATH_PARAM_MAX_LENGTH },
    // Other router errors (a malformed URL...) keep Fastify's own answer.
    frameworkErrors: (error, request, reply) => {
      if (error.code === "FST_ERR_MAX_PARAM_LENGTH") return answerPathParamTooLong(reply);
      // A path whose percent-encoding does not decode: 400 in the shape of the API it was meant for.
      if (error.code === "FST_ERR_BAD_URL") {
        const message = "The URL's path is not valid percent-encoded UTF-8";
        return (reply as FastifyReply)
          .status(400)
          .send(request.url.startsWith("/zephr/") ? { message } : { detail: message });
      }
      return (reply as FastifyReply).send(error);
    },
    // Keep a caller's request id when it is sane, so logs join up across services.
    genReqId: (request) => {
      const incoming = request.headers["x-request-id"];
      return typeof incoming === "string" && REQUEST_ID_PATTERN.test(incoming) ? incoming : randomUUID();
    },
  });
  // Hooks on every request take a callback, not an async function: no promise per request.
  app.addHook("onRequest", (request, reply, done) => {
    reply.header("x-request-id", request.id);
    done();
  });
  requestDeadline(app, services.deadline);
  // Once shutdown starts, answers close their connection: keep-alive clients must not hold the
  // process open until their idle timeout.
  let closing = false;
  app.addHook("preClose", async () => {
    closing = true;
  });
  app.addHook("onSend", (_request, reply, payload, done) => {
    if (closing) reply.header("connection", "close");
    done(null, payload);
  });

  await app.register(fastifyCookie);
  // Before the routes: it collects their schemas as they are added.
  await openApiDocumentation(app);
  await app.register(apiKeyAuthentication, { apiKeys: services.apiKeys });
  if (metrics) {
    // On the root instance: its onResponse hook must see every route.
    metrics.observeRequests(app);
    if (config.METRICS_PORT === undefined) metricsRoute(app, metrics);
  }
  await app.register(healthRoutes, { dataSource: services.dataSource, deadline: services.deadline });
  await app.register(conversionRoutes, { conversions: services.conversions });
  await app.register(zephrRoutes, {
    rules: services.rules,
    visitors: services.visitors,
    sites: services.sites,
  });
  await app.register(outcomeStatsCsvRoutes, { rules: services.rules });
  await app.register(analyticsPage);

  const schema = await buildConversionsSubgraphSchema();
  const identification: CallerIdentification = {
    authenticate: (request, calls) =>
      services.apiKeys.authenticate(apiKeyFrom(request.headers), request.databaseDeadline, calls),
    identifyVisitor: (request, trackingIdArgument) => services.visitors.identify(request, trackingIdArgument),
  };
  const apollo = new ApolloServer<GraphQLContext<Services>>({
    // The schema, executed by graphql-jit once a document comes back (see compiled-execution.ts).
    gateway: localSchemaGateway(schema, {
      executionsBeforeCompiling: config.GRAPHQL_COMPILE_AFTER,
      onCompiled: (operationName, compiled) =>
        app.log.debug({ operationName, compiled }, "GraphQL operation compiled by graphql-jit"),
    }),
    // Apollo's own messages go through the service's logger and LOG_LEVEL.
    logger: app.log,
    // `_service { sdl }` is a plain field, so the router can compose whatever this says.
    introspection: config.graphqlIntrospection,
    includeStacktraceInErrorResponses: false,
    // No "Did you mean ...?" in validation errors; the formatter strips those of variable values too.
    hideSchemaDetailsFromClientErrors: config.graphqlHideSuggestions,
    allowBatchedHttpRequests: config.GRAPHQL_ALLOW_BATCHING,
    // CSRF prevention stays on (Apollo's default): simple GETs and form posts are refused.
    // A document past the token limit is refused while parsing, before anything walks it.
    parseOptions: { maxTokens: config.GRAPHQL_MAX_TOKENS },
    validationRules: [depthLimitRule(config.GRAPHQL_MAX_DEPTH)],
    formatError: graphQLErrorFormatter(app.log as never, { hideSuggestions: config.graphqlHideSuggestions }),
    plugins: [
      fastifyApolloDrainPlugin(app),
      // The limits, and how many calls of the caller's key a mutation counts.
      operationLimitsPlugin(schema, subgraphOperationLimits(config)),
      // Apollo's default cache-control plugin hooks every resolved field (a third of the time of completing a
      // 366-day series) to compute cache hints the service never sets: its answers are per key and never
      // stored, which one header per response says as the plugin did.
      ApolloServerPluginCacheControlDisabled(),
      noStorePlugin,
      config.graphqlLandingPage
        ? ApolloServerPluginLandingPageLocalDefault({ embed: true })
        : ApolloServerPluginLandingPageDisabled(),
    ],
  });
  await apollo.start();
  if (config.STATS_WARM_UP) {
    // Before listening (server.ts): a long series' query over the synthetic warm-up series. A failure costs
    // only the first series' speed.
    const warmUpServices = { ...services, rules: rulesAnsweringSeries(services.rules, await warmUpSeries()) };
    await warmUpOperation(
      apollo,
      SERIES_WARM_UP_REQUEST,
      createGraphQLContext(warmUpServices, warmUpIdentification, "warm-up", WARM_UP_REQUEST),
      SERIES_WARM_UP_ROUNDS,
    ).catch((error) => app.log.warn({ err: error }, "the GraphQL warm-up failed"));
  }
  await app.register(fastifyApollo(apollo), {
    context: async (request) => createGraphQLContext(services, identification, request.id, publicRequest(request)),
  });
  return app;
}
