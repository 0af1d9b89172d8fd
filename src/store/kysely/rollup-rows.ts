import { emptyAggregate } from '../../usage/analytics/aggregate.js';
import type { PendingRollup } from '../../usage/analytics/fold-accumulate.js';
import { decodeHistogramInto, encodeHistogram } from '../../usage/analytics/histogram.js';
import { ROLLUP_DIMENSION_COLUMNS } from '../../usage/analytics/rollup-sets.js';
import type { Aggregate, HistogramMetric } from '../../usage/analytics/types.js';

/*
 * The usage rollup tables (migration 004) as rows and columns, shared by the query-builder
 * repository and SQLite's fold on the ledger's insert.
 */

/** Migration 004's tables; bigint columns come back as strings from pg. */
export interface UsageRollupsTable {
  dimset: string;
  grain: string;
  bucket_ms: number | string;
  d0: string;
  d1: string;
  d2: string;
  d3: string;
  d4: string;
  requests: number | string;
  errors: number | string;
  input_tokens: number | string;
  output_tokens: number | string;
  cached_tokens: number | string;
  reasoning_tokens: number | string;
  costed_requests: number | string;
  latency_count: number | string;
  ttft_count: number | string;
  input_max: number | string;
  output_max: number | string;
  cost_usd: number;
  latency_sum: number;
  latency_max: number;
  ttft_sum: number;
  ttft_max: number;
  h_latency: string;
  h_ttft: string;
  h_input: string;
}

export interface UsageRollupStateTable {
  name: string;
  value: number | string;
}

/** A rollup row as read back: pg returns bigint and numeric columns as text. */
export type RollupRow = Omit<UsageRollupsTable, 'cost_usd' | 'latency_sum' | 'latency_max' | 'ttft_sum' | 'ttft_max'> & Record<'cost_usd' | 'latency_sum' | 'latency_max' | 'ttft_sum' | 'ttft_max', number | string>;


export const SCALAR_COLUMNS = [
  'requests', 'errors', 'input_tokens', 'output_tokens', 'cached_tokens', 'reasoning_tokens', 'costed_requests', 'latency_count',
  'ttft_count', 'input_max', 'output_max', 'cost_usd', 'latency_sum', 'latency_max', 'ttft_sum', 'ttft_max',
] as const;
export const INSERT_COLUMNS = ['dimset', 'grain', 'bucket_ms', ...ROLLUP_DIMENSION_COLUMNS, ...SCALAR_COLUMNS, 'h_latency', 'h_ttft', 'h_input'] as const;
/** An upsert writes the merged totals (the fold read the stored row first, in the same transaction). */
export const UPDATE_COLUMNS = [...SCALAR_COLUMNS, 'h_latency', 'h_ttft', 'h_input'] as const;
export const MAX_COLUMNS: ReadonlySet<string> = new Set(['latency_max', 'ttft_max', 'input_max', 'output_max']);
export const HISTOGRAM_COLUMN: Record<HistogramMetric, 'h_latency' | 'h_ttft' | 'h_input'> = { latency: 'h_latency', ttft: 'h_ttft', input: 'h_input' };

export function num(value: unknown): number {
  return value === null || value === undefined ? 0 : Number(value);
}

/** A stored (or summed) rollup row as an Aggregate, with the histograms asked for. */
export function aggregateOf(row: Partial<RollupRow>, histograms: readonly HistogramMetric[]): Aggregate {
  const agg = emptyAggregate();
  agg.requests = num(row.requests);
  agg.errors = num(row.errors);
  agg.inputTokens = num(row.input_tokens);
  agg.outputTokens = num(row.output_tokens);
  agg.cachedTokens = num(row.cached_tokens);
  agg.reasoningTokens = num(row.reasoning_tokens);
  agg.costUsd = num(row.cost_usd);
  agg.costedRequests = num(row.costed_requests);
  agg.latencySum = num(row.latency_sum);
  agg.latencyCount = num(row.latency_count);
  agg.latencyMax = num(row.latency_max);
  agg.ttftSum = num(row.ttft_sum);
  agg.ttftCount = num(row.ttft_count);
  agg.ttftMax = num(row.ttft_max);
  agg.inputMax = num(row.input_max);
  agg.outputMax = num(row.output_max);
  for (const metric of histograms) decodeHistogramInto(agg.hist[metric], row[HISTOGRAM_COLUMN[metric]] as string | undefined);
  return agg;
}

/** Appends one rollup row's values in INSERT_COLUMNS order. */
export function rollupParams(entry: PendingRollup, out: unknown[]): void {
  const { agg, dims } = entry;
  out.push(entry.set.name, entry.grain, entry.bucketMs, dims[0] ?? '', dims[1] ?? '', dims[2] ?? '', dims[3] ?? '', dims[4] ?? '');
  out.push(agg.requests, agg.errors, agg.inputTokens, agg.outputTokens, agg.cachedTokens, agg.reasoningTokens, agg.costedRequests, agg.latencyCount);
  out.push(agg.ttftCount, agg.inputMax, agg.outputMax, agg.costUsd, agg.latencySum, agg.latencyMax, agg.ttftSum, agg.ttftMax);
  out.push(encodeHistogram(agg.hist.latency), encodeHistogram(agg.hist.ttft), encodeHistogram(agg.hist.input));
}

/** The rollup upsert for `rows` rows: the values are merged totals, so a conflict overwrites. */
export function rollupUpsertSql(rows: number, driver: 'sqlite' | 'postgres'): string {
  let index = 0;
  const placeholder = () => (driver === 'postgres' ? `$${++index}` : '?');
  const tuples = Array.from({ length: rows }, () => `(${INSERT_COLUMNS.map(placeholder).join(',')})`);
  const updates = UPDATE_COLUMNS.map((column) => `${column} = excluded.${column}`).join(', ');
  return `insert into usage_rollups (${INSERT_COLUMNS.join(', ')}) values ${tuples.join(',')} on conflict (dimset, grain, bucket_ms, ${ROLLUP_DIMENSION_COLUMNS.join(', ')}) do update set ${updates}`;
}
