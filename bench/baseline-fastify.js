// Baseline of the REST paths: a bare Fastify 5 app that does no work but what every HTTP service
// does, i.e. parse the JSON body and validate it with a schema, then answer as the service does:
// POST /api/v2/conversions -> 202 {"status":"ACCEPTED"}, POST /zephr/.../conversions -> 201.
// No logger, no auth, no database. Started by bench/run.js in its own process.
"use strict";

const Fastify = require("fastify");
const { serveParent } = require("./child");

const conversionBody = {
  type: "object",
  required: ["email"],
  properties: {
    email: { type: "string", minLength: 1, maxLength: 254 },
    conversion_type: { type: ["string", "null"], maxLength: 63 },
    conversion_data: { type: ["object", "null"] },
  },
};
const ruleConversionBody = {
  type: "object",
  required: ["ruleId", "outcomeId", "conversion"],
  properties: {
    ruleId: { type: "string", minLength: 1, maxLength: 255 },
    outcomeId: {
      anyOf: [
        { type: "string", minLength: 1 },
        { type: "array", items: { type: "string" } },
      ],
    },
    conversion: { type: "string", minLength: 1, maxLength: 255 },
  },
};

async function main() {
  const app = Fastify({ logger: false });
  app.post("/api/v2/conversions", { schema: { body: conversionBody } }, async (_request, reply) =>
    reply.status(202).send({ status: "ACCEPTED" }),
  );
  app.post("/zephr/public/rule-outcomes/v1/conversions", { schema: { body: ruleConversionBody } }, async (_r, reply) =>
    reply.status(201).send(),
  );
  const url = await app.listen({ host: "127.0.0.1", port: 0 });
  serveParent(url, {}, () => app.close());
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
