import type { RecordStore, StoreOptions } from './record-store.js';
import { KyselyRecordStore } from './kysely/kysely-record-store.js';
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
  // Loaded only when configured: the pg driver costs memory a SQLite gateway never uses.
  const { openPostgres } = await import('./postgres/open-postgres.js');
  return new KyselyRecordStore(await openPostgres({ url, schema, poolSize }), 'postgres');
}
