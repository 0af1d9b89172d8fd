/**
 * The per-request summary of gaps between stream chunks, kept by the stream encoder and read by
 * the metrics at settle. It lives in `core/` next to the record type, since the pipeline may
 * not import `telemetry/`.
 */

/** Bucket upper bounds in milliseconds (`le` of the chunk-gap histogram); one more bucket holds the rest. */
export const STREAM_GAP_BOUNDS_MS: readonly number[] = [1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000];

/** What the record carries: bucket counts (not cumulative), their number and their sum. */
export interface StreamGapSummary {
  /** One count per bound of STREAM_GAP_BOUNDS_MS, then one for larger gaps. */
  readonly counts: readonly number[];
  readonly count: number;
  readonly sumMs: number;
}

/**
 * Counts gaps without keeping them: a fixed 12-number array per stream however long it runs, and
 * one clock read plus a short scan per chunk. Metrics add the counts to the histogram at settle.
 */
export class StreamGapMeter implements StreamGapSummary {
  readonly counts: number[] = new Array<number>(STREAM_GAP_BOUNDS_MS.length + 1).fill(0);
  count = 0;
  sumMs = 0;
  private last = -1;

  /** Call as each chunk goes out; the first call only starts the clock. */
  tick(now: number = performance.now()): void {
    if (this.last >= 0) this.observe(now - this.last);
    this.last = now;
  }

  observe(gapMs: number): void {
    let index = 0;
    while (index < STREAM_GAP_BOUNDS_MS.length && gapMs > (STREAM_GAP_BOUNDS_MS[index] as number)) index += 1;
    this.counts[index] = (this.counts[index] as number) + 1;
    this.count += 1;
    this.sumMs += gapMs;
  }
}
