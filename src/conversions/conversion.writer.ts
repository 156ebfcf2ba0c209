// How a batch of logged conversions is stored, inside the writer's transaction.
import type { EntityManager } from "typeorm";
import { dialectOf, selectWhereIn } from "../db/sql";
import type { IdempotencyClaim } from "../idempotency/idempotency.service";
import { Conversion } from "./conversion.entity";

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
  const kept = rows.filter((row) => present.has(row.contactId));
  if (kept.length > 0) {
    await manager
      .createQueryBuilder()
      .insert()
      .into(Conversion)
      .values(kept as never[])
      .updateEntity(false)
      .execute();
  }
  return rows.map((row) => (present.has(row.contactId) ? undefined : new ContactErased()));
}
