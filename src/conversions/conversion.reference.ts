// Federation: resolves Conversion representations ({ id }) for the caller's organisation, batched.
import type { GraphQLContext } from "../graphql/context";
import type { Conversion } from "./conversion.entity";

export async function resolveConversionReference(
  reference: { id: string },
  context: GraphQLContext,
): Promise<Conversion | null> {
  return (await context.loaders()).conversionById.load(reference.id);
}
