// Builds the analytics page (web/analytics) into dist/web/analytics, served by the subgraph at
// /analytics: no CDN, no inline script (the page's Content-Security-Policy forbids both).
import { fileURLToPath } from "node:url";
import { defineConfig } from "vite";

const root = fileURLToPath(new URL("./analytics", import.meta.url));

export default defineConfig({
  root,
  base: "/analytics/",
  // Nothing is copied from a public folder: every file served is one the build produced.
  publicDir: false,
  build: {
    outDir: fileURLToPath(new URL("../dist/web/analytics", import.meta.url)),
    emptyOutDir: true,
    // Browsers of the last few years; no legacy polyfills, nothing inlined as data: URLs.
    target: "es2022",
    assetsInlineLimit: 0,
    sourcemap: false,
    reportCompressedSize: false,
  },
  logLevel: "warn",
});
