import type { RecordStore, StoreOptions } from './record-store.js';
import { KyselyRecordStore } from './kysely/kysely-record-store.js';
import { openPostgres } from './postgres/open-postgres.js';
import { openSqlite } from './sqlite/open-sqlite.js';
import { SqliteLedgerRepository } from './sqlite/sqlite-ledger-repository.js';

/**
 * Opens the configured record store and migrates it, so callers get a ready store or an error
 * at start-up rather than on the first request.
 */
export async function openRecordStore(options: StoreOptions): Promise<RecordStore> {
  if (options.driver === 'sqlite') {
    const { db, file } = await openSqlite(options.path);
    return new KyselyRecordStore(db, 'sqlite', new SqliteLedgerRepository(db, file));
  }
  const { url, schema, poolSize } = options;
  return new KyselyRecordStore(await openPostgres({ url, schema, poolSize }), 'postgres');
}
