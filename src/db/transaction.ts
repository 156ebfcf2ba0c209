// Transactions that stay separate on every database. TypeORM's SQLite drivers share one
// connection (and one query runner) per data source, so two concurrent transactions would nest
// as savepoints of each other: a rollback of one could undo the other's acknowledged writes.
// On SQLite they are therefore run one at a time; MySQL gives each its own pooled connection.
import type { DataSource, EntityManager } from "typeorm";

const sqliteQueues = new WeakMap<DataSource, Promise<unknown>>();

export function runInTransaction<T>(dataSource: DataSource, work: (manager: EntityManager) => Promise<T>): Promise<T> {
  const type = dataSource.options.type;
  if (type !== "better-sqlite3") return dataSource.transaction(work);
  const previous = sqliteQueues.get(dataSource) ?? Promise.resolve();
  const current = previous.catch(() => undefined).then(() => dataSource.transaction(work));
  sqliteQueues.set(dataSource, current);
  return current;
}
