import { emptyAggregate, mergeAggregate } from './aggregate.js';
import { groupColumns } from './dimensions.js';
import { MEASURES, histogramsFor, measureValue, type Measure, type MeasureName } from './measures.js';
import { planSegments, type Segment } from './planner.js';
import { filterColumn, formatDuration, type UsageQuery } from './query-spec.js';
import { coveringSet } from './rollup-sets.js';
import type { Aggregate, AggregateRow, GroupColumn, UsageFilter, UsageReader, UsageRepository, UsageSlice } from './types.js';

/** Unfolded rows beyond this many are left out of an answer (it says so) rather than scanned. */
export const UNFOLDED_LIMIT = 200_000;
/** Rows in one answer; `truncated` says when more matched. */
export const MAX_ANSWER_ROWS = 10_000;

export type MeasureValues = Record<string, number | null>;

export interface UsageAnswerRow {
  /** Start of the time bucket (ISO 8601), with `bucket` only. */
  bucket?: string;
  group: Record<string, string | null>;
  values?: MeasureValues;
  /** Comparisons: the measures in the baseline period, the current one, and the change of the order measure. */
  baseline?: MeasureValues;
  current?: MeasureValues;
  change?: { measure: string; delta: number | null; ratio: number | null };
}

export interface UsageAnswer {
  from: string;
  to: string;
  compare: { from: string; to: string } | null;
  group_by: string[];
  bucket: string | null;
  measures: string[];
  order: string;
  top: number | null;
  /** The team a team-admin's answer is limited to. */
  team: string | null;
  rows: UsageAnswerRow[];
  truncated: boolean;
  /** Where the numbers came from: `rollups:<set>/<grain>`, `raw:edges`, `raw:unfolded`, `raw:fallback`. */
  sources: string[];
  rollups: { watermark: number; unfolded_rows: number; unfolded_included: boolean };
}

interface GroupTotal {
  key: string;
  group: Array<string | null>;
  agg: Aggregate;
}

function groupKey(group: ReadonlyArray<string | null>): string {
  return JSON.stringify(group);
}

function addRows(into: Map<string, AggregateRow>, rows: readonly AggregateRow[]): void {
  for (const row of rows) {
    const key = JSON.stringify([row.bucketMs, row.group]);
    const found = into.get(key);
    if (found) mergeAggregate(found.agg, row.agg);
    else into.set(key, { bucketMs: row.bucketMs, group: row.group, agg: row.agg });
  }
}

/** Totals per group across buckets. */
function totalsByGroup(rows: Iterable<AggregateRow>): Map<string, GroupTotal> {
  const out = new Map<string, GroupTotal>();
  for (const row of rows) {
    const key = groupKey(row.group);
    let total = out.get(key);
    if (!total) out.set(key, (total = { key, group: row.group, agg: emptyAggregate() }));
    mergeAggregate(total.agg, row.agg);
  }
  return out;
}

/** Nulls last either way; ties broken by the group values so answers are stable. */
function compareValues(a: number | null, b: number | null, direction: 'asc' | 'desc'): number {
  if (a === null || b === null) return a === b ? 0 : a === null ? 1 : -1;
  return direction === 'asc' ? a - b : b - a;
}

function rank(totals: Iterable<GroupTotal>, order: UsageQuery['order']): GroupTotal[] {
  const scored = [...totals].map((total) => ({ total, score: measureValue(order.measure, total.agg) }));
  scored.sort((a, b) => compareValues(a.score, b.score, order.direction) || (a.total.key < b.total.key ? -1 : a.total.key > b.total.key ? 1 : 0));
  return scored.map((entry) => entry.total);
}

function valuesOf(measures: readonly MeasureName[], agg: Aggregate): MeasureValues {
  const out: MeasureValues = {};
  for (const name of measures) out[name] = measureValue(name, agg);
  return out;
}

interface Plan {
  columns: GroupColumn[];
  labels: string[];
  filters: UsageFilter[];
  set: ReturnType<typeof coveringSet>;
}

function planOf(query: UsageQuery): Plan {
  const pairs = groupColumns(query.groupBy);
  const filters: UsageFilter[] = query.filters.map((filter) => ({ column: filterColumn(filter.dim), value: filter.value }));
  if (query.scopeTeam !== undefined) filters.push({ column: 'team_name', value: query.scopeTeam });
  const columns = pairs.map(([column]) => column);
  const set = query.source === 'raw' ? undefined : coveringSet([...columns, ...filters.map((filter) => filter.column)]);
  return { columns, labels: pairs.map(([, label]) => label), filters, set };
}

/** Reads one period's groups (per bucket) from every segment of its plan. */
async function collect(reader: UsageReader, query: UsageQuery, plan: Plan, range: { fromMs: number; toMs: number }, tail: boolean, sources: Set<string>): Promise<Map<string, AggregateRow>> {
  const histograms = histogramsFor(query.measures);
  const segments: Segment[] = planSegments(range.fromMs, range.toMs, query.bucketMs, plan.set !== undefined);
  if (plan.set !== undefined && tail) segments.push({ kind: 'raw', fromMs: range.fromMs, toMs: range.toMs, seq: 'unfolded', reason: 'unfolded' });
  const rawSegments = segments.filter((segment) => segment.kind === 'raw');
  // Raw histograms cost a scan per metric; for a top N by a plain measure, fetch them for the winners only.
  const orderMeasure: Measure = MEASURES[query.order.measure];
  const defer = histograms.length > 0 && query.top !== null && query.compare === null && plan.columns.length > 0 && orderMeasure.histogram === undefined && rawSegments.length > 0;
  const entries = new Map<string, AggregateRow>();
  for (const segment of segments) {
    const slice: UsageSlice = { fromMs: segment.fromMs, toMs: segment.toMs, columns: plan.columns, bucketMs: query.bucketMs, filters: plan.filters, histograms };
    if (segment.kind === 'rollup') {
      const set = plan.set as NonNullable<Plan['set']>;
      addRows(entries, await reader.rollups(slice, set.name, segment.grain));
      sources.add(`rollups:${set.name}/${segment.grain}`);
      continue;
    }
    addRows(entries, await reader.rawTotals(slice, segment.seq));
    if (!defer) for (const metric of histograms) addRows(entries, await reader.rawHistogram(slice, segment.seq, metric));
    sources.add(`raw:${segment.reason}`);
  }
  if (defer) {
    const winners = rank(totalsByGroup(entries.values()).values(), query.order).slice(0, query.top ?? undefined).map((total) => total.group);
    for (const segment of rawSegments) {
      if (segment.kind !== 'raw' || winners.length === 0) continue;
      const slice: UsageSlice = { fromMs: segment.fromMs, toMs: segment.toMs, columns: plan.columns, bucketMs: query.bucketMs, filters: plan.filters, histograms, groups: winners };
      for (const metric of histograms) addRows(entries, await reader.rawHistogram(slice, segment.seq, metric));
    }
  }
  return entries;
}

function labelled(plan: Plan, group: ReadonlyArray<string | null>): Record<string, string | null> {
  const out: Record<string, string | null> = {};
  plan.labels.forEach((label, index) => (out[label] = group[index] ?? null));
  return out;
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

function periodRows(query: UsageQuery, plan: Plan, entries: Map<string, AggregateRow>): UsageAnswerRow[] {
  const ranked = rank(totalsByGroup(entries.values()).values(), query.order);
  const kept = query.top === null ? ranked : ranked.slice(0, query.top);
  if (query.bucketMs === null) return kept.map((total) => ({ group: labelled(plan, total.group), values: valuesOf(query.measures, total.agg) }));
  const position = new Map(kept.map((total, index) => [total.key, index]));
  return [...entries.values()]
    .filter((row) => position.has(groupKey(row.group)))
    .sort((a, b) => (a.bucketMs as number) - (b.bucketMs as number) || (position.get(groupKey(a.group)) as number) - (position.get(groupKey(b.group)) as number))
    .map((row) => ({ bucket: iso(row.bucketMs as number), group: labelled(plan, row.group), values: valuesOf(query.measures, row.agg) }));
}

function compareRows(query: UsageQuery, plan: Plan, current: Map<string, AggregateRow>, baseline: Map<string, AggregateRow>): UsageAnswerRow[] {
  const now = totalsByGroup(current.values());
  const before = totalsByGroup(baseline.values());
  const measure = query.order.measure;
  const rows = [...new Set([...now.keys(), ...before.keys()])].map((key) => {
    const group = (now.get(key) ?? before.get(key))?.group ?? [];
    const cur = now.get(key)?.agg ?? emptyAggregate();
    const base = before.get(key)?.agg ?? emptyAggregate();
    const a = measureValue(measure, base);
    const b = measureValue(measure, cur);
    const delta = a === null || b === null ? null : Math.round((b - a) * 1e6) / 1e6;
    const ratio = a === null || b === null || a === 0 ? null : Math.round((b / a) * 1e6) / 1e6;
    return { key, group, baseline: valuesOf(query.measures, base), current: valuesOf(query.measures, cur), change: { measure, delta, ratio } };
  });
  // Ranked by how many times the measure grew (or shrank, with :asc); new or vanished groups last.
  rows.sort((x, y) => compareValues(x.change.ratio, y.change.ratio, query.order.direction) || compareValues(x.change.delta, y.change.delta, query.order.direction) || (x.key < y.key ? -1 : 1));
  const kept = query.top === null ? rows : rows.slice(0, query.top);
  return kept.map(({ group, baseline, current, change }) => ({ group: labelled(plan, group), baseline, current, change }));
}

/**
 * Answers a query in one snapshot: rollups where they hold the dimensions, raw rows for partial
 * hours and what they do not hold, plus the rows not yet folded, so an answer is current even
 * between two runs of the rollup job.
 */
export async function runUsageQuery(repository: UsageRepository, query: UsageQuery): Promise<UsageAnswer> {
  const plan = planOf(query);
  const sources = new Set<string>();
  return repository.read(async (reader) => {
    const unfolded = Math.max(0, reader.maxSeq - reader.watermark);
    const included = unfolded <= UNFOLDED_LIMIT;
    const tail = included && unfolded > 0;
    const current = await collect(reader, query, plan, { fromMs: query.fromMs, toMs: query.toMs }, tail, sources);
    let rows: UsageAnswerRow[];
    if (query.compare !== null) {
      const baseline = await collect(reader, query, plan, query.compare, tail, sources);
      rows = compareRows(query, plan, current, baseline);
    } else {
      rows = periodRows(query, plan, current);
    }
    const truncated = rows.length > MAX_ANSWER_ROWS;
    return {
      from: iso(query.fromMs),
      to: iso(query.toMs),
      compare: query.compare === null ? null : { from: iso(query.compare.fromMs), to: iso(query.compare.toMs) },
      group_by: query.groupBy,
      bucket: query.bucketMs === null ? null : formatDuration(query.bucketMs),
      measures: query.measures,
      order: `${query.order.measure}:${query.order.direction}`,
      top: query.top,
      team: query.scopeTeam ?? null,
      rows: truncated ? rows.slice(0, MAX_ANSWER_ROWS) : rows,
      truncated,
      sources: [...sources].sort(),
      rollups: { watermark: reader.watermark, unfolded_rows: unfolded, unfolded_included: included || plan.set === undefined },
    };
  });
}
