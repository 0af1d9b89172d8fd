import type BetterSqlite3 from 'better-sqlite3';
import type { Kysely } from 'kysely';
import { KyselyLedgerRepository } from '../kysely/ledger-repository.js';
import type { Database } from '../kysely/tables.js';
import { LEDGER_COLUMNS, type LedgerRow } from '../ledger-records.js';

type Value = string | number | null;

/** Rows shipped from before guardrails existed carry no guards column value; its default is `[]`. */
const GUARDS_INDEX = LEDGER_COLUMNS.indexOf('guards');

/**
 * The ledger on SQLite with one prepared statement instead of a query built per batch: the
 * shipper writes every request once, and building, compiling and preparing a 200-row INSERT
 * through the query builder cost more than SQLite's own work (measured in `npm run bench:profile`).
 * The other operations are rare and stay on the query builder.
 */
export class SqliteLedgerRepository extends KyselyLedgerRepository {
  private readonly insertAll: (rows: readonly LedgerRow[]) => number;

  constructor(
    private readonly kysely: Kysely<Database>,
    file: BetterSqlite3.Database,
  ) {
    super(kysely);
    const insert = file.prepare<[Value[]]>(
      `insert into requests (${LEDGER_COLUMNS.join(', ')}) values (${LEDGER_COLUMNS.map(() => '?').join(', ')}) on conflict (request_id) do nothing`,
    );
    const values: Value[] = new Array<Value>(LEDGER_COLUMNS.length);
    this.insertAll = file.transaction((rows: readonly LedgerRow[]) => {
      let inserted = 0;
      for (const row of rows) {
        for (let i = 0; i < LEDGER_COLUMNS.length; i += 1) values[i] = row[LEDGER_COLUMNS[i] as keyof LedgerRow] ?? null;
        values[GUARDS_INDEX] ??= '[]';
        inserted += insert.run(values).changes;
      }
      return inserted;
    });
  }

  /**
   * Runs on the query builder's one connection (its lock held), so the transaction can never
   * interleave with one of the query builder's, which would make these rows part of it.
   */
  override async insertRequests(rows: readonly LedgerRow[]): Promise<number> {
    if (rows.length === 0) return 0;
    return this.kysely.connection().execute(async () => this.insertAll(rows));
  }

}
