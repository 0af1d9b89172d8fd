import { CompiledQuery, sql, type Kysely, type RawBuilder, type Transaction } from 'kysely';
import { emptyAggregate, mergeAggregate } from '../../usage/analytics/aggregate.js';
import { FOLD_DIMENSIONS, accumulate, rollupKey, type FoldRow, type PendingRollup } from '../../usage/analytics/fold-accumulate.js';
import { HISTOGRAM_BOUNDS } from '../../usage/analytics/histogram.js';
import { ROLLUP_DIMENSION_COLUMNS, rollupColumnOf, rollupSet, type RollupSet } from '../../usage/analytics/rollup-sets.js';
import type {
  AggregateRow,
  FoldOptions,
  FoldResult,
  GroupColumn,
  HistogramMetric,
  RollupGrain,
  RollupSetName,
  SeqRange,
  UsageReader,
  UsageRepository,
  UsageSlice,
} from '../../usage/analytics/types.js';
import type { Database } from './tables.js';
import {
  aggregateOf,
  HISTOGRAM_COLUMN,
  MAX_COLUMNS,
  num,
  rollupParams,
  rollupUpsertSql,
  SCALAR_COLUMNS,
  type RollupRow,
  type UsageRollupStateTable,
  type UsageRollupsTable,
} from './rollup-rows.js';

type UsageDatabase = Database & { usage_rollups: UsageRollupsTable; usage_rollup_state: UsageRollupStateTable };
type Executor = Kysely<UsageDatabase> | Transaction<UsageDatabase>;
/** The ledger columns the raw totals read. */
const TOTALS_SOURCES = ['status', 'error_code', 'input_tokens', 'output_tokens', 'cached_tokens', 'reasoning_tokens', 'cost_usd', 'total_ms', 'ttft_ms'];
const METRIC_SOURCE: Record<HistogramMetric, string> = { latency: 'total_ms', ttft: 'ttft_ms', input: 'input_tokens' };

/**
 * PostgreSQL: a row becomes foldable once its seq was the highest visible this long ago. Identity
 * values are handed out in time order, but transactions commit in any order; a seq below one
 * already visible may still be in flight. Ledger batches commit in milliseconds; 5 s is ample.
 */
const DEFAULT_SETTLE_MS = 5_000;
const DEFAULT_CHUNK_ROWS = 50_000;
/** Rows per upsert statement: 27 columns each stays under SQLite's 32,766 bound parameters. */
const UPSERT_ROWS = 500;
const BUCKETS_PER_READ = 500;

interface FoldState {
  watermark: number;
  horizonSeq: number;
  horizonAtMs: number;
}

async function readState(db: Executor): Promise<FoldState> {
  const rows = await db.selectFrom('usage_rollup_state').select(['name', 'value']).execute();
  const value = (name: string) => num(rows.find((row) => row.name === name)?.value);
  if (!rows.some((row) => row.name === 'watermark')) throw new Error('record store is not migrated: the usage rollup state is missing');
  return { watermark: value('watermark'), horizonSeq: value('horizon_seq'), horizonAtMs: value('horizon_at_ms') };
}

async function setState(db: Executor, name: string, value: number): Promise<void> {
  await db.updateTable('usage_rollup_state').set({ value }).where('name', '=', name).execute();
}

async function readMaxSeq(db: Executor): Promise<number> {
  const result = await sql<{ max: number | string | null }>`select max(seq) as max from requests`.execute(db);
  return num(result.rows[0]?.max);
}

/**
 * Rollups and raw aggregates over the ledger. Folding reads new rows outside any transaction,
 * sums them in memory, then merges them into the rollup rows and moves the watermark in one short
 * transaction that first takes the watermark row's lock, so concurrent folders serialize and a
 * chunk whose watermark moved meanwhile is dropped, never counted twice.
 */
export class KyselyUsageRepository implements UsageRepository {
  private readonly db: Kysely<UsageDatabase>;
  private readonly upserts = new Map<number, string>();

  constructor(
    db: Kysely<Database>,
    private readonly driver: 'sqlite' | 'postgres',
  ) {
    this.db = db.withTables<{ usage_rollups: UsageRollupsTable; usage_rollup_state: UsageRollupStateTable }>();
  }

  async fold(options: FoldOptions = {}): Promise<FoldResult> {
    const chunkRows = Math.max(1, options.chunkRows ?? DEFAULT_CHUNK_ROWS);
    const maxRows = options.maxRows ?? Number.POSITIVE_INFINITY;
    const now = options.now ?? Date.now();
    const state = await readState(this.db);
    const maxSeq = await readMaxSeq(this.db);
    let target = maxSeq;
    // SQLite has one writer: a visible seq means every lower one committed (or never will).
    let horizon: { seq: number; at: number } | undefined;
    if (this.driver === 'postgres' && (options.settleMs ?? DEFAULT_SETTLE_MS) > 0) {
      const settled = now - state.horizonAtMs >= (options.settleMs ?? DEFAULT_SETTLE_MS);
      target = settled ? Math.max(state.watermark, state.horizonSeq) : state.watermark;
      if (settled || state.horizonSeq <= state.watermark) horizon = maxSeq > target ? { seq: maxSeq, at: now } : undefined;
    }
    let watermark = state.watermark;
    let folded = 0;
    while (watermark < target && folded < maxRows) {
      const rows = await this.readNewRows(watermark, target, chunkRows);
      const next = rows.length < chunkRows ? target : num(rows[rows.length - 1]?.seq);
      const written = await this.writeChunk(accumulate(rows), watermark, next, next >= target ? horizon : undefined);
      if (!written) return { folded, watermark, pending: false, unfolded: Math.max(0, maxSeq - watermark) };
      if (next >= target) horizon = undefined;
      folded += rows.length;
      watermark = next;
    }
    // A new settling point only once the old one is reached: replacing it early would keep
    // pushing the target out of reach while a backlog is folded chunk by chunk.
    if (horizon && watermark >= target) await this.writeHorizon(horizon);
    return { folded, watermark, pending: watermark < target, unfolded: Math.max(0, maxSeq - watermark) };
  }

  read<T>(work: (reader: UsageReader) => Promise<T>): Promise<T> {
    return this.db
      .transaction()
      .setIsolationLevel('repeatable read')
      .setAccessMode('read only')
      .execute(async (trx) => {
        const state = await readState(trx);
        const maxSeq = await readMaxSeq(trx);
        return work(new SnapshotReader(trx, this.driver, state.watermark, maxSeq));
      });
  }

  private async readNewRows(after: number, upTo: number, limit: number): Promise<FoldRow[]> {
    const columns = ['seq', 'started_at_ms', 'status', 'error_code', 'input_tokens', 'output_tokens', 'cached_tokens', 'reasoning_tokens', 'cost_usd', 'total_ms', 'ttft_ms', ...FOLD_DIMENSIONS];
    const result = await sql<FoldRow>`select ${sql.join(columns.map((column) => sql.ref(column)))} from requests
      where seq > ${after} and seq <= ${upTo} order by seq limit ${sql.lit(limit)}`.execute(this.db);
    return result.rows;
  }

  private writeChunk(pending: Map<string, PendingRollup>, expected: number, next: number, horizon: { seq: number; at: number } | undefined): Promise<boolean> {
    return this.db.transaction().execute(async (trx) => {
      // The lock first: on SQLite it takes the write lock, on PostgreSQL the row lock.
      await trx.updateTable('usage_rollup_state').set({ value: sql<number>`value` }).where('name', '=', 'watermark').execute();
      if ((await readState(trx)).watermark !== expected) return false;
      await mergeStored(trx, pending);
      const rows = [...pending.values()];
      for (let start = 0; start < rows.length; start += UPSERT_ROWS) {
        const batch = rows.slice(start, start + UPSERT_ROWS);
        const params: unknown[] = [];
        for (const entry of batch) rollupParams(entry, params);
        await trx.executeQuery(CompiledQuery.raw(this.upsertText(batch.length), params));
      }
      await setState(trx, 'watermark', next);
      if (horizon) {
        await setState(trx, 'horizon_seq', horizon.seq);
        await setState(trx, 'horizon_at_ms', horizon.at);
      }
      return true;
    });
  }

  /**
   * The upsert's SQL text for `rows` rows, built by hand and cached: Kysely's query builder cost
   * more than the database did at thousands of rows per fold.
   */
  private upsertText(rows: number): string {
    let text = this.upserts.get(rows);
    if (text !== undefined) return text;
    text = rollupUpsertSql(rows, this.driver);
    this.upserts.set(rows, text);
    return text;
  }

  private async writeHorizon(horizon: { seq: number; at: number }): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      await setState(trx, 'horizon_seq', horizon.seq);
      await setState(trx, 'horizon_at_ms', horizon.at);
    });
  }
}

/** Adds the stored rollup rows this chunk touches into the pending ones, so the upsert writes totals. */
async function mergeStored(trx: Transaction<UsageDatabase>, pending: Map<string, PendingRollup>): Promise<void> {
  const buckets = new Map<string, { set: RollupSet; grain: RollupGrain; buckets: Set<number> }>();
  for (const entry of pending.values()) {
    const id = `${entry.set.name}\u0001${entry.grain}`;
    let group = buckets.get(id);
    if (!group) buckets.set(id, (group = { set: entry.set, grain: entry.grain, buckets: new Set() }));
    group.buckets.add(entry.bucketMs);
  }
  for (const { set, grain, buckets: wanted } of buckets.values()) {
    const list = [...wanted];
    for (let start = 0; start < list.length; start += BUCKETS_PER_READ) {
      const stored = await trx
        .selectFrom('usage_rollups')
        .selectAll()
        .where('dimset', '=', set.name)
        .where('grain', '=', grain)
        .where('bucket_ms', 'in', list.slice(start, start + BUCKETS_PER_READ))
        .execute();
      for (const row of stored) {
        const dims = ROLLUP_DIMENSION_COLUMNS.slice(0, set.columns.length).map((column) => row[column]);
        const entry = pending.get(rollupKey(set.name, grain, num(row.bucket_ms), dims));
        if (entry) mergeAggregate(entry.agg, aggregateOf(row, ['latency', 'ttft', 'input']));
      }
    }
  }
}

/** bucket index = how many bounds are <= the value: a balanced CASE, 7 comparisons a row. */
function histogramCase(column: string): RawBuilder<number> {
  const ref = sql.ref(column);
  const build = (lo: number, hi: number): RawBuilder<number> => {
    if (lo === hi) return sql<number>`${sql.lit(lo)}`;
    const mid = (lo + hi) >> 1;
    return sql<number>`case when ${ref} < ${sql.lit(HISTOGRAM_BOUNDS[mid] as number)} then ${build(lo, mid)} else ${build(mid + 1, hi)} end`;
  };
  return build(0, HISTOGRAM_BOUNDS.length);
}

const HISTOGRAM_CASES = new Map<HistogramMetric, RawBuilder<number>>();
function histogramCaseOf(metric: HistogramMetric): RawBuilder<number> {
  let built = HISTOGRAM_CASES.get(metric);
  if (!built) HISTOGRAM_CASES.set(metric, (built = histogramCase(METRIC_SOURCE[metric])));
  return built;
}

/** NULL and '' are the same "absent" value, as in the rollups. */
function columnEquals(column: GroupColumn, value: string | null): RawBuilder<boolean> {
  return value === null || value === '' ? sql<boolean>`(${sql.ref(column)} is null or ${sql.ref(column)} = '')` : sql<boolean>`${sql.ref(column)} = ${value}`;
}

function groupValue(value: unknown): string | null {
  return value === null || value === undefined || value === '' ? null : String(value);
}

/** Reads inside one snapshot (see UsageRepository.read). */
class SnapshotReader implements UsageReader {
  constructor(
    private readonly trx: Transaction<UsageDatabase>,
    private readonly driver: 'sqlite' | 'postgres',
    readonly watermark: number,
    readonly maxSeq: number,
  ) {}

  /**
   * Summed in SQL per group: a 30-day answer reads one row per group, not one per group and day.
   * Histogram texts are concatenated (the encoding allows repeated indexes) and added up in JS.
   */
  async rollups(slice: UsageSlice, name: RollupSetName, grain: RollupGrain): Promise<AggregateRow[]> {
    const set = rollupSet(name);
    const columns = slice.columns.map((column) => rollupColumnOf(set, column));
    const bucket = slice.bucketMs === null ? sql`null` : sql`(bucket_ms - (bucket_ms % ${sql.lit(slice.bucketMs)}))`;
    const concat = this.driver === 'postgres' ? sql`string_agg` : sql`group_concat`;
    const selected = [
      sql`${bucket} as b`,
      ...columns.map((column, index) => sql`${sql.ref(column)} as ${sql.ref(`g${index}`)}`),
      ...SCALAR_COLUMNS.map((column) => (MAX_COLUMNS.has(column) ? sql`max(${sql.ref(column)}) as ${sql.ref(column)}` : sql`sum(${sql.ref(column)}) as ${sql.ref(column)}`)),
      ...slice.histograms.map((metric) => sql`${concat}(nullif(${sql.ref(HISTOGRAM_COLUMN[metric])}, ''), ',') as ${sql.ref(HISTOGRAM_COLUMN[metric])}`),
    ];
    const where = [sql`dimset = ${set.name}`, sql`grain = ${grain}`, sql`bucket_ms >= ${slice.fromMs}`, sql`bucket_ms < ${slice.toMs}`];
    for (const filter of slice.filters) where.push(sql`${sql.ref(rollupColumnOf(set, filter.column))} = ${filter.value}`);
    const result = await sql<Partial<RollupRow> & Record<string, unknown>>`select ${sql.join(selected)} from usage_rollups
      where ${sql.join(where, sql` and `)} ${this.groupBy(slice, [])}`.execute(this.trx);
    return result.rows
      .filter((row) => num(row.requests) > 0)
      .map((row) => ({ ...this.keysOf(slice, row), agg: aggregateOf(row, slice.histograms) }));
  }

  async rawTotals(slice: UsageSlice, seq: SeqRange): Promise<AggregateRow[]> {
    const result = await sql<Record<string, unknown>>`select ${this.selectKeys(slice)},
        count(*) as requests,
        sum(case when status >= 400 or (error_code is not null and error_code <> '') then 1 else 0 end) as errors,
        sum(input_tokens) as input_tokens, sum(output_tokens) as output_tokens,
        sum(cached_tokens) as cached_tokens, sum(reasoning_tokens) as reasoning_tokens,
        sum(cost_usd) as cost_usd, count(cost_usd) as costed_requests,
        sum(total_ms) as latency_sum, count(total_ms) as latency_count, max(total_ms) as latency_max,
        sum(ttft_ms) as ttft_sum, count(ttft_ms) as ttft_count, max(ttft_ms) as ttft_max,
        max(input_tokens) as input_max, max(output_tokens) as output_max
      from ${this.rows(slice, seq, TOTALS_SOURCES)} ${this.groupBy(slice, [])}`.execute(this.trx);
    return result.rows
      .filter((row) => num(row.requests) > 0)
      .map((row) => ({ ...this.keysOf(slice, row), agg: aggregateOf(row as Partial<RollupRow>, []) }));
  }

  async rawHistogram(slice: UsageSlice, seq: SeqRange, metric: HistogramMetric): Promise<AggregateRow[]> {
    const result = await sql<Record<string, unknown>>`select ${this.selectKeys(slice)}, ${histogramCaseOf(metric)} as hb, count(*) as n
      from ${this.rows(slice, seq, [METRIC_SOURCE[metric]], sql`${sql.ref(METRIC_SOURCE[metric])} is not null`)} ${this.groupBy(slice, [sql`hb`])}`.execute(this.trx);
    const out = new Map<string, AggregateRow>();
    for (const row of result.rows) {
      const keys = this.keysOf(slice, row);
      const key = JSON.stringify([keys.bucketMs, keys.group]);
      let found = out.get(key);
      if (!found) out.set(key, (found = { ...keys, agg: emptyAggregate() }));
      found.agg.hist[metric].set(num(row.hb), (found.agg.hist[metric].get(num(row.hb)) ?? 0) + num(row.n));
    }
    return [...out.values()];
  }

  /**
   * The ledger rows of a slice, as a FROM item. SQLite gets them through a subquery it cannot
   * flatten: grouping straight off the time index measured 30 times slower on 5M rows (its GROUP BY
   * sorter went back to the table row by row). A restriction to some groups applies after the time
   * range (behind the fence on PostgreSQL too), so an OR over group values never turns into index
   * scans over every row of a common value, such as "no conversation".
   */
  private rows(slice: UsageSlice, seq: SeqRange, measures: readonly string[], extra?: RawBuilder<unknown>): RawBuilder<unknown> {
    const where = extra === undefined ? this.where(slice, seq) : sql`${this.where(slice, seq)} and ${extra}`;
    const groups = this.groupsCondition(slice);
    if (this.driver === 'postgres' && groups === undefined) return sql`requests where ${where}`;
    const columns = [...new Set(['started_at_ms', ...slice.columns, ...measures])].map((column) => sql.ref(column));
    const fence = this.driver === 'postgres' ? sql`offset 0` : sql`limit -1`;
    const inner = sql`(select ${sql.join(columns)} from requests where ${where} ${fence}) as r`;
    return groups === undefined ? inner : sql`${inner} where ${groups}`;
  }

  private groupsCondition(slice: UsageSlice): RawBuilder<unknown> | undefined {
    if (slice.groups === undefined || slice.columns.length === 0) return undefined;
    const tuples = slice.groups.map((tuple) => sql`(${sql.join(slice.columns.map((column, index) => columnEquals(column, tuple[index] ?? null)), sql` and `)})`);
    return tuples.length === 0 ? sql`1 = 0` : sql`(${sql.join(tuples, sql` or `)})`;
  }

  private selectKeys(slice: UsageSlice): RawBuilder<unknown> {
    const bucket = slice.bucketMs === null ? sql`null` : sql`(started_at_ms - (started_at_ms % ${sql.lit(slice.bucketMs)}))`;
    return sql.join([sql`${bucket} as b`, ...slice.columns.map((column, index) => sql`${sql.ref(column)} as ${sql.ref(`g${index}`)}`)]);
  }

  private groupBy(slice: UsageSlice, extra: RawBuilder<unknown>[]): RawBuilder<unknown> {
    const keys = [...(slice.bucketMs === null ? [] : [sql`b`]), ...slice.columns.map((_, index) => sql.ref(`g${index}`)), ...extra];
    return keys.length === 0 ? sql`` : sql`group by ${sql.join(keys)}`;
  }

  private keysOf(slice: UsageSlice, row: Record<string, unknown>): Pick<AggregateRow, 'bucketMs' | 'group'> {
    return { bucketMs: slice.bucketMs === null ? null : num(row.b), group: slice.columns.map((_, index) => groupValue(row[`g${index}`])) };
  }

  private where(slice: UsageSlice, seq: SeqRange): RawBuilder<unknown> {
    const parts: RawBuilder<unknown>[] = [sql`started_at_ms >= ${slice.fromMs}`, sql`started_at_ms < ${slice.toMs}`];
    if (seq === 'folded') parts.push(sql`seq <= ${this.watermark}`);
    if (seq === 'unfolded') parts.push(sql`seq > ${this.watermark}`);
    for (const filter of slice.filters) parts.push(columnEquals(filter.column, filter.value));
    return sql.join(parts, sql` and `);
  }
}
