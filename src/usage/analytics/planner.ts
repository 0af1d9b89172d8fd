import { DAY_MS, HOUR_MS } from './rollup-sets.js';
import type { RollupGrain, SeqRange } from './types.js';

/** One piece of a query's time range and where its rows come from. */
export type Segment =
  | { kind: 'rollup'; grain: RollupGrain; fromMs: number; toMs: number }
  | { kind: 'raw'; fromMs: number; toMs: number; seq: SeqRange; reason: 'edges' | 'unfolded' | 'fallback' };

function floorTo(ms: number, size: number): number {
  return ms - (((ms % size) + size) % size);
}

function ceilTo(ms: number, size: number): number {
  const floored = floorTo(ms, size);
  return floored === ms ? ms : floored + size;
}

/**
 * Splits [fromMs, toMs) into rollup and raw pieces. Whole UTC days come from the daily rollups
 * (unless the bucket is smaller than a day), whole hours from the hourly ones, and the partial
 * hours at either end from raw rows with seq <= watermark. Without rollups (a dimension the
 * rollups do not keep, a bucket that is not whole hours) the whole range is read raw. The rows
 * above the watermark (the unfolded tail) are the caller's to add.
 */
export function planSegments(fromMs: number, toMs: number, bucketMs: number | null, useRollups: boolean): Segment[] {
  const fallback: Segment[] = [{ kind: 'raw', fromMs, toMs, seq: 'all', reason: 'fallback' }];
  if (!useRollups || (bucketMs !== null && bucketMs % HOUR_MS !== 0)) return fallback;
  const hourStart = ceilTo(fromMs, HOUR_MS);
  const hourEnd = floorTo(toMs, HOUR_MS);
  if (hourStart >= hourEnd) return fallback;
  const segments: Segment[] = [];
  if (fromMs < hourStart) segments.push({ kind: 'raw', fromMs, toMs: hourStart, seq: 'folded', reason: 'edges' });
  const days = bucketMs === null || bucketMs % DAY_MS === 0;
  const dayStart = ceilTo(hourStart, DAY_MS);
  const dayEnd = floorTo(hourEnd, DAY_MS);
  if (days && dayStart < dayEnd) {
    if (hourStart < dayStart) segments.push({ kind: 'rollup', grain: 'hour', fromMs: hourStart, toMs: dayStart });
    segments.push({ kind: 'rollup', grain: 'day', fromMs: dayStart, toMs: dayEnd });
    if (dayEnd < hourEnd) segments.push({ kind: 'rollup', grain: 'hour', fromMs: dayEnd, toMs: hourEnd });
  } else {
    segments.push({ kind: 'rollup', grain: 'hour', fromMs: hourStart, toMs: hourEnd });
  }
  if (hourEnd < toMs) segments.push({ kind: 'raw', fromMs: hourEnd, toMs, seq: 'folded', reason: 'edges' });
  return segments;
}
