// The GraphQL warm-up at start (STATS_WARM_UP): the series query it runs is valid against the service's own
// schema and answered from the synthetic series, every figure of every day; a failed answer is an error.
import { ApolloServer } from "@apollo/server";
import { ApolloServerPluginInlineTraceDisabled } from "@apollo/server/plugin/disabled";
import { describe, expect, it, vi } from "vitest";
import { createGraphQLContext, type GraphQLContext } from "../../src/graphql/context";
import { warmUpOperation } from "../../src/graphql/warm-up";
import type { RuleService } from "../../src/rules/rule.service";
import {
  rulesAnsweringSeries,
  SERIES_WARM_UP_REQUEST,
  SERIES_WARM_UP_ROUNDS,
  warmUpIdentification,
} from "../../src/rules/rule.warm-up";
import { warmUpSeries } from "../../src/rules/rule-figures";
import { buildConversionsSubgraphSchema } from "../../src/subgraph";

type Services = { rules: RuleService };
const request = { host: undefined, ip: "127.0.0.1", headers: {}, cookies: {}, query: {} };

async function startServer() {
  const server = new ApolloServer<GraphQLContext<Services>>({
    schema: await buildConversionsSubgraphSchema(),
    plugins: [ApolloServerPluginInlineTraceDisabled()],
  });
  await server.start();
  return server;
}

describe("the GraphQL warm-up", () => {
  it("runs the series query over the synthetic series, every figure answered", async () => {
    const server = await startServer();
    const series = await warmUpSeries();
    const rules = rulesAnsweringSeries({} as RuleService, series);
    const context = createGraphQLContext({ rules }, warmUpIdentification, "warm-up", request);
    const execute = vi.spyOn(server, "executeOperation");
    await warmUpOperation(server, SERIES_WARM_UP_REQUEST, context, SERIES_WARM_UP_ROUNDS);
    expect(execute).toHaveBeenCalledTimes(SERIES_WARM_UP_ROUNDS);

    const { body } = await server.executeOperation(SERIES_WARM_UP_REQUEST, { contextValue: context });
    if (body.kind !== "single") throw new Error("expected a single result");
    expect(body.singleResult.errors).toBeUndefined();
    const days = (body.singleResult.data as { outcomeConversionSeries: { days: unknown[] } }).outcomeConversionSeries
      .days;
    expect(days).toHaveLength(series.days.length);
    expect(days.length).toBeGreaterThan(100);
    // Numbers throughout (null would leave the completion of numbers cold): the last day's figures.
    const last = series.days.at(-1)?.outcomes ?? [];
    expect(last).toHaveLength(10);
    for (const outcome of last.slice(1)) {
      for (const figure of [outcome.conversionRate, outcome.uplift, outcome.pValue, outcome.probabilityToBeBest]) {
        expect(Number.isFinite(figure)).toBe(true);
      }
    }
    expect(days.at(-1)).toEqual({ day: series.days.at(-1)?.day, outcomes: last });
    await server.stop();
  });

  it("fails when an answer has errors", async () => {
    const server = await startServer();
    const rules = Object.create({}, { series: { value: async () => Promise.reject(new Error("no series")) } });
    const context = createGraphQLContext({ rules }, warmUpIdentification, "warm-up", request);
    await expect(warmUpOperation(server, SERIES_WARM_UP_REQUEST, context, 1)).rejects.toThrow(
      "the warm-up operation failed: no series",
    );
    await server.stop();
  });
});
