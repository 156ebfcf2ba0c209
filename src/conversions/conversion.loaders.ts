// Per-request DataLoaders of the conversions domain, for federated entities and Contact's fields:
// N representations or N contacts in one gateway request cost one SQL statement per entity type
// or field, never N. Every loader is bound to the caller's organisation.
import DataLoader from "dataloader";
import type { GraphQLContext } from "../graphql/context";
import type { Conversion } from "./conversion.entity";
import type { ConversionService } from "./conversion.service";

/** The services the conversions domain's resolvers use. */
export interface ConversionServices {
  conversions: ConversionService;
}

export type ConversionContext = GraphQLContext<ConversionServices>;

export interface ContactConversionsKey {
  email: string;
  first: number;
  conversionType: string | null;
}

export function createConversionLoaders({ conversions }: ConversionServices, organisationId: string) {
  return {
    conversionById: new DataLoader<string, Conversion | null>((ids) => conversions.findByIds(organisationId, ids)),
    contactConversions: new DataLoader<ContactConversionsKey, Conversion[], string>(
      (keys) => conversions.latestForContacts(organisationId, keys),
      { cacheKeyFn: (key) => JSON.stringify([key.email, key.first, key.conversionType]) },
    ),
    contactConversionCount: new DataLoader<{ email: string; conversionType: string | null }, number, string>(
      (keys) => conversions.countForContacts(organisationId, keys),
      { cacheKeyFn: (key) => JSON.stringify([key.email, key.conversionType]) },
    ),
  };
}
