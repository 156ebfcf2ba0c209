// The REST shim's OpenAPI document, checked against the running app over real HTTP: it is a valid
// OpenAPI 3.1 document, it documents every REST route, and every example request it documents gets
// a documented status whose body fits the documented schema. /docs is served from local assets.
import { validate } from "@readme/openapi-parser";
import Ajv2020 from "ajv/dist/2020";
import addFormats from "ajv-formats";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTenant, http, startTestApp, type Tenant, type TestApp } from "../helpers/app";

interface Parameter {
  in: "path" | "query" | "header" | "cookie";
  name: string;
  example?: string;
}
interface Media {
  schema: object;
  example?: unknown;
  examples?: Record<string, { value: unknown }>;
}
interface Operation {
  summary?: string;
  tags?: string[];
  security?: Record<string, string[]>[];
  parameters?: Parameter[];
  requestBody?: { content: Record<string, Media> };
  responses: Record<string, { description: string; content?: Record<string, Media> }>;
}
interface Document {
  openapi: string;
  paths: Record<string, Record<string, Operation>>;
  components: { securitySchemes: Record<string, { type: string; in: string; name: string }> };
}

const REST_ROUTES = [
  "GET /health",
  "GET /ready",
  "POST /api/v2/conversions",
  "POST /api/v2/conversions/batch",
  "POST /zephr/public/rule-outcomes/v1/conversions",
  "POST /zephr/public/rule-outcomes/v1/exposures",
  "GET /api/v1/rules/{ruleId}/outcome-stats.csv",
];
const INGEST_ROUTES = [
  "POST /api/v2/conversions",
  "POST /zephr/public/rule-outcomes/v1/conversions",
  "POST /zephr/public/rule-outcomes/v1/exposures",
];
const TRACKING_ID = "dc8f7f9e-2deb-4485-a9f0-34b44fc7f45e";

let app: TestApp;
let tenant: Tenant;
let document: Document;

beforeAll(async () => {
  app = await startTestApp();
  // The examples' contact, and the examples' public calls belong to the key's organisation.
  tenant = await createTenant(app, ["user@example.com"]);
  await app.server.services.sites.add(tenant.organisationId, new URL(app.url).hostname);
  const answer = await http<Document>(`${app.url}/openapi.json`);
  expect(answer.status).toBe(200);
  document = answer.body;
});
afterAll(async () => {
  await app?.stop();
});

const operations = () =>
  Object.entries(document.paths).flatMap(([path, methods]) =>
    Object.entries(methods).map(([method, operation]) => ({
      route: `${method.toUpperCase()} ${path}`,
      path,
      method,
      operation,
    })),
  );

/** The credentials an operation's security schemes ask for, as request headers. */
function credentials(operation: Operation): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const requirement of operation.security ?? []) {
    for (const name of Object.keys(requirement)) {
      const scheme = document.components.securitySchemes[name];
      if (scheme.in === "header") headers[scheme.name.toLowerCase()] = tenant.apiKey;
      if (scheme.in === "cookie") headers.cookie = `${scheme.name}=${TRACKING_ID}`;
    }
  }
  return headers;
}

/** The URL with the documented examples of the path and query parameters. */
function exampleUrl(path: string, operation: Operation): string {
  const parameters = operation.parameters ?? [];
  for (const parameter of parameters) {
    if (parameter.in !== "path") continue;
    expect(parameter.example, `example of path parameter ${parameter.name}`).toBeDefined();
    path = path.replace(`{${parameter.name}}`, encodeURIComponent(String(parameter.example)));
  }
  const query = new URLSearchParams(
    parameters
      .filter((parameter) => parameter.in === "query" && parameter.example !== undefined)
      .map((parameter): [string, string] => [parameter.name, String(parameter.example)]),
  );
  return `${app.url}${path}${query.size > 0 ? `?${query}` : ""}`;
}

/** Each documented example request body (none: one request without a body). */
function exampleBodies(operation: Operation): { name: string; body?: string }[] {
  const media = operation.requestBody?.content["application/json"];
  if (!operation.requestBody) return [{ name: "no body" }];
  expect(media?.examples, "named examples of the request body").toBeDefined();
  return Object.entries(media?.examples ?? {}).map(([name, example]) => ({
    name,
    body: JSON.stringify(example.value),
  }));
}

const ajv = addFormats(new Ajv2020({ strict: false, allErrors: true }));

/** The live answer has a documented status, and its body fits what that status documents. */
async function expectDocumentedAnswer(
  route: string,
  operation: Operation,
  url: string,
  init: { method: string; headers: Record<string, string>; body?: string },
) {
  const answer = await http(url, init);
  const documented = operation.responses[String(answer.status)];
  expect(documented, `${route} answered ${answer.status}: ${answer.text}`).toBeDefined();
  if (!documented.content) {
    expect(answer.text, `${route} ${answer.status} has no documented body`).toBe("");
    return answer;
  }
  const contentType = answer.headers.get("content-type")?.split(";")[0].trim() ?? "";
  const media = documented.content[contentType];
  expect(media, `${route} ${answer.status} answered ${contentType}`).toBeDefined();
  const body = contentType === "application/json" ? JSON.parse(answer.text) : answer.text;
  const check = ajv.compile(media.schema);
  expect(check(body), `${route} ${answer.status}: ${answer.text}\n${ajv.errorsText(check.errors)}`).toBe(true);
  return answer;
}

describe("GET /openapi.json", () => {
  it("is a valid OpenAPI 3.1 document", async () => {
    expect(document.openapi).toBe("3.1.0");
    const result = await validate(structuredClone(document) as never);
    expect(result.valid ? [] : result.errors).toEqual([]);
    // The validator does check 3.1 documents: a broken one is refused.
    const broken = structuredClone(document) as any;
    broken.paths["/health"].get.responses = { 200: { content: {} } };
    expect((await validate(broken)).valid).toBe(false);
  });

  it("documents every REST route, and nothing else", () => {
    expect(operations().map(({ route }) => route)).toEqual(REST_ROUTES);
  });

  it("documents each route: summary, tag, every status with a description and an example", () => {
    for (const { route, operation } of operations()) {
      expect(operation.summary, route).toBeTruthy();
      expect(operation.tags?.length, route).toBe(1);
      for (const [status, response] of Object.entries(operation.responses)) {
        expect(response.description, `${route} ${status}`).not.toBe("Default Response");
        for (const [type, media] of Object.entries(response.content ?? {})) {
          expect(media.example, `${route} ${status} ${type} example`).toBeDefined();
          // The example fits its own schema.
          expect(ajv.validate(media.schema, media.example), `${route} ${status} ${type} example`).toBe(true);
        }
      }
    }
  });

  it("documents the security schemes and the Idempotency-Key header of the ingest routes", () => {
    expect(document.components.securitySchemes).toMatchObject({
      apiKey: { type: "apiKey", in: "header", name: "X-API-Key" },
      trackingCookie: { type: "apiKey", in: "cookie", name: "blaize_tracking_id" },
    });
    const security = Object.fromEntries(operations().map(({ route, operation }) => [route, operation.security]));
    expect(security).toEqual({
      "GET /health": undefined,
      "GET /ready": undefined,
      "POST /api/v2/conversions": [{ apiKey: [] }],
      "POST /api/v2/conversions/batch": [{ apiKey: [] }],
      "POST /zephr/public/rule-outcomes/v1/conversions": [{ trackingCookie: [] }],
      "POST /zephr/public/rule-outcomes/v1/exposures": [{ trackingCookie: [] }],
      "GET /api/v1/rules/{ruleId}/outcome-stats.csv": [{ apiKey: [] }],
    });
    for (const { route, operation } of operations()) {
      const idempotencyKey = operation.parameters?.find(
        (parameter) => parameter.in === "header" && parameter.name === "Idempotency-Key",
      );
      expect(idempotencyKey !== undefined, route).toBe(INGEST_ROUTES.includes(route));
    }
  });

  it("every documented example request gets a documented status and body", async () => {
    const seen: string[] = [];
    for (const { route, path, method, operation } of operations()) {
      for (const { name, body } of exampleBodies(operation)) {
        const answer = await expectDocumentedAnswer(route, operation, exampleUrl(path, operation), {
          method: method.toUpperCase(),
          headers: { ...credentials(operation), ...(body === undefined ? {} : { "content-type": "application/json" }) },
          body,
        });
        seen.push(`${route} ${name}: ${answer.status}`);
      }
      // Without the credentials its security asks for, the answer is documented too.
      if (operation.security) {
        const [first] = exampleBodies(operation);
        const answer = await expectDocumentedAnswer(route, operation, exampleUrl(path, operation), {
          method: method.toUpperCase(),
          headers: first.body === undefined ? {} : { "content-type": "application/json" },
          body: first.body,
        });
        seen.push(`${route} without credentials: ${answer.status}`);
      }
    }
    expect(seen).toEqual([
      "GET /health no body: 200",
      "GET /ready no body: 200",
      "POST /api/v2/conversions contact: 202",
      "POST /api/v2/conversions stranger: 200",
      "POST /api/v2/conversions invalid: 422",
      "POST /api/v2/conversions without credentials: 401",
      "POST /api/v2/conversions/batch mixed: 200",
      "POST /api/v2/conversions/batch without credentials: 401",
      "POST /zephr/public/rule-outcomes/v1/conversions registered: 201",
      "POST /zephr/public/rule-outcomes/v1/conversions missingOutcome: 400",
      "POST /zephr/public/rule-outcomes/v1/conversions without credentials: 400",
      "POST /zephr/public/rule-outcomes/v1/exposures exposure: 201",
      "POST /zephr/public/rule-outcomes/v1/exposures without credentials: 400",
      "GET /api/v1/rules/{ruleId}/outcome-stats.csv no body: 200",
      "GET /api/v1/rules/{ruleId}/outcome-stats.csv without credentials: 401",
    ]);
  });

  it("documents without validating: a body against the schema still gets the legacy answer", async () => {
    const answer = await http(`${app.url}/api/v2/conversions`, {
      method: "POST",
      headers: { "x-api-key": tenant.apiKey, "content-type": "text/plain" },
      body: JSON.stringify({ email: 42, unknown: true }),
    });
    expect(answer.status).toBe(422);
    expect(answer.body).toEqual({
      detail: [{ type: "string_type", loc: ["body", "email"], msg: "Input should be a valid string" }],
    });
  });
});

describe("GET /docs", () => {
  it("serves the interactive reference from local assets only", async () => {
    const page = await http(`${app.url}/docs`);
    expect(page.status).toBe(200);
    expect(page.headers.get("content-type")).toMatch(/^text\/html/);
    const references = [...page.text.matchAll(/(?:src|href)="([^"]+)"/g)].map((match) => match[1]);
    expect(references.length).toBeGreaterThan(2);
    for (const reference of references) {
      expect(reference, "a local asset").toMatch(/^\/(?!\/)/);
      expect((await http(`${app.url}${reference}`)).status, reference).toBe(200);
    }
    expect(page.text).not.toMatch(/https?:\/\//);
    const initializer = await http(`${app.url}/docs/static/swagger-initializer.js`);
    expect(initializer.text).not.toMatch(/https?:\/\/(?!stackoverflow)/);
  });
});
