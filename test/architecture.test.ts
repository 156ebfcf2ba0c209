// The layering of src/, read from its import statements: shared layers know no domain, the
// composition root is imported by no domain, and contacts never depend on conversions.
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve, sep } from "node:path";
import { describe, expect, it } from "vitest";

const SRC = resolve(__dirname, "..", "src");
const FEATURE_DOMAINS = ["conversions", "rules", "contacts", "sites", "organisations"];

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith(".ts") ? [path] : [];
  });
}

/** The top-level folder (or file without extension) of a path inside src/. */
function area(path: string): string {
  const [first, ...rest] = relative(SRC, path).split(sep);
  return rest.length > 0 ? first : first.replace(/\.ts$/, "");
}

const IMPORT = /(?:^|\n)\s*(?:import|export)\s[^;]*?from\s+["'](\.[^"']+)["']/g;

const imports = sourceFiles(SRC).flatMap((file) =>
  [...readFileSync(file, "utf8").matchAll(IMPORT)].map((match) => ({
    file: relative(SRC, file),
    from: area(file),
    to: area(resolve(dirname(file), match[1])),
  })),
);

const offending = (rule: (edge: (typeof imports)[number]) => boolean) =>
  imports.filter(rule).map((edge) => `${edge.file} -> ${edge.to}/`);

describe("layering of src/", () => {
  it("reads a realistic number of imports", () => {
    expect(imports.length).toBeGreaterThan(100);
  });

  it("shared layers (db/, graphql/, http/, workers/) import no domain; db/ not auth/ either", () => {
    expect(
      offending(
        (edge) =>
          ["db", "graphql", "http", "workers"].includes(edge.from) &&
          (FEATURE_DOMAINS.includes(edge.to) || (edge.from === "db" && edge.to === "auth")),
      ),
    ).toEqual([]);
  });

  it("auth/ imports at most sites/ among the domains", () => {
    expect(
      offending((edge) => edge.from === "auth" && FEATURE_DOMAINS.includes(edge.to) && edge.to !== "sites"),
    ).toEqual([]);
  });

  it("no domain imports the composition root (services.ts)", () => {
    expect(offending((edge) => [...FEATURE_DOMAINS, "auth"].includes(edge.from) && edge.to === "services")).toEqual([]);
  });

  it("contacts/ never imports conversions/", () => {
    expect(offending((edge) => edge.from === "contacts" && edge.to === "conversions")).toEqual([]);
  });
});
