import type { Metric, Registry } from 'prom-client';

/**
 * Counters and histograms kept as plain numbers per series and handed to prom-client's registry
 * only when scraped. prom-client's own `inc`/`observe` validate and hash the label object on every
 * call (about 1 µs each measured here, 6 to 10 per request); here a request costs one map lookup
 * on a prebuilt key and a few additions, and the registry still does the exposition.
 */

export type Labels = Record<string, string>;

/** Bucket counts (not cumulative; the last one is +Inf), their sum and count. */
export class HistogramState {
  readonly counts: Float64Array;
  sum = 0;
  count = 0;

  constructor(readonly bounds: readonly number[]) {
    this.counts = new Float64Array(bounds.length + 1);
  }

  observe(value: number): void {
    const bounds = this.bounds;
    let index = 0;
    while (index < bounds.length && value > (bounds[index] as number)) index += 1;
    this.counts[index] = (this.counts[index] as number) + 1;
    this.sum += value;
    this.count += 1;
  }

  /** Adds observations bucketed elsewhere against the same bounds (a stream's chunk gaps). */
  addCounts(counts: readonly number[], sum: number, count: number): void {
    const length = Math.min(counts.length, this.counts.length);
    for (let index = 0; index < length; index += 1) this.counts[index] = (this.counts[index] as number) + (counts[index] as number);
    this.sum += sum;
    this.count += count;
  }

  addState(other: HistogramState): void {
    this.addCounts(Array.from(other.counts), other.sum, other.count);
  }
}

interface MetricValueOut {
  value: number;
  labels: Labels;
  metricName?: string;
}

interface MetricObjectOut {
  name: string;
  help: string;
  type: 'counter' | 'histogram';
  aggregator: 'sum';
  values: MetricValueOut[];
}

/** One series of a collected metric. */
export interface CounterSample {
  labels: Labels;
  value: number;
}

export interface HistogramSample {
  labels: Labels;
  state: HistogramState;
}

/**
 * A metric whose values are read from our own tables at scrape time. It has the shape prom-client's
 * registry reads (`name`, `help`, `type`, `aggregator`, `get()`), so the registry formats it like
 * its own metrics, in Prometheus or OpenMetrics text.
 */
abstract class CollectedMetric {
  readonly aggregator = 'sum' as const;
  abstract readonly type: 'counter' | 'histogram';

  constructor(
    readonly name: string,
    readonly help: string,
  ) {}

  abstract get(): Promise<MetricObjectOut>;

  /** prom-client calls it from `registry.resetMetrics()`; our tables are reset by their owner. */
  reset(): void {}

  register(registry: Registry): void {
    // The registry only reads the members above; its type lists its own classes.
    registry.registerMetric(this as unknown as Metric);
  }
}

export class CollectedCounter extends CollectedMetric {
  readonly type = 'counter' as const;

  constructor(name: string, help: string, private readonly collect: () => Iterable<CounterSample>) {
    super(name, help);
  }

  get(): Promise<MetricObjectOut> {
    const values: MetricValueOut[] = [];
    for (const sample of this.collect()) values.push({ value: sample.value, labels: sample.labels });
    return Promise.resolve({ name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values });
  }
}

export class CollectedHistogram extends CollectedMetric {
  readonly type = 'histogram' as const;

  /** `bounds` are the exported `le` values (already in the metric's unit). */
  constructor(name: string, help: string, private readonly bounds: readonly number[], private readonly collect: () => Iterable<HistogramSample>) {
    super(name, help);
  }

  get(): Promise<MetricObjectOut> {
    const values: MetricValueOut[] = [];
    for (const { labels, state } of this.collect()) {
      let cumulative = 0;
      for (let index = 0; index <= this.bounds.length; index += 1) {
        cumulative += state.counts[index] as number;
        const le = index < this.bounds.length ? String(this.bounds[index]) : '+Inf';
        values.push({ metricName: `${this.name}_bucket`, labels: { ...labels, le }, value: cumulative });
      }
      values.push({ metricName: `${this.name}_sum`, labels, value: state.sum });
      values.push({ metricName: `${this.name}_count`, labels, value: state.count });
    }
    return Promise.resolve({ name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values });
  }
}

/**
 * Sums series over the labels a metric does not show (e.g. tokens by model without the dialect):
 * runs at scrape time, so requests only ever update the finest series.
 */
export function project<S, T>(series: Iterable<S>, labelsOf: (item: S) => Labels, valueOf: (item: S) => T | undefined, create: () => T, merge: (into: T, from: T) => void): Array<{ labels: Labels; value: T }> {
  const out = new Map<string, { labels: Labels; value: T }>();
  for (const item of series) {
    const value = valueOf(item);
    if (value === undefined) continue;
    const labels = labelsOf(item);
    const key = Object.values(labels).join('\u0000');
    let entry = out.get(key);
    if (!entry) {
      entry = { labels, value: create() };
      out.set(key, entry);
    }
    merge(entry.value, value);
  }
  return [...out.values()];
}
