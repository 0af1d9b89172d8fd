import { randomBytes } from 'node:crypto';

/** How a record field is stored: text as is, JSON as text, a boolean as 0/1. */
export type FieldKind = 'text' | 'json' | 'bool';

/**
 * Maps every field of a record to its column. The mapped type forces each record field to be
 * listed, and each column to exist in the table type, so a new field cannot be forgotten.
 */
export type FieldMap<R, T> = { readonly [K in keyof R]-?: readonly [column: keyof T & string, kind: FieldKind] };

type SqlValue = string | number | null;

/** Fields a patch can never change: the store owns them. */
const FIXED_FIELDS = new Set(['id', 'createdAt', 'updatedAt']);

function toColumn(kind: FieldKind, value: unknown): SqlValue {
  if (value === undefined || value === null) return null;
  if (kind === 'json') return JSON.stringify(value);
  if (kind === 'bool') return value ? 1 : 0;
  return String(value);
}

function fromColumn(kind: FieldKind, value: unknown): unknown {
  if (value === null || value === undefined) return undefined;
  if (kind === 'json') return JSON.parse(String(value));
  // pg hands back integers as numbers, SQLite too; Number() also covers a driver returning text.
  if (kind === 'bool') return Number(value) === 1;
  return value;
}

/** A full record as a row; optional fields left out become SQL NULL. */
export function encodeRow<R, T>(map: FieldMap<R, T>, record: R): T {
  const row: Record<string, SqlValue> = {};
  for (const [field, [column, kind]] of entries(map)) {
    row[column] = toColumn(kind, (record as Record<string, unknown>)[field]);
  }
  return row as T;
}

/** A row as a record; NULL columns become absent fields (not `null`). */
export function decodeRow<R, T>(map: FieldMap<R, T>, row: T): R {
  const record: Record<string, unknown> = {};
  for (const [field, [column, kind]] of entries(map)) {
    const value = fromColumn(kind, (row as Record<string, unknown>)[column]);
    if (value !== undefined) record[field] = value;
  }
  return record as R;
}

/**
 * The column changes of a patch: `undefined` leaves a column alone, `null` clears it. Unknown
 * and store-owned fields are ignored, so a caller cannot rewrite ids or timestamps.
 */
export function encodePatch<R, T>(map: FieldMap<R, T>, patch: object): Partial<T> {
  const changes: Record<string, SqlValue> = {};
  for (const [field, value] of Object.entries(patch)) {
    const spec = (map as Record<string, readonly [string, FieldKind] | undefined>)[field];
    if (value === undefined || spec === undefined || FIXED_FIELDS.has(field)) continue;
    changes[spec[0]] = toColumn(spec[1], value);
  }
  return changes as Partial<T>;
}

function entries<R, T>(map: FieldMap<R, T>): Array<[string, readonly [string, FieldKind]]> {
  return Object.entries(map) as Array<[string, readonly [string, FieldKind]]>;
}

/** A new id: prefix, underscore, 24 hex characters (96 random bits). */
export function newId(prefix: 'org' | 'team' | 'user' | 'key'): string {
  return `${prefix}_${randomBytes(12).toString('hex')}`;
}

/** The store's clock, as ISO-8601 UTC text (sorts the same as time in both databases). */
export function now(): string {
  return new Date().toISOString();
}
