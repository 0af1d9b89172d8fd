import { DIMENSIONS, DIMENSION_NAMES, isDimension, type DimensionName } from './dimensions.js';
import { DEFAULT_MEASURES, MEASURE_NAMES, isMeasure, type MeasureName } from './measures.js';

/** A validated analytics query (the admin API's query string and the CLI's flags both become one). */
export interface UsageQuery {
  groupBy: DimensionName[];
  fromMs: number;
  toMs: number;
  bucketMs: number | null;
  measures: MeasureName[];
  order: { measure: MeasureName; direction: 'asc' | 'desc' };
  top: number | null;
  /** The baseline period of a comparison; [fromMs, toMs) is then the current one. */
  compare: { fromMs: number; toMs: number } | null;
  filters: Array<{ dim: DimensionName; value: string }>;
  /** Team-admins see their own team's rows only. */
  scopeTeam?: string;
  /** `raw` skips the rollups (slow on large ledgers; for checking them). */
  source: 'auto' | 'raw';
}

/** A bad parameter; the admin API answers 400 naming it. */
export class UsageQueryError extends Error {
  constructor(
    readonly param: string,
    message: string,
  ) {
    super(message);
    this.name = 'UsageQueryError';
  }
}

const MINUTE_MS = 60_000;
const UNITS: Record<string, number> = { m: MINUTE_MS, h: 60 * MINUTE_MS, d: 24 * 60 * MINUTE_MS, w: 7 * 24 * 60 * MINUTE_MS };
const MAX_RANGE_MS = 3 * 366 * UNITS.d!;
const MAX_BUCKETS = 10_000;
const MAX_TOP = 10_000;
const DEFAULT_RANGE_MS = UNITS.d!;
const RELATIVE = /^(\d{1,6})(m|h|d|w)$/;
const ISO = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?)?$/i;

export const QUERY_PARAMS = ['group_by', 'from', 'to', 'bucket', 'measures', 'order', 'top', 'compare_from', 'compare_to', 'source', ...DIMENSION_NAMES] as const;

/**
 * A time: ISO 8601 (a date is midnight UTC; a time without offset is UTC), `now`, or a duration
 * before now such as `30m`, `24h`, `7d`, `2w`.
 */
export function parseTime(text: string, now: number, param: string): number {
  const value = text.trim();
  if (value === 'now') return now;
  const relative = RELATIVE.exec(value);
  if (relative) return now - Number(relative[1]) * (UNITS[relative[2] as string] as number);
  const iso = ISO.exec(value);
  if (iso) {
    const utc = value.length > 10 && iso[1] === undefined ? `${value.replace(' ', 'T')}Z` : value.replace(' ', 'T');
    const parsed = Date.parse(utc);
    if (Number.isFinite(parsed)) return parsed;
  }
  throw new UsageQueryError(param, `${param} must be an ISO date or time (2025-06-01, 2025-06-01T12:00Z), 'now', or a time before now such as 24h or 7d; got ${JSON.stringify(clip(value))}.`);
}

/** A bucket size: a whole number of minutes, hours, days or weeks (`15m`, `1h`, `1d`). */
export function parseBucket(text: string): number {
  const match = RELATIVE.exec(text.trim());
  const ms = match ? Number(match[1]) * (UNITS[match[2] as string] as number) : 0;
  if (ms <= 0) throw new UsageQueryError('bucket', `bucket must be a size such as 15m, 1h or 1d; got ${JSON.stringify(clip(text))}.`);
  return ms;
}

/** `1d` for 86400000 and so on: the largest unit that divides the size. */
export function formatDuration(ms: number): string {
  for (const unit of ['w', 'd', 'h', 'm'] as const) {
    const size = UNITS[unit] as number;
    if (ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}

function clip(text: string): string {
  return text.length > 60 ? `${text.slice(0, 60)}…` : text;
}

function list(params: URLSearchParams, name: string): string[] | undefined {
  const values = params.getAll(name);
  if (values.length === 0) return undefined;
  return values.flatMap((value) => value.split(',')).map((item) => item.trim()).filter((item) => item !== '');
}

function single(params: URLSearchParams, name: string): string | undefined {
  const values = params.getAll(name);
  if (values.length > 1) throw new UsageQueryError(name, `${name} may be given once.`);
  return values[0];
}

function parseRange(fromText: string | undefined, toText: string | undefined, now: number, names: [string, string]): { fromMs: number; toMs: number } {
  const toMs = toText === undefined ? now : parseTime(toText, now, names[1]);
  const fromMs = fromText === undefined ? toMs - DEFAULT_RANGE_MS : parseTime(fromText, now, names[0]);
  if (fromMs >= toMs) throw new UsageQueryError(names[0], `${names[0]} must be before ${names[1]}.`);
  if (toMs - fromMs > MAX_RANGE_MS) throw new UsageQueryError(names[0], `The range from ${names[0]} to ${names[1]} may span at most 3 years.`);
  return { fromMs, toMs };
}

function parseGroupBy(params: URLSearchParams): DimensionName[] {
  const names = list(params, 'group_by') ?? [];
  const out: DimensionName[] = [];
  for (const name of names) {
    if (!isDimension(name)) throw new UsageQueryError('group_by', `Unknown dimension '${clip(name)}'; use one of: ${DIMENSION_NAMES.join(', ')}.`);
    if (!out.includes(name)) out.push(name);
  }
  if (out.length > 4) throw new UsageQueryError('group_by', 'group_by takes at most 4 dimensions.');
  return out;
}

function parseMeasures(params: URLSearchParams): MeasureName[] {
  const names = list(params, 'measures');
  if (names === undefined) return [...DEFAULT_MEASURES];
  if (names.length === 0) throw new UsageQueryError('measures', 'measures names at least one measure.');
  const out: MeasureName[] = [];
  for (const name of names) {
    if (!isMeasure(name)) throw new UsageQueryError('measures', `Unknown measure '${clip(name)}'; use one of: ${MEASURE_NAMES.join(', ')}.`);
    if (!out.includes(name)) out.push(name);
  }
  return out;
}

function parseOrder(text: string | undefined, measures: MeasureName[]): UsageQuery['order'] {
  if (text === undefined) return { measure: measures[0] as MeasureName, direction: 'desc' };
  const [name = '', direction = 'desc', ...rest] = text.trim().split(':');
  if (!isMeasure(name)) throw new UsageQueryError('order', `order must name a measure (${MEASURE_NAMES.join(', ')}), optionally with :asc or :desc.`);
  if (rest.length > 0 || (direction !== 'asc' && direction !== 'desc')) throw new UsageQueryError('order', 'order takes :asc or :desc after the measure.');
  if (!measures.includes(name)) measures.push(name);
  return { measure: name, direction };
}

function parseTop(text: string | undefined): number | null {
  if (text === undefined) return null;
  const top = Number(text);
  if (!/^\d+$/.test(text.trim()) || !Number.isSafeInteger(top) || top < 1 || top > MAX_TOP) throw new UsageQueryError('top', `top must be a whole number from 1 to ${MAX_TOP}.`);
  return top;
}

/** Validates an admin query string (or the CLI's equivalent) into a query; throws UsageQueryError. */
export function parseUsageQuery(params: URLSearchParams, options: { now: number; scopeTeam?: string }): UsageQuery {
  for (const name of new Set(params.keys())) {
    if (!(QUERY_PARAMS as readonly string[]).includes(name)) throw new UsageQueryError(name, `Unknown parameter '${clip(name)}'; use: ${QUERY_PARAMS.join(', ')}.`);
  }
  const groupBy = parseGroupBy(params);
  const { fromMs, toMs } = parseRange(single(params, 'from'), single(params, 'to'), options.now, ['from', 'to']);
  const bucketText = single(params, 'bucket');
  const bucketMs = bucketText === undefined ? null : parseBucket(bucketText);
  if (bucketMs !== null && (toMs - fromMs) / bucketMs > MAX_BUCKETS) throw new UsageQueryError('bucket', `The range holds more than ${MAX_BUCKETS} buckets of ${formatDuration(bucketMs)}; use a larger bucket.`);
  const measures = parseMeasures(params);
  const order = parseOrder(single(params, 'order'), measures);
  const top = parseTop(single(params, 'top'));
  const compareFrom = single(params, 'compare_from');
  const compareTo = single(params, 'compare_to');
  let compare: UsageQuery['compare'] = null;
  if ((compareFrom === undefined) !== (compareTo === undefined)) throw new UsageQueryError(compareFrom === undefined ? 'compare_from' : 'compare_to', 'A comparison needs both compare_from and compare_to.');
  if (compareFrom !== undefined) {
    if (bucketMs !== null) throw new UsageQueryError('bucket', 'A comparison takes no bucket: it compares two whole periods.');
    compare = parseRange(compareFrom, compareTo, options.now, ['compare_from', 'compare_to']);
  }
  const filters: UsageQuery['filters'] = [];
  for (const dim of DIMENSION_NAMES) {
    const value = single(params, dim);
    if (value === undefined) continue;
    if (value.trim() === '' || value.length > 500) throw new UsageQueryError(dim, `The ${dim} filter needs a value of 1 to 500 characters.`);
    filters.push({ dim, value });
  }
  const source = single(params, 'source') ?? 'auto';
  if (source !== 'auto' && source !== 'raw') throw new UsageQueryError('source', "source must be 'auto' or 'raw'.");
  if (options.scopeTeam !== undefined) {
    const teamFilter = filters.find((filter) => filter.dim === 'team');
    if (teamFilter && teamFilter.value !== options.scopeTeam) throw new UsageQueryError('team', 'A team-admin sees only its own team.');
  }
  return { groupBy, fromMs, toMs, bucketMs, measures, order, top, compare, filters, scopeTeam: options.scopeTeam, source };
}

/** The columns an equality filter on a dimension compares. */
export function filterColumn(dim: DimensionName) {
  return DIMENSIONS[dim].filter;
}
