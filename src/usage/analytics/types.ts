/**
 * The data shapes shared by the analytics queries and the record store's usage repository.
 * A leaf: imports nothing, so the store can depend on it without depending on the queries.
 */

/** Columns of the ledger's `requests` table that analytics may group or filter by. */
export const GROUP_COLUMNS = [
  'team_name',
  'requested_model',
  'provider',
  'served_model',
  'endpoint',
  'key_prefix',
  'key_name',
  'user_name',
  'customer',
  'template_id',
  'template_version',
  'conversation_id',
] as const;
export type GroupColumn = (typeof GROUP_COLUMNS)[number];

/** Distributions kept as log-scale histograms: total latency, time to first token, input tokens. */
export const HISTOGRAM_METRICS = ['latency', 'ttft', 'input'] as const;
export type HistogramMetric = (typeof HISTOGRAM_METRICS)[number];

/** Bucket index -> count (see histogram.ts for the bucket bounds). */
export type Histogram = Map<number, number>;

/**
 * Everything the measures are computed from, for one group. Sums, counts and maxima merge by
 * addition and max; histograms by adding counts per bucket. So a rollup row, a raw SQL aggregate
 * and a merge of both are the same kind of value.
 */
export interface Aggregate {
  requests: number;
  errors: number;
  inputTokens: number;
  outputTokens: number;
  cachedTokens: number;
  reasoningTokens: number;
  costUsd: number;
  /** Requests with a known cost (cost_usd not null). */
  costedRequests: number;
  latencySum: number;
  latencyCount: number;
  latencyMax: number;
  ttftSum: number;
  ttftCount: number;
  ttftMax: number;
  inputMax: number;
  outputMax: number;
  hist: Record<HistogramMetric, Histogram>;
}

/** One group of a query answer: the time bucket (start, epoch ms), the group values, the aggregate. */
export interface AggregateRow {
  bucketMs: number | null;
  /** Values of `UsageSlice.columns`, in that order; null for absent (NULL or empty) values. */
  group: Array<string | null>;
  agg: Aggregate;
}

/** An equality filter on one column (team scoping is one). */
export interface UsageFilter {
  column: GroupColumn;
  value: string;
}

/** What to aggregate over a time range: the store answers it from rollups or raw rows. */
export interface UsageSlice {
  /** started_at_ms range [fromMs, toMs). */
  fromMs: number;
  toMs: number;
  columns: readonly GroupColumn[];
  /** Time bucket size; null for one bucket over the whole range. */
  bucketMs: number | null;
  filters: readonly UsageFilter[];
  /** Histograms to fill (rollup reads select only these). */
  histograms: readonly HistogramMetric[];
  /** Raw histogram reads only: restrict to these group tuples (the top N of a first pass). */
  groups?: ReadonlyArray<ReadonlyArray<string | null>>;
}

/** Names of the dimension sets kept in the rollups (rollup-sets.ts). */
export type RollupSetName = 'team' | 'model' | 'template' | 'customer' | 'key' | 'serving';
export type RollupGrain = 'hour' | 'day';

/** Which raw rows, relative to the rollup watermark read in the same snapshot. */
export type SeqRange = 'folded' | 'unfolded' | 'all';

/** Reads inside one consistent snapshot, so rollups and the unfolded tail neither overlap nor miss. */
export interface UsageReader {
  /** Rows with seq <= watermark are in the rollups. */
  readonly watermark: number;
  /** The highest seq in the ledger. */
  readonly maxSeq: number;
  rollups(slice: UsageSlice, set: RollupSetName, grain: RollupGrain): Promise<AggregateRow[]>;
  /** Sums, counts and maxima from raw rows; histograms stay empty. */
  rawTotals(slice: UsageSlice, seq: SeqRange): Promise<AggregateRow[]>;
  /** One histogram from raw rows (computed in SQL with the same bucket bounds); scalars stay 0. */
  rawHistogram(slice: UsageSlice, seq: SeqRange, metric: HistogramMetric): Promise<AggregateRow[]>;
}

export interface FoldOptions {
  /** Stop after about this many rows (the gateway's job bounds one tick); default: all. */
  maxRows?: number;
  /** Rows read and written per transaction. */
  chunkRows?: number;
  /**
   * PostgreSQL only: fold only rows whose seq was already the highest visible this long ago, so a
   * transaction still in flight with a lower seq is not skipped. 0 folds up to the current max.
   */
  settleMs?: number;
  /** The clock, for tests. */
  now?: number;
}

export interface FoldResult {
  /** Ledger rows folded by this call. */
  folded: number;
  /** The watermark after this call. */
  watermark: number;
  /** More rows could be folded right now (the call stopped at `maxRows`). */
  pending: boolean;
  /** Ledger rows above the watermark (about: seq gaps count), including rows still settling on PostgreSQL. */
  unfolded: number;
}

/** The record store's analytics side: rollup maintenance and snapshot reads. */
export interface UsageRepository {
  /**
   * Folds ledger rows with seq above the stored watermark into the hourly and daily rollups and
   * moves the watermark, in one transaction per chunk. Safe to run from several instances at
   * once: a chunk whose watermark moved meanwhile is dropped.
   */
  fold(options?: FoldOptions): Promise<FoldResult>;
  /** Runs `work` in one read-only snapshot. */
  read<T>(work: (reader: UsageReader) => Promise<T>): Promise<T>;
}
