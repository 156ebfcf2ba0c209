// GET /analytics: the results page built from web/analytics (npm run build, or on first start) into
// dist/web/analytics, served with a strict Content-Security-Policy. The page holds no figures: it
// fetches them from /graphql with the reader's own key, so its files are the same for everyone.
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import fastifyStatic from "@fastify/static";
import type { FastifyInstance } from "fastify";

/** No inline script or style, nothing from another origin, no framing, requests to this origin only. */
export const ANALYTICS_PAGE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join("; ");

const PAGE_HEADERS: Record<string, string> = {
  "content-security-policy": ANALYTICS_PAGE_CSP,
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "cross-origin-opener-policy": "same-origin",
  "cross-origin-resource-policy": "same-origin",
};

/** The folder holding package.json, from src/http (tests) or dist/src/http (the built service). */
function packageRoot(from: string): string {
  let directory = from;
  while (!existsSync(join(directory, "package.json"))) {
    const parent = dirname(directory);
    if (parent === directory) return from;
    directory = parent;
  }
  return directory;
}

export const ANALYTICS_PAGE_DIRECTORY = join(packageRoot(__dirname), "dist", "web", "analytics");

export async function analyticsPage(app: FastifyInstance, { directory = ANALYTICS_PAGE_DIRECTORY } = {}) {
  if (!existsSync(join(directory, "index.html"))) {
    // A checkout compiled with tsc alone: say how to build the page rather than a bare 404.
    app.get("/analytics", { schema: { hide: true } }, async (_request, reply) =>
      reply
        .status(503)
        .type("text/plain; charset=utf-8")
        .send("The analytics page is not built: run `npm run build` (npm start does it when needed)."),
    );
    return;
  }
  await app.register(fastifyStatic, {
    root: directory,
    prefix: "/analytics/",
    // One route per built file, found at start: nothing else under /analytics/ is ever read.
    wildcard: false,
    schemaHide: true,
    cacheControl: false,
    setHeaders: (reply, path) => {
      reply.headers(PAGE_HEADERS);
      // Built assets are named by their content: cache them for good. The page itself is revalidated
      // so a new build is picked up at once.
      reply.header(
        "cache-control",
        path.includes(`${join("analytics", "assets")}`) ? "public, max-age=31536000, immutable" : "no-cache",
      );
    },
  });
  app.get("/analytics", { schema: { hide: true } }, (_request, reply) => reply.sendFile("index.html"));
}
