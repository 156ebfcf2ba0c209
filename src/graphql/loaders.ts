// Per-request DataLoaders for federated entities and fields: N representations or N contacts in
// one gateway request cost one SQL statement per entity type or field, never N. Every loader is
// bound to the caller's organisation.
import DataLoader from "dataloader";
import type { Conversion } from "../conversions/conversion.entity";
import type { RuleOutcomeTotals } from "../rules/rule.service";
import type { Services } from "../services";

export interface ContactConversionsKey {
  email: string;
  first: number;
  conversionType: string | null;
}

export interface RequestLoaders {
  conversionById: DataLoader<string, Conversion | null>;
  ruleOutcome: DataLoader<{ ruleId: string; outcomeId: string }, RuleOutcomeTotals | null, string>;
  contactConversions: DataLoader<ContactConversionsKey, Conversion[], string>;
  contactConversionCount: DataLoader<{ email: string; conversionType: string | null }, number, string>;
}

export function createRequestLoaders(services: Services, organisationId: string): RequestLoaders {
  return {
    conversionById: new DataLoader((ids) => services.conversions.findByIds(organisationId, ids)),
    ruleOutcome: new DataLoader((keys) => services.rules.outcomeTotals(organisationId, keys), {
      cacheKeyFn: (key) => JSON.stringify([key.ruleId, key.outcomeId]),
    }),
    contactConversions: new DataLoader((keys) => services.conversions.latestForContacts(organisationId, keys), {
      cacheKeyFn: (key) => JSON.stringify([key.email, key.first, key.conversionType]),
    }),
    contactConversionCount: new DataLoader((keys) => services.conversions.countForContacts(organisationId, keys), {
      cacheKeyFn: (key) => JSON.stringify([key.email, key.conversionType]),
    }),
  };
}
