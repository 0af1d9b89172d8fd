import type BetterSqlite3 from 'better-sqlite3';
import type { Kysely } from 'kysely';
import { KyselyLedgerRepository } from '../kysely/ledger-repository.js';
import type { Database } from '../kysely/tables.js';
import type { InsertOptions, LedgerRepository, LedgerRow } from '../ledger-records.js';
import { prepareLedgerInsert, type LedgerInsert } from './ledger-insert.js';
import { LedgerWriterThread } from './ledger-writer-thread.js';

/**
 * The ledger on SQLite with one prepared statement instead of a query built per batch: the
 * shipper writes every request once, and building, compiling and preparing a 200-row INSERT
 * through the query builder cost more than SQLite's own work (measured in `npm run bench:profile`).
 * Asked to, it also folds the rows it inserted into the usage rollups in the same transaction.
 * For a database file the inserts run on a writer thread with its own connection, off the event
 * loop; an in-memory database has only this connection, so they run here. The other operations
 * are rare and stay on the query builder.
 */
export class SqliteLedgerRepository extends KyselyLedgerRepository {
  private readonly inline: LedgerInsert | undefined;
  private readonly thread: LedgerWriterThread | undefined;
  /** Only with a writer thread: an in-memory database inserts objects on the event loop. */
  readonly insertRowTexts: LedgerRepository['insertRowTexts'];

  constructor(
    private readonly kysely: Kysely<Database>,
    file: BetterSqlite3.Database,
  ) {
    super(kysely);
    if (file.memory) this.inline = prepareLedgerInsert(file);
    else {
      const thread = new LedgerWriterThread(file.name);
      this.thread = thread;
      this.insertRowTexts = async (texts, options = {}) => (texts.length === 0 ? 0 : thread.insert({ texts }, options.foldRollups === true));
    }
  }

  override async insertRequests(rows: readonly LedgerRow[], options: InsertOptions = {}): Promise<number> {
    if (rows.length === 0) return 0;
    const fold = options.foldRollups === true;
    if (this.thread !== undefined) return this.thread.insert({ rows }, fold);
    const insert = this.inline as LedgerInsert;
    // On the query builder's one connection (its lock held), so the transaction can never
    // interleave with one of the query builder's, which would make these rows part of it.
    return this.kysely.connection().execute(async () => insert(rows, fold));
  }

  override async close(): Promise<void> {
    await this.thread?.close();
  }
}
