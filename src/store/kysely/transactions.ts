import { sql, type Kysely, type Transaction } from 'kysely';
import type { Database } from './tables.js';
import { translateDriverError } from './driver-errors.js';

export type Trx = Transaction<Database>;

/** Thrown inside a transaction to roll it back when nothing was found to change. */
class NothingChanged extends Error {}

/** What a mutation is about, for error messages. */
export interface MutationContext {
  entity: string;
  op: 'write' | 'delete';
}

/**
 * Runs one change in one transaction together with the revision bump. The bump comes first:
 * it takes the write lock up front (SQLite: RESERVED, waited for with busy_timeout; PostgreSQL:
 * the store_meta row lock), so writers serialize and the existence checks that follow cannot
 * race with another writer. `work` returns undefined when there was nothing to change; the
 * transaction then rolls back and the revision stays put.
 */
export async function mutate<T>(
  db: Kysely<Database>,
  context: MutationContext,
  work: (trx: Trx) => Promise<T | undefined>,
): Promise<T | undefined> {
  try {
    return await db.transaction().execute(async (trx) => {
      await trx
        .updateTable('store_meta')
        .set({ value: sql<number>`value + 1` })
        .where('name', '=', 'revision')
        .execute();
      const result = await work(trx);
      if (result === undefined) throw new NothingChanged();
      return result;
    });
  } catch (err) {
    if (err instanceof NothingChanged) return undefined;
    throw translateDriverError(err, context.entity, context.op);
  }
}

/** Reads under one snapshot (PostgreSQL: REPEATABLE READ; SQLite: a read transaction is one). */
export function readConsistent<T>(db: Kysely<Database>, work: (trx: Trx) => Promise<T>): Promise<T> {
  return db.transaction().setIsolationLevel('repeatable read').setAccessMode('read only').execute(work);
}

/** Whether a row matching every column value exists; used for reference and in-use checks. */
export async function rowExists<T extends keyof Database>(
  trx: Trx,
  table: T,
  where: Partial<Record<keyof Database[T] & string, string>>,
): Promise<boolean> {
  const conditions = Object.entries(where).map(([column, value]) => sql`${sql.ref(column)} = ${value}`);
  const result = await sql<{ one: number }>`select 1 as one from ${sql.table(table)} where ${sql.join(conditions, sql` and `)} limit 1`.execute(trx);
  return result.rows.length > 0;
}

/** The store-wide revision, as a number on both drivers. */
export async function readRevision(db: Kysely<Database>): Promise<number> {
  const row = await db.selectFrom('store_meta').select('value').where('name', '=', 'revision').executeTakeFirst();
  if (row === undefined) throw new Error('record store is not migrated: the revision row is missing');
  return Number(row.value);
}
