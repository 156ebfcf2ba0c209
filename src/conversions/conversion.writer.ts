// How a batch of logged conversions is stored, inside the writer's transaction.
import type { EntityManager } from "typeorm";
import { dialectOf, insertRows, selectWhereIn, toDbTimestamp } from "../db/sql";
import type { IdempotencyClaim } from "../idempotency/idempotency.service";
import type { Conversion } from "./conversion.entity";

/** The event the conversions domain hands to the writer. */
export interface ConversionEvent {
  kind: "conversion";
  row: Conversion;
  idempotency?: IdempotencyClaim;
}

/** The contact was erased between the request's lookup and the write: nothing is stored. */
export class ContactErased extends Error {
  constructor() {
    super("the contact was erased");
  }
}

/**
 * Inserts the conversions whose contact still exists. The contacts are read with a shared lock
 * (MySQL), so an erasure running at the same time either waits for this transaction (and then
 * erases these rows too) or has committed before it (and these rows are refused).
 */
export async function writeConversions(
  manager: EntityManager,
  rows: Conversion[],
): Promise<(ContactErased | undefined)[]> {
  if (rows.length === 0) return [];
  const lock = dialectOf(manager) === "mysql" ? " LOCK IN SHARE MODE" : "";
  const contactIds = [...new Set(rows.map((row) => row.contactId))];
  const present = new Set(
    (await selectWhereIn<{ id: string }>(manager, "SELECT id FROM contacts WHERE id", contactIds, [], lock)).map(
      (row) => row.id,
    ),
  );
  // One multi-row statement through the driver: the ORM's query builder costs more CPU per row
  // than the database spends storing it.
  await insertRows(
    manager,
    "conversions",
    ["id", "organisation_id", "contact_id", "email", "conversion_type", "conversion_data", "created_at"],
    rows
      .filter((row) => present.has(row.contactId))
      .map((row) => [
        row.id,
        row.organisationId,
        row.contactId,
        row.email,
        row.conversionType,
        row.conversionData === null ? null : JSON.stringify(row.conversionData),
        toDbTimestamp(row.createdAt),
      ]),
  );
  return rows.map((row) => (present.has(row.contactId) ? undefined : new ContactErased()));
}
