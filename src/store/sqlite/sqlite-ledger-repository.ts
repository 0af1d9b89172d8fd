import type BetterSqlite3 from 'better-sqlite3';
import type { Kysely } from 'kysely';
import { KyselyLedgerRepository } from '../kysely/ledger-repository.js';
import type { Database } from '../kysely/tables.js';
import { LEDGER_COLUMNS, type InsertOptions, type LedgerRow } from '../ledger-records.js';
import { SqliteShippedFold } from './sqlite-shipped-fold.js';

type Value = string | number | null;

/** Rows shipped from before guardrails existed carry no guards column value; its default is `[]`. */
const GUARDS_INDEX = LEDGER_COLUMNS.indexOf('guards');

/**
 * The ledger on SQLite with one prepared statement instead of a query built per batch: the
 * shipper writes every request once, and building, compiling and preparing a 200-row INSERT
 * through the query builder cost more than SQLite's own work (measured in `npm run bench:profile`).
 * Asked to, it also folds the rows it inserted into the usage rollups in the same transaction
 * (SqliteShippedFold). The other operations are rare and stay on the query builder.
 */
export class SqliteLedgerRepository extends KyselyLedgerRepository {
  private readonly insertAll: BetterSqlite3.Transaction<(rows: readonly LedgerRow[], foldRollups: boolean) => number>;

  constructor(
    private readonly kysely: Kysely<Database>,
    file: BetterSqlite3.Database,
  ) {
    super(kysely);
    const insert = file.prepare<[Value[]]>(
      `insert into requests (${LEDGER_COLUMNS.join(', ')}) values (${LEDGER_COLUMNS.map(() => '?').join(', ')}) on conflict (request_id) do nothing`,
    );
    const values: Value[] = new Array<Value>(LEDGER_COLUMNS.length);
    const rollups = new SqliteShippedFold(file);
    this.insertAll = file.transaction((rows: readonly LedgerRow[], foldRollups: boolean) => {
      const fold = foldRollups && rollups.caughtUp();
      const inserted: LedgerRow[] = [];
      for (const row of rows) {
        for (let i = 0; i < LEDGER_COLUMNS.length; i += 1) values[i] = row[LEDGER_COLUMNS[i] as keyof LedgerRow] ?? null;
        values[GUARDS_INDEX] ??= '[]';
        // A request id already stored is skipped, and so not folded again.
        if (insert.run(values).changes === 1) inserted.push(row);
      }
      if (fold) rollups.fold(inserted);
      return inserted.length;
    });
  }

  /**
   * Runs on the query builder's one connection (its lock held), so the transaction can never
   * interleave with one of the query builder's, which would make these rows part of it.
   */
  override async insertRequests(rows: readonly LedgerRow[], options: InsertOptions = {}): Promise<number> {
    if (rows.length === 0) return 0;
    // IMMEDIATE: the write lock from the start, so the fold's reading of the watermark and the
    // highest seq cannot be overtaken by another process's insert.
    return this.kysely.connection().execute(async () => this.insertAll.immediate(rows, options.foldRollups === true));
  }
}
