import { ERROR_REGISTRY } from '../core/errors.js';
import { HistogramState } from './metrics-aggregate.js';
import { STREAM_GAP_BOUNDS_MS } from './metrics-stream-gaps.js';

/** Histogram bounds in seconds (the exported `le` values). */
export const DURATION_BOUNDS_S = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];
export const TTFT_BOUNDS_S = [0.025, 0.05, 0.1, 0.25, 0.5, 0.75, 1, 1.5, 2, 3, 5, 10, 30];
export const OVERHEAD_BOUNDS_S = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1];
export const GAP_BOUNDS_S = STREAM_GAP_BOUNDS_MS.map((ms) => ms / 1000);

/** Label value for a model or provider name the running config does not define. */
export const OTHER = 'other';

/** The finest series a request updates: everything else is summed from these at scrape time. */
export class RequestSeries {
  /** `${status} ${code}` -> requests. */
  readonly outcomes = new Map<string, number>();
  inputTokens = 0;
  outputTokens = 0;
  cachedTokens = 0;
  reasoningTokens = 0;
  cacheWriteTokens = 0;
  costUsd = 0;
  readonly duration = new HistogramState(DURATION_BOUNDS_S);
  ttft: HistogramState | undefined;
  gaps: HistogramState | undefined;
  overhead: HistogramState | undefined;

  constructor(
    readonly endpoint: string,
    readonly dialect: string,
    readonly model: string,
    readonly provider: string,
    readonly stream: string,
  ) {}
}

/** A counter table keyed by label values joined with NUL. */
export class CountTable {
  readonly rows = new Map<string, { values: string[]; count: number }>();
  add(values: string[], amount = 1): void {
    const key = values.join('\u0000');
    const row = this.rows.get(key);
    if (row) row.count += amount;
    else this.rows.set(key, { values, count: amount });
  }
}

/** Error class of a code for `breakerbox_upstream_errors_total{class}` (the registry's kind). */
export function errorClassOf(code: string): string {
  return (ERROR_REGISTRY as Record<string, { kind: string } | undefined>)[code]?.kind ?? OTHER;
}
