// Every TypeORM entity of the service, in one list for the data source and the drift test.
import { ApiKey } from "../auth/api-key.entity";
import { Contact } from "../contacts/contact.entity";
import { Conversion } from "../conversions/conversion.entity";
import { Organisation } from "../organisations/organisation.entity";
import { ruleEntities } from "../rules/rule.entities";
import { Site } from "../sites/site.entity";

export const entities = [Organisation, ApiKey, Contact, Conversion, Site, ...ruleEntities];
