// Federation: resolves Conversion representations ({ id }) for the caller's organisation, batched.
import type { Conversion } from "./conversion.entity";
import { type ConversionContext, createConversionLoaders } from "./conversion.loaders";

export async function resolveConversionReference(
  reference: { id: string },
  context: ConversionContext,
): Promise<Conversion | null> {
  return (await context.loaders(createConversionLoaders)).conversionById.load(reference.id);
}
