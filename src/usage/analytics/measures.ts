import { histogramQuantile } from './histogram.js';
import type { Aggregate, HistogramMetric } from './types.js';

/** How a measure prints: a count, tokens, dollars, milliseconds, or a fraction. */
export type MeasureKind = 'count' | 'tokens' | 'usd' | 'ms' | 'rate';

export interface Measure {
  kind: MeasureKind;
  /** The histogram a percentile reads. */
  histogram?: HistogramMetric;
  description: string;
  value(agg: Aggregate): number | null;
}

function ratio(numerator: number, denominator: number): number | null {
  return denominator > 0 ? numerator / denominator : null;
}

function percentile(metric: HistogramMetric, q: number, kind: MeasureKind, label: string): Measure {
  const max = (agg: Aggregate) => (metric === 'latency' ? agg.latencyMax : metric === 'ttft' ? agg.ttftMax : agg.inputMax);
  return { kind, histogram: metric, description: `${label}, approximate (log-scale histogram, within about 7%)`, value: (agg) => histogramQuantile(agg.hist[metric], q, max(agg)) };
}

export const MEASURES = {
  requests: { kind: 'count', description: 'requests', value: (agg) => agg.requests },
  errors: { kind: 'count', description: 'requests answered with an error (4xx/5xx or an error code)', value: (agg) => agg.errors },
  error_rate: { kind: 'rate', description: 'errors / requests', value: (agg) => ratio(agg.errors, agg.requests) },
  input_tokens: { kind: 'tokens', description: 'input (prompt) tokens', value: (agg) => agg.inputTokens },
  output_tokens: { kind: 'tokens', description: 'output (completion) tokens', value: (agg) => agg.outputTokens },
  cached_tokens: { kind: 'tokens', description: 'input tokens served from the provider cache', value: (agg) => agg.cachedTokens },
  reasoning_tokens: { kind: 'tokens', description: 'reasoning tokens (part of output)', value: (agg) => agg.reasoningTokens },
  total_tokens: { kind: 'tokens', description: 'input + output tokens', value: (agg) => agg.inputTokens + agg.outputTokens },
  cost_usd: { kind: 'usd', description: 'cost in US dollars (null when no request had a known price)', value: (agg) => (agg.costedRequests > 0 ? agg.costUsd : null) },
  input_tokens_per_request: { kind: 'tokens', description: 'average input tokens per request', value: (agg) => ratio(agg.inputTokens, agg.requests) },
  output_tokens_per_request: { kind: 'tokens', description: 'average output tokens per request', value: (agg) => ratio(agg.outputTokens, agg.requests) },
  cost_per_request_usd: { kind: 'usd', description: 'average cost per priced request', value: (agg) => ratio(agg.costUsd, agg.costedRequests) },
  avg_latency_ms: { kind: 'ms', description: 'average total latency', value: (agg) => ratio(agg.latencySum, agg.latencyCount) },
  avg_ttft_ms: { kind: 'ms', description: 'average time to first token (streams)', value: (agg) => ratio(agg.ttftSum, agg.ttftCount) },
  max_input_tokens: { kind: 'tokens', description: 'largest prompt', value: (agg) => (agg.requests > 0 ? agg.inputMax : null) },
  max_output_tokens: { kind: 'tokens', description: 'largest answer', value: (agg) => (agg.requests > 0 ? agg.outputMax : null) },
  max_latency_ms: { kind: 'ms', description: 'slowest request', value: (agg) => (agg.latencyCount > 0 ? agg.latencyMax : null) },
  p50_latency_ms: percentile('latency', 0.5, 'ms', 'median total latency'),
  p95_latency_ms: percentile('latency', 0.95, 'ms', '95th percentile of total latency'),
  p99_latency_ms: percentile('latency', 0.99, 'ms', '99th percentile of total latency'),
  p50_ttft_ms: percentile('ttft', 0.5, 'ms', 'median time to first token'),
  p95_ttft_ms: percentile('ttft', 0.95, 'ms', '95th percentile of time to first token'),
  p99_ttft_ms: percentile('ttft', 0.99, 'ms', '99th percentile of time to first token'),
  p50_input_tokens: percentile('input', 0.5, 'tokens', 'median prompt size'),
  p95_input_tokens: percentile('input', 0.95, 'tokens', '95th percentile of prompt size'),
  p99_input_tokens: percentile('input', 0.99, 'tokens', '99th percentile of prompt size'),
} as const satisfies Record<string, Measure>;

export type MeasureName = keyof typeof MEASURES;
export const MEASURE_NAMES = Object.keys(MEASURES) as MeasureName[];

/** What an answer shows when the caller names no measures. */
export const DEFAULT_MEASURES: readonly MeasureName[] = ['requests', 'errors', 'input_tokens', 'output_tokens', 'cost_usd', 'avg_latency_ms', 'p95_latency_ms'];

export function isMeasure(name: string): name is MeasureName {
  return Object.hasOwn(MEASURES, name);
}

/** Rounded for the answer: sums of floats differ in the last bits depending on the order they were added. */
export function measureValue(name: MeasureName, agg: Aggregate): number | null {
  const measure: Measure = MEASURES[name];
  const value = measure.value(agg);
  if (value === null || !Number.isFinite(value)) return null;
  const digits = measure.kind === 'usd' ? 9 : measure.kind === 'rate' ? 6 : 2;
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}

export function histogramsFor(measures: readonly MeasureName[]): HistogramMetric[] {
  const out = new Set<HistogramMetric>();
  for (const name of measures) {
    const metric = (MEASURES[name] as Measure).histogram;
    if (metric) out.add(metric);
  }
  return [...out];
}
