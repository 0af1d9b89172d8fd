import type BetterSqlite3 from 'better-sqlite3';
import { mergeAggregate } from '../../usage/analytics/aggregate.js';
import { accumulate, type FoldRow } from '../../usage/analytics/fold-accumulate.js';
import { aggregateOf, num, rollupParams, rollupUpsertSql, type RollupRow } from '../kysely/rollup-rows.js';
import type { LedgerRow } from '../ledger-records.js';

type Value = string | number | null;

/**
 * Folds ledger rows into the usage rollups inside the transaction that inserts them, from the rows
 * already in memory, instead of the rollup job reading them back later (reading a row back cost
 * about as much as inserting it). Only when every earlier row is folded (watermark = highest seq):
 * the insert holds SQLite's write lock, so the new highest seq then covers exactly these rows and
 * the watermark can move to it. Otherwise the rows are left to the job, which catches up from the
 * watermark as before; a job chunk read before this fold sees the watermark moved and is dropped.
 */
export class SqliteShippedFold {
  private readonly readWatermark: BetterSqlite3.Statement<[], { value: number }>;
  private readonly readMaxSeq: BetterSqlite3.Statement<[], { max: number | null }>;
  private readonly setWatermark: BetterSqlite3.Statement<[number]>;
  private readonly readStored: BetterSqlite3.Statement<Value[], RollupRow>;
  private readonly upsert: BetterSqlite3.Statement<[unknown[]]>;

  constructor(file: BetterSqlite3.Database) {
    this.readWatermark = file.prepare<[], { value: number }>("select value from usage_rollup_state where name = 'watermark'");
    this.readMaxSeq = file.prepare<[], { max: number | null }>('select max(seq) as max from requests');
    this.setWatermark = file.prepare<[number]>("update usage_rollup_state set value = ? where name = 'watermark'");
    this.readStored = file.prepare<Value[], RollupRow>(
      'select * from usage_rollups where dimset = ? and grain = ? and bucket_ms = ? and d0 = ? and d1 = ? and d2 = ? and d3 = ? and d4 = ?',
    );
    this.upsert = file.prepare<[unknown[]]>(rollupUpsertSql(1, 'sqlite'));
  }

  /** Whether every row in the ledger is folded. Call inside the insert's transaction, before inserting. */
  caughtUp(): boolean {
    return num(this.readWatermark.get()?.value) === num(this.readMaxSeq.get()?.max);
  }

  /** Folds `rows` (the rows just inserted, nothing else) and moves the watermark past them. */
  fold(rows: readonly LedgerRow[]): void {
    if (rows.length === 0) return;
    const params: unknown[] = [];
    for (const entry of accumulate(rows as unknown as FoldRow[]).values()) {
      const { dims } = entry;
      const stored = this.readStored.get(entry.set.name, entry.grain, entry.bucketMs, dims[0] ?? '', dims[1] ?? '', dims[2] ?? '', dims[3] ?? '', dims[4] ?? '');
      if (stored !== undefined) mergeAggregate(entry.agg, aggregateOf(stored, ['latency', 'ttft', 'input']));
      params.length = 0;
      rollupParams(entry, params);
      this.upsert.run(params);
    }
    this.setWatermark.run(num(this.readMaxSeq.get()?.max));
  }
}
