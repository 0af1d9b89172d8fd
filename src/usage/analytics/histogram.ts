import type { Histogram } from './types.js';

/**
 * Fixed log-scale histogram buckets, shared by the rollups (counted in JS while folding) and the
 * raw queries (counted in SQL with a CASE over the same bounds), so both give the same percentile.
 * Bounds grow by about 15% per bucket, from 1 to 10^8 (ms or tokens): an estimate is off by at
 * most half a bucket, about 7%. A value v falls in bucket i where i is the number of bounds <= v.
 */
const GROWTH = 1.15;
const LIMIT = 1e8;

function makeBounds(): number[] {
  const bounds: number[] = [];
  for (let value = 1; value <= LIMIT; value *= GROWTH) {
    const rounded = Math.round(value);
    if (bounds[bounds.length - 1] !== rounded) bounds.push(rounded);
  }
  return bounds;
}

/** Ascending integer bounds; bucket 0 holds values below 1, the last one values from the last bound up. */
export const HISTOGRAM_BOUNDS: readonly number[] = makeBounds();

/** The bucket of a value: how many bounds are <= value (binary search, same comparisons as the SQL). */
export function bucketIndex(value: number): number {
  let lo = 0;
  let hi = HISTOGRAM_BOUNDS.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (value < (HISTOGRAM_BOUNDS[mid] as number)) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

export function addToHistogram(hist: Histogram, index: number, count = 1): void {
  hist.set(index, (hist.get(index) ?? 0) + count);
}

export function mergeHistogram(target: Histogram, source: Histogram): void {
  for (const [index, count] of source) addToHistogram(target, index, count);
}

/** Compact text for a rollup column: `index:count` pairs, ascending, comma-separated. */
export function encodeHistogram(hist: Histogram): string {
  return [...hist.entries()]
    .filter(([, count]) => count > 0)
    .sort((a, b) => a[0] - b[0])
    .map(([index, count]) => `${index}:${count}`)
    .join(',');
}

/** Adds the counts encoded in `text` to `target`. */
export function decodeHistogramInto(target: Histogram, text: string | null | undefined): void {
  if (!text) return;
  for (const pair of text.split(',')) {
    if (pair === '') continue;
    const colon = pair.indexOf(':');
    addToHistogram(target, Number(pair.slice(0, colon)), Number(pair.slice(colon + 1)));
  }
}

/**
 * The q-quantile (0 < q <= 1), interpolated linearly inside its bucket, never above the observed
 * maximum. Null for an empty histogram.
 */
export function histogramQuantile(hist: Histogram, q: number, max: number): number | null {
  let total = 0;
  for (const count of hist.values()) total += count;
  if (total === 0) return null;
  const rank = q * total;
  const indexes = [...hist.keys()].sort((a, b) => a - b);
  let seen = 0;
  for (const index of indexes) {
    const count = hist.get(index) as number;
    if (count <= 0) continue;
    if (seen + count >= rank) {
      const lower = index === 0 ? 0 : (HISTOGRAM_BOUNDS[index - 1] as number);
      const upper = index >= HISTOGRAM_BOUNDS.length ? Math.max(max, lower) : (HISTOGRAM_BOUNDS[index] as number);
      const value = lower + ((upper - lower) * (rank - seen)) / count;
      return Math.min(value, max);
    }
    seen += count;
  }
  return max;
}
