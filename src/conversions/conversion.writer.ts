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

const COLUMNS = ["id", "organisation_id", "contact_id", "email", "conversion_type", "conversion_data", "created_at"];

/**
 * Inserts the conversions whose contact still exists. The foreign key to contacts makes the
 * database check each row's contact and share-lock it (MySQL), so an erasure running at the same
 * time either waits for this transaction (and then erases these rows too) or has committed before
 * it (and the insert is refused). Contacts are only looked up when that happens: almost never.
 */
export async function writeConversions(
  manager: EntityManager,
  rows: Conversion[],
): Promise<(ContactErased | undefined)[]> {
  if (rows.length === 0) return [];
  const values = rows.map(conversionValues);
  try {
    // One multi-row statement through the driver: the ORM's query builder costs more CPU per row
    // than the database spends storing it.
    await insertRows(manager, "conversions", COLUMNS, values);
    return rows.map(() => undefined);
  } catch (error) {
    if (!isMissingContact(error)) throw error;
  }
  // A contact was erased since its request looked it up: store the others. The failed statement
  // alone was undone; rows of an earlier statement of the same insert are kept (and skipped here).
  const lock = dialectOf(manager) === "mysql" ? " LOCK IN SHARE MODE" : "";
  const contactIds = [...new Set(rows.map((row) => row.contactId))];
  const present = new Set(
    (await selectWhereIn<{ id: string }>(manager, "SELECT id FROM contacts WHERE id", contactIds, [], lock)).map(
      (row) => row.id,
    ),
  );
  await insertRows(
    manager,
    "conversions",
    COLUMNS,
    values.filter((_, position) => present.has(rows[position].contactId)),
    { conflictKey: ["id"] },
  );
  return rows.map((row) => (present.has(row.contactId) ? undefined : new ContactErased()));
}

function conversionValues(row: Conversion): unknown[] {
  return [
    row.id,
    row.organisationId,
    row.contactId,
    row.email,
    row.conversionType,
    row.conversionData === null ? null : JSON.stringify(row.conversionData),
    toDbTimestamp(row.createdAt),
  ];
}

/** The foreign key to contacts refused a row (MySQL ER_NO_REFERENCED_ROW_2, SQLite's FOREIGN KEY constraint). */
function isMissingContact(error: unknown): boolean {
  const cause = (error as { driverError?: unknown }).driverError ?? error;
  const { errno, code } = (cause ?? {}) as { errno?: number; code?: string };
  return errno === 1452 || code === "SQLITE_CONSTRAINT_FOREIGNKEY";
}
