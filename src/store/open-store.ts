import type { RecordStore, StoreOptions } from './record-store.js';
import { KyselyRecordStore } from './kysely/kysely-record-store.js';
import { openPostgres } from './postgres/open-postgres.js';
import { openSqlite } from './sqlite/open-sqlite.js';

/**
 * Opens the configured record store and migrates it, so callers get a ready store or an error
 * at start-up rather than on the first request.
 */
export async function openRecordStore(options: StoreOptions): Promise<RecordStore> {
  if (options.driver === 'sqlite') {
    return new KyselyRecordStore(await openSqlite(options.path), 'sqlite');
  }
  const { url, schema, poolSize } = options;
  return new KyselyRecordStore(await openPostgres({ url, schema, poolSize }), 'postgres');
}
