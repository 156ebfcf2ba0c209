// schema/conversions.graphql is the subgraph SDL exactly as the running service returns it.
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CONVERSIONS_ROUTING_URL, composeSupergraph } from "../../scripts/compose-supergraph";
import { graphql, startTestApp, type TestApp } from "../helpers/app";

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp();
});
afterAll(() => app?.stop());

describe("schema/conversions.graphql", () => {
  it("matches { _service { sdl } } of the running subgraph (regenerate with npm run schema:print)", async () => {
    const response = await graphql(app, "{ _service { sdl } }");
    const running = `${response.body.data._service.sdl.trimEnd()}\n`;
    expect(readFileSync("schema/conversions.graphql", "utf8")).toBe(running);
  });
});

describe("deploy/supergraph.graphql", () => {
  it("is the composition of the checked-in subgraph SDL (regenerate with npm run supergraph)", () => {
    const composed = composeSupergraph(readFileSync("schema/conversions.graphql", "utf8"));
    expect(readFileSync("deploy/supergraph.graphql", "utf8")).toBe(composed);
    expect(composed).toContain(`@join__graph(name: "conversions", url: "${CONVERSIONS_ROUTING_URL}")`);
  });
});
