import type { Kysely } from 'kysely';
import type { LedgerRepository, LedgerRow } from '../ledger-records.js';
import type { Database } from './tables.js';

/**
 * Rows per INSERT statement: 41 columns each keeps a statement under SQLite's 32,766 bound
 * parameters and PostgreSQL's 65,535, whatever the batch size.
 */
const ROWS_PER_STATEMENT = 200;
/** Rows per retention DELETE, so a large purge never holds the write lock for long. */
const DELETE_CHUNK = 2_000;

/**
 * The ledger's `requests` table. Inserts are idempotent by request_id (ON CONFLICT DO NOTHING on
 * both databases), which is what makes replaying an outbox after a crash safe. Writes do not
 * bump the store revision: ledger rows are not identity.
 */
export class KyselyLedgerRepository implements LedgerRepository {
  constructor(private readonly db: Kysely<Database>) {}

  /** Ignores `foldRollups`: here the rollup job folds these rows later. */
  async insertRequests(rows: readonly LedgerRow[]): Promise<number> {
    if (rows.length === 0) return 0;
    return this.db.transaction().execute(async (trx) => {
      let inserted = 0;
      for (let start = 0; start < rows.length; start += ROWS_PER_STATEMENT) {
        const result = await trx
          .insertInto('requests')
          .values(rows.slice(start, start + ROWS_PER_STATEMENT))
          .onConflict((conflict) => conflict.column('request_id').doNothing())
          .executeTakeFirst();
        inserted += Number(result.numInsertedOrUpdatedRows ?? 0n);
      }
      return inserted;
    });
  }

  /** Releases what the writer holds beyond the store's connection (SQLite's writer thread). */
  async close(): Promise<void> {}

  async deleteOlderThan(cutoffMs: number): Promise<number> {
    let total = 0;
    for (;;) {
      const chunk = this.db
        .selectFrom('requests')
        .select('seq')
        .where('started_at_ms', '<', cutoffMs)
        .limit(DELETE_CHUNK);
      const result = await this.db.deleteFrom('requests').where('seq', 'in', chunk).executeTakeFirst();
      const deleted = Number(result.numDeletedRows);
      total += deleted;
      if (deleted < DELETE_CHUNK) return total;
    }
  }

  /** Clears prompt and answer text from rows older than the cutoff (the rows stay); returns how many. */
  async clearBodiesOlderThan(cutoffMs: number): Promise<number> {
    const result = await this.db
      .updateTable('requests')
      .set({ request_body: null, response_body: null })
      .where('started_at_ms', '<', cutoffMs)
      .where((eb) => eb.or([eb('request_body', 'is not', null), eb('response_body', 'is not', null)]))
      .executeTakeFirst();
    return Number(result.numUpdatedRows);
  }

  async countRequests(): Promise<number> {
    const row = await this.db.selectFrom('requests').select((eb) => eb.fn.countAll<number | string>().as('n')).executeTakeFirstOrThrow();
    return Number(row.n);
  }

  async countRequestId(requestId: string): Promise<number> {
    const row = await this.db
      .selectFrom('requests')
      .select((eb) => eb.fn.countAll<number | string>().as('n'))
      .where('request_id', '=', requestId)
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  async getRequest(requestId: string): Promise<(LedgerRow & { seq: number }) | undefined> {
    const row = await this.db.selectFrom('requests').selectAll().where('request_id', '=', requestId).executeTakeFirst();
    if (row === undefined) return undefined;
    // pg returns bigint as text and double precision as number; SQLite numbers throughout.
    return { ...row, seq: Number(row.seq), started_at_ms: Number(row.started_at_ms) };
  }
}
