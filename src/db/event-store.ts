// What the batching writer stores: every kind of event, written in one transaction per batch.
import type { DataSource } from "typeorm";
import { Conversion } from "../conversions/conversion.entity";

export type StoredEvent = { kind: "conversion"; row: Conversion };

export function eventPersister(dataSource: DataSource): (events: StoredEvent[]) => Promise<void> {
  return async (events) => {
    const conversions = events.filter((event) => event.kind === "conversion").map((event) => event.row);
    await dataSource.transaction(async (manager) => {
      if (conversions.length > 0) {
        await manager
          .createQueryBuilder()
          .insert()
          .into(Conversion)
          .values(conversions as never[])
          .updateEntity(false)
          .execute();
      }
    });
  };
}
