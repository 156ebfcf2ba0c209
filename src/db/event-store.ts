// What the batching writer stores: every kind of event, written in one transaction per batch.
// On MySQL a deadlock between instances writing the same keys is retried: the transaction is
// all-or-nothing, so a retry neither loses nor double-counts.
import type { DataSource, EntityManager } from "typeorm";
import { Conversion } from "../conversions/conversion.entity";
import { type ExposureRecord, persistRuleEvents, type RuleConversionRecord } from "../rules/rule-event-store";
import { runInTransaction } from "./transaction";

export type StoredEvent =
  | { kind: "conversion"; row: Conversion }
  /** One request's exposures (one per outcome named): stored together or not at all. */
  | { kind: "exposures"; rows: ExposureRecord[] }
  | { kind: "ruleConversions"; rows: RuleConversionRecord[] };

const RETRYABLE_ERRNOS = new Set([1213, 1205]); // ER_LOCK_DEADLOCK, ER_LOCK_WAIT_TIMEOUT
// SQLite refuses at once (no busy wait) to upgrade a read transaction another process wrote under.
const RETRYABLE_CODES = new Set(["SQLITE_BUSY", "SQLITE_BUSY_SNAPSHOT"]);
const MAX_ATTEMPTS = 5;

export function eventPersister(dataSource: DataSource): (events: StoredEvent[]) => Promise<void> {
  return async (events) => {
    for (let attempt = 1; ; attempt++) {
      try {
        await runInTransaction(dataSource, (manager) => writeEvents(manager, events));
        return;
      } catch (error) {
        const cause = (error as { driverError?: { errno?: number; code?: string } }).driverError ?? error;
        const { errno, code } = cause as { errno?: number; code?: string };
        const retryable = RETRYABLE_ERRNOS.has(errno as number) || RETRYABLE_CODES.has(code as string);
        if (attempt >= MAX_ATTEMPTS || !retryable) throw error;
        await new Promise((resolve) => setTimeout(resolve, 5 * attempt + Math.random() * 10));
      }
    }
  };
}

async function writeEvents(manager: EntityManager, events: StoredEvent[]): Promise<void> {
  const conversions: Conversion[] = [];
  const exposures: ExposureRecord[] = [];
  const ruleConversions: RuleConversionRecord[] = [];
  for (const event of events) {
    if (event.kind === "conversion") conversions.push(event.row);
    else if (event.kind === "exposures") exposures.push(...event.rows);
    else ruleConversions.push(...event.rows);
  }
  if (conversions.length > 0) {
    await manager
      .createQueryBuilder()
      .insert()
      .into(Conversion)
      .values(conversions as never[])
      .updateEntity(false)
      .execute();
  }
  await persistRuleEvents(manager, exposures, ruleConversions);
}
