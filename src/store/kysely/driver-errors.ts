import { RecordConflictError, RecordInUseError, RecordReferenceError } from '../record-store.js';

/** Primary key column per table, where it is not `id`. */
const KEY_COLUMNS: Record<string, string> = { plans: 'name', store_meta: 'name' };

interface DriverError {
  code?: unknown;
  message?: unknown;
  table?: unknown;
  constraint?: unknown;
}

function camel(column: string): string {
  return column.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
}

/** Field of a PostgreSQL constraint, by the naming convention the migrations follow. */
function pgField(err: DriverError): string {
  const table = typeof err.table === 'string' ? err.table : '';
  const name = typeof err.constraint === 'string' ? err.constraint : '';
  if (name === `${table}_pkey`) return camel(KEY_COLUMNS[table] ?? 'id');
  const match = /^(.*)_(?:key|fkey)$/.exec(name.startsWith(`${table}_`) ? name.slice(table.length + 1) : name);
  return match?.[1] ? camel(match[1]) : 'id';
}

/** Field of an SQLite "UNIQUE constraint failed: table.column" message. */
function sqliteField(err: DriverError): string {
  const message = typeof err.message === 'string' ? err.message : '';
  const column = /constraint failed: \w+\.(\w+)/.exec(message)?.[1];
  return column ? camel(column) : 'id';
}

/**
 * Turns a constraint violation from either driver into the store's own error, so callers
 * never see driver wording. `op` tells a failed foreign key on delete (in use) from one on write
 * (dangling reference). Anything else is returned unchanged.
 */
export function translateDriverError(err: unknown, entity: string, op: 'write' | 'delete'): unknown {
  if (typeof err !== 'object' || err === null) return err;
  const e = err as DriverError;
  switch (e.code) {
    case 'SQLITE_CONSTRAINT_UNIQUE':
    case 'SQLITE_CONSTRAINT_PRIMARYKEY':
      return new RecordConflictError(entity, sqliteField(e));
    case '23505':
      return new RecordConflictError(entity, pgField(e));
    // The store checks references itself first; these are the database's safety net.
    case 'SQLITE_CONSTRAINT_FOREIGNKEY':
      return op === 'delete' ? new RecordInUseError(entity, 'other records') : new RecordReferenceError(entity, 'reference');
    case '23503':
      return op === 'delete' ? new RecordInUseError(entity, 'other records') : new RecordReferenceError(entity, pgField(e));
    default:
      return err;
  }
}
