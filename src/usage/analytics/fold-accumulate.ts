import { addRequest, bucketsOf, emptyAggregate, mergeAggregate } from './aggregate.js';
import { DAY_MS, HOUR_MS, ROLLUP_SETS, type RollupSet } from './rollup-sets.js';
import type { Aggregate, RollupGrain } from './types.js';

/**
 * The in-memory half of folding ledger rows into rollups: one chunk of rows summed per dimension
 * set and hour, then per day. The store reads the rows and writes the result.
 */

/** A ledger row as the store reads it (pg hands bigint back as text, so values are converted here). */
export type FoldRow = Record<string, unknown>;

/** One rollup row being built while folding. */
export interface PendingRollup {
  set: RollupSet;
  grain: RollupGrain;
  bucketMs: number;
  /** The set's columns' values (d0, d1, ...), '' for absent. */
  dims: string[];
  agg: Aggregate;
}

/** Every ledger column some rollup set keeps. */
export const FOLD_DIMENSIONS = [...new Set(ROLLUP_SETS.flatMap((set) => set.columns))];

function num(value: unknown): number {
  return value === null || value === undefined ? 0 : Number(value);
}

function numOrNull(value: unknown): number | null {
  return value === null || value === undefined ? null : Number(value);
}

function text(value: unknown): string {
  return value === null || value === undefined ? '' : String(value);
}

/** A rollup row's identity in memory; `dims` holds only the set's own columns. */
export function rollupKey(set: string, grain: string, bucketMs: number, dims: readonly string[]): string {
  return `${set}\u0001${grain}\u0001${bucketMs}\u0001${dims.join('\u0001')}`;
}

/** Each set's columns as positions in FOLD_DIMENSIONS, so a row's values are read once. */
const SET_POSITIONS = ROLLUP_SETS.map((set) => ({ set, positions: set.columns.map((column) => FOLD_DIMENSIONS.indexOf(column)) }));

/** Nested maps keyed by the values themselves: no key string built per row and set. */
type Tree = Map<string | number, Tree | PendingRollup>;

/** Sums one chunk of ledger rows per set and hour, then the hours per day. */
export function accumulate(rows: readonly FoldRow[]): Map<string, PendingRollup> {
  const roots = SET_POSITIONS.map(() => new Map() as Tree);
  const hourly: PendingRollup[] = [];
  const values: string[] = FOLD_DIMENSIONS.map(() => '');
  for (const row of rows) {
    const started = num(row.started_at_ms);
    const hour = started - (started % HOUR_MS);
    const facts = {
      status: num(row.status),
      errorCode: row.error_code === null || row.error_code === undefined ? null : String(row.error_code),
      inputTokens: numOrNull(row.input_tokens),
      outputTokens: numOrNull(row.output_tokens),
      cachedTokens: numOrNull(row.cached_tokens),
      reasoningTokens: numOrNull(row.reasoning_tokens),
      costUsd: numOrNull(row.cost_usd),
      totalMs: numOrNull(row.total_ms),
      ttftMs: numOrNull(row.ttft_ms),
    };
    const buckets = bucketsOf(facts);
    for (let index = 0; index < FOLD_DIMENSIONS.length; index += 1) values[index] = text(row[FOLD_DIMENSIONS[index] as string]);
    for (let s = 0; s < SET_POSITIONS.length; s += 1) {
      const { set, positions } = SET_POSITIONS[s] as (typeof SET_POSITIONS)[number];
      let node = roots[s] as Tree;
      let next = node.get(hour);
      if (next === undefined) node.set(hour, (next = new Map()));
      node = next as Tree;
      for (let index = 0; index < positions.length - 1; index += 1) {
        const value = values[positions[index] as number] as string;
        next = node.get(value);
        if (next === undefined) node.set(value, (next = new Map()));
        node = next as Tree;
      }
      const last = values[positions[positions.length - 1] as number] as string;
      let entry = node.get(last) as PendingRollup | undefined;
      if (entry === undefined) {
        entry = { set, grain: 'hour', bucketMs: hour, dims: positions.map((position) => values[position] as string), agg: emptyAggregate() };
        node.set(last, entry);
        hourly.push(entry);
      }
      addRequest(entry.agg, facts, buckets);
    }
  }
  const pending = new Map<string, PendingRollup>();
  for (const entry of hourly) {
    pending.set(rollupKey(entry.set.name, 'hour', entry.bucketMs, entry.dims), entry);
    const day = entry.bucketMs - (entry.bucketMs % DAY_MS);
    const key = rollupKey(entry.set.name, 'day', day, entry.dims);
    let daily = pending.get(key);
    if (!daily) pending.set(key, (daily = { set: entry.set, grain: 'day', bucketMs: day, dims: entry.dims, agg: emptyAggregate() }));
    mergeAggregate(daily.agg, entry.agg);
  }
  return pending;
}
