import { addToHistogram, bucketIndex, mergeHistogram } from './histogram.js';
import type { Aggregate } from './types.js';

export function emptyAggregate(): Aggregate {
  return {
    requests: 0,
    errors: 0,
    inputTokens: 0,
    outputTokens: 0,
    cachedTokens: 0,
    reasoningTokens: 0,
    costUsd: 0,
    costedRequests: 0,
    latencySum: 0,
    latencyCount: 0,
    latencyMax: 0,
    ttftSum: 0,
    ttftCount: 0,
    ttftMax: 0,
    inputMax: 0,
    outputMax: 0,
    hist: { latency: new Map(), ttft: new Map(), input: new Map() },
  };
}

/** The facts of one ledger row that the measures use. */
export interface RequestFacts {
  status: number;
  errorCode: string | null;
  inputTokens: number | null;
  outputTokens: number | null;
  cachedTokens: number | null;
  reasoningTokens: number | null;
  costUsd: number | null;
  totalMs: number | null;
  ttftMs: number | null;
}

/** An error is a 4xx/5xx answer or any error code (a stream that broke off after a 200 too). */
export function isError(status: number, errorCode: string | null): boolean {
  return status >= 400 || (errorCode !== null && errorCode !== '');
}

/** The histogram buckets of one row (-1: no value), computed once for all the groups it joins. */
export interface FactBuckets {
  latency: number;
  ttft: number;
  input: number;
}

export function bucketsOf(row: RequestFacts): FactBuckets {
  return {
    latency: row.totalMs === null ? -1 : bucketIndex(row.totalMs),
    ttft: row.ttftMs === null ? -1 : bucketIndex(row.ttftMs),
    input: row.inputTokens === null ? -1 : bucketIndex(row.inputTokens),
  };
}

/** Adds one row. The same rules as the raw SQL: NULL counts and timings are left out. */
export function addRequest(agg: Aggregate, row: RequestFacts, buckets: FactBuckets = bucketsOf(row)): void {
  agg.requests += 1;
  if (isError(row.status, row.errorCode)) agg.errors += 1;
  const input = row.inputTokens ?? 0;
  const output = row.outputTokens ?? 0;
  agg.inputTokens += input;
  agg.outputTokens += output;
  agg.cachedTokens += row.cachedTokens ?? 0;
  agg.reasoningTokens += row.reasoningTokens ?? 0;
  if (row.outputTokens !== null && output > agg.outputMax) agg.outputMax = output;
  if (row.inputTokens !== null) {
    if (input > agg.inputMax) agg.inputMax = input;
    addToHistogram(agg.hist.input, buckets.input);
  }
  if (row.costUsd !== null) {
    agg.costUsd += row.costUsd;
    agg.costedRequests += 1;
  }
  if (row.totalMs !== null) {
    agg.latencySum += row.totalMs;
    agg.latencyCount += 1;
    if (row.totalMs > agg.latencyMax) agg.latencyMax = row.totalMs;
    addToHistogram(agg.hist.latency, buckets.latency);
  }
  if (row.ttftMs !== null) {
    agg.ttftSum += row.ttftMs;
    agg.ttftCount += 1;
    if (row.ttftMs > agg.ttftMax) agg.ttftMax = row.ttftMs;
    addToHistogram(agg.hist.ttft, buckets.ttft);
  }
}

/** Adds `source` into `target` (sums add, maxima take the larger, histograms add per bucket). */
export function mergeAggregate(target: Aggregate, source: Aggregate): void {
  target.requests += source.requests;
  target.errors += source.errors;
  target.inputTokens += source.inputTokens;
  target.outputTokens += source.outputTokens;
  target.cachedTokens += source.cachedTokens;
  target.reasoningTokens += source.reasoningTokens;
  target.costUsd += source.costUsd;
  target.costedRequests += source.costedRequests;
  target.latencySum += source.latencySum;
  target.latencyCount += source.latencyCount;
  target.latencyMax = Math.max(target.latencyMax, source.latencyMax);
  target.ttftSum += source.ttftSum;
  target.ttftCount += source.ttftCount;
  target.ttftMax = Math.max(target.ttftMax, source.ttftMax);
  target.inputMax = Math.max(target.inputMax, source.inputMax);
  target.outputMax = Math.max(target.outputMax, source.outputMax);
  mergeHistogram(target.hist.latency, source.hist.latency);
  mergeHistogram(target.hist.ttft, source.hist.ttft);
  mergeHistogram(target.hist.input, source.hist.input);
}
