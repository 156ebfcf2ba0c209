// `npm run schema:print`: writes the subgraph SDL, exactly as `{ _service { sdl } }` returns it,
// to schema/conversions.graphql (a reviewed artifact; a test fails when it drifts).
import "reflect-metadata";
import { writeFileSync } from "node:fs";
import { resolve } from "node:path";
import { graphql } from "graphql";
import { buildConversionsSubgraphSchema } from "../src/subgraph";

export async function subgraphSdl(): Promise<string> {
  const result = await graphql({ schema: await buildConversionsSubgraphSchema(), source: "{ _service { sdl } }" });
  if (result.errors?.length) throw new Error(result.errors.map((error) => error.message).join("; "));
  return (result.data as { _service: { sdl: string } })._service.sdl;
}

if (require.main === module) {
  subgraphSdl().then(
    (sdl) => {
      const file = process.argv[2] ?? resolve(process.cwd(), "schema/conversions.graphql");
      writeFileSync(file, `${sdl.trimEnd()}\n`);
      process.stderr.write(`wrote ${file}\n`);
    },
    (error) => {
      process.stderr.write(`${(error as Error).message}\n`);
      process.exit(1);
    },
  );
}
