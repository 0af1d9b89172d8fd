import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { openRecordStore } from '../../store/open-store.js';
import { HISTOGRAM_BOUNDS, bucketIndex, histogramQuantile } from './histogram.js';
import { planSegments } from './planner.js';
import { parseUsageQuery, UsageQueryError } from './query-spec.js';
import { DAY_MS, HOUR_MS } from './rollup-sets.js';
import { describeUsageAnalytics, T0 } from './usage-analytics.contract.js';

describeUsageAnalytics('sqlite :memory:', () => openRecordStore({ driver: 'sqlite', path: ':memory:' }));

describe('usage histograms', () => {
  it('puts a value in the bucket whose bounds hold it', () => {
    assert.equal(bucketIndex(0), 0);
    assert.equal(bucketIndex(0.5), 0);
    assert.equal(bucketIndex(1), 1);
    for (const value of [7, 99, 1234.5, 65_000, 2e7]) {
      const index = bucketIndex(value);
      assert.ok((HISTOGRAM_BOUNDS[index - 1] as number) <= value && value < (HISTOGRAM_BOUNDS[index] as number), String(value));
    }
    assert.equal(bucketIndex(1e12), HISTOGRAM_BOUNDS.length);
  });

  it('estimates percentiles within about 7%', () => {
    const hist = new Map<number, number>();
    const values = Array.from({ length: 10_000 }, (_, i) => 1 + i * 3);
    for (const value of values) hist.set(bucketIndex(value), (hist.get(bucketIndex(value)) ?? 0) + 1);
    const max = values[values.length - 1] as number;
    for (const q of [0.5, 0.95, 0.99]) {
      const exact = values[Math.ceil(q * values.length) - 1] as number;
      const estimate = histogramQuantile(hist, q, max) as number;
      assert.ok(Math.abs(estimate - exact) / exact < 0.07, `q=${q}: ${estimate} vs ${exact}`);
    }
    assert.equal(histogramQuantile(new Map(), 0.5, 0), null);
  });
});

describe('usage query planning', () => {
  it('reads whole days from daily rollups, whole hours from hourly ones, partial hours raw', () => {
    const from = T0 + 30 * 60_000;
    const to = T0 + 3 * DAY_MS + 2 * HOUR_MS + 5 * 60_000;
    assert.deepEqual(planSegments(from, to, null, true), [
      { kind: 'raw', fromMs: from, toMs: T0 + HOUR_MS, seq: 'folded', reason: 'edges' },
      { kind: 'rollup', grain: 'hour', fromMs: T0 + HOUR_MS, toMs: T0 + DAY_MS },
      { kind: 'rollup', grain: 'day', fromMs: T0 + DAY_MS, toMs: T0 + 3 * DAY_MS },
      { kind: 'rollup', grain: 'hour', fromMs: T0 + 3 * DAY_MS, toMs: T0 + 3 * DAY_MS + 2 * HOUR_MS },
      { kind: 'raw', fromMs: T0 + 3 * DAY_MS + 2 * HOUR_MS, toMs: to, seq: 'folded', reason: 'edges' },
    ]);
    assert.deepEqual(planSegments(T0, T0 + 2 * DAY_MS, HOUR_MS, true), [{ kind: 'rollup', grain: 'hour', fromMs: T0, toMs: T0 + 2 * DAY_MS }]);
    assert.deepEqual(planSegments(T0, T0 + DAY_MS, 15 * 60_000, true), [{ kind: 'raw', fromMs: T0, toMs: T0 + DAY_MS, seq: 'all', reason: 'fallback' }]);
    assert.deepEqual(planSegments(T0, T0 + DAY_MS, null, false), [{ kind: 'raw', fromMs: T0, toMs: T0 + DAY_MS, seq: 'all', reason: 'fallback' }]);
  });

  it('parses relative and absolute times, buckets and comparisons', () => {
    const now = T0 + 10 * DAY_MS;
    const query = parseUsageQuery(new URLSearchParams('group_by=template,model&from=7d&bucket=1h&top=5&order=p95_latency_ms:asc&model=demo'), { now });
    assert.equal(query.fromMs, now - 7 * DAY_MS);
    assert.equal(query.toMs, now);
    assert.equal(query.bucketMs, HOUR_MS);
    assert.deepEqual(query.groupBy, ['template', 'model']);
    assert.deepEqual(query.order, { measure: 'p95_latency_ms', direction: 'asc' });
    assert.deepEqual(query.filters, [{ dim: 'model', value: 'demo' }]);
    const compare = parseUsageQuery(new URLSearchParams('from=2025-03-10&to=2025-03-10T12:00&compare_from=2025-03-09&compare_to=2025-03-09T12:00:00%2B02:00'), { now });
    assert.equal(compare.fromMs, Date.UTC(2025, 2, 10));
    assert.equal(compare.toMs, Date.UTC(2025, 2, 10, 12));
    assert.deepEqual(compare.compare, { fromMs: Date.UTC(2025, 2, 9), toMs: Date.UTC(2025, 2, 9, 10) });
  });

  it('names the bad parameter', () => {
    const bad: Array<[string, string]> = [
      ['group_by=colour', 'group_by'],
      ['from=yesterday', 'from'],
      ['from=2025-03-02&to=2025-03-01', 'from'],
      ['bucket=5s', 'bucket'],
      ['from=30d&bucket=1m', 'bucket'],
      ['measures=requests,vibes', 'measures'],
      ['order=requests:sideways', 'order'],
      ['top=0', 'top'],
      ['compare_from=14d', 'compare_to'],
      ['compare_from=14d&compare_to=7d&bucket=1h', 'bucket'],
      ['model=', 'model'],
      ['limit=3', 'limit'],
      ['source=cache', 'source'],
    ];
    for (const [text, param] of bad) {
      assert.throws(() => parseUsageQuery(new URLSearchParams(text), { now: T0 }), (error: unknown) => error instanceof UsageQueryError && error.param === param, text);
    }
  });
});
