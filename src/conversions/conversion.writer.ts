// How a batch of logged conversions is stored, inside the writer's transaction.
import type { EntityManager } from "typeorm";
import { Conversion } from "./conversion.entity";

/** The event the conversions domain hands to the writer. */
export interface ConversionEvent {
  kind: "conversion";
  row: Conversion;
}

export async function writeConversions(manager: EntityManager, rows: Conversion[]): Promise<void> {
  if (rows.length === 0) return;
  await manager
    .createQueryBuilder()
    .insert()
    .into(Conversion)
    .values(rows as never[])
    .updateEntity(false)
    .execute();
}
