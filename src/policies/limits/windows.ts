/**
 * Time windows for counters. Fixed windows (second, minute) are aligned to the epoch; calendar
 * windows (day, month) follow a time zone's midnight. A window's id goes into the counter key, so
 * every instance that buckets by the same clock shares the counter.
 */

export type WindowUnit = 'second' | 'minute' | 'day' | 'month';

export interface Window {
  /** Goes into the counter key, e.g. `m29583001` or `d2026-11-28`. */
  id: string;
  /** When the window ends (ms since the epoch). */
  endMs: number;
}

const FIXED_MS = { second: 1000, minute: 60_000 } as const;

interface ZoneFormatter {
  format: Intl.DateTimeFormat;
}

const formatters = new Map<string, ZoneFormatter>();

function formatterFor(timeZone: string): ZoneFormatter {
  let found = formatters.get(timeZone);
  if (!found) {
    found = {
      format: new Intl.DateTimeFormat('en-US', { timeZone, year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric', hourCycle: 'h23' }),
    };
    formatters.set(timeZone, found);
  }
  return found;
}

/** Local calendar fields of an instant in a time zone, and the zone's offset from UTC then. */
function localParts(nowMs: number, timeZone: string): { year: number; month: number; day: number; offsetMs: number } {
  const parts: Record<string, number> = {};
  for (const part of formatterFor(timeZone).format.formatToParts(nowMs)) {
    if (part.type !== 'literal') parts[part.type] = Number(part.value);
  }
  const asUtc = Date.UTC(parts.year as number, (parts.month as number) - 1, parts.day, parts.hour, parts.minute, parts.second);
  return { year: parts.year as number, month: parts.month as number, day: parts.day as number, offsetMs: asUtc - Math.floor(nowMs / 1000) * 1000 };
}

/** The current calendar window per unit and zone: Intl formatting costs microseconds, a day is long. */
const calendarCache = new Map<string, Window & { startMs: number }>();

export function windowAt(unit: WindowUnit, nowMs: number, timeZone: string): Window {
  if (unit === 'second' || unit === 'minute') {
    const size = FIXED_MS[unit];
    const index = Math.floor(nowMs / size);
    return { id: `${unit[0]}${index}`, endMs: (index + 1) * size };
  }
  const cacheKey = `${unit} ${timeZone}`;
  const cached = calendarCache.get(cacheKey);
  if (cached && nowMs >= cached.startMs && nowMs < cached.endMs) return cached;
  const window = calendarWindow(unit, nowMs, timeZone);
  // Valid from now until its end; an earlier instant (a clock step back) computes afresh.
  calendarCache.set(cacheKey, { ...window, startMs: nowMs });
  return window;
}

function calendarWindow(unit: 'day' | 'month', nowMs: number, timeZone: string): Window {
  const local = localParts(nowMs, timeZone);
  // The next local midnight (or first of the month), converted back with the current offset; a
  // DST change inside the window shifts its end by that hour, which only moves Retry-After.
  const nextLocal = unit === 'day' ? Date.UTC(local.year, local.month - 1, local.day + 1) : Date.UTC(local.year, local.month, 1);
  const pad = (value: number) => String(value).padStart(2, '0');
  const id = unit === 'day' ? `d${local.year}-${pad(local.month)}-${pad(local.day)}` : `M${local.year}-${pad(local.month)}`;
  return { id, endMs: nextLocal - local.offsetMs };
}

/** `Retry-After` seconds until a window ends (at least 1). */
export function secondsUntil(endMs: number, nowMs: number): number {
  return Math.max(1, Math.ceil((endMs - nowMs) / 1000));
}

/** OpenAI's reset format: `1s`, `6m0s`, `2h3m4s`. */
export function resetText(ms: number): string {
  const total = Math.max(0, Math.ceil(ms / 1000));
  const hours = Math.floor(total / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  const seconds = total % 60;
  if (hours > 0) return `${hours}h${minutes}m${seconds}s`;
  if (minutes > 0) return `${minutes}m${seconds}s`;
  return `${seconds}s`;
}
