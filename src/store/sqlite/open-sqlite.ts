import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, SqliteDialect, sql } from 'kysely';
import type { Database } from '../kysely/tables.js';
import { migrateToLatest } from '../migrations/index.js';

type SqliteFile = BetterSqlite3.Database;

function isMemory(path: string): boolean {
  return path === ':memory:' || path === '';
}

function isBusy(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === 'SQLITE_BUSY';
}

/**
 * Switches to WAL (readers run beside the one writer). The switch can report SQLITE_BUSY without
 * consulting busy_timeout while another process is setting up the same fresh file, so retry.
 */
async function enableWal(file: SqliteFile): Promise<void> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      file.pragma('journal_mode = WAL');
      return;
    } catch (err) {
      if (!isBusy(err) || attempt >= 50) throw err;
      await sleep(20 * Math.min(attempt, 5));
    }
  }
}

async function configure(file: SqliteFile): Promise<void> {
  // busy_timeout first: other processes' locks are waited for, not reported as errors.
  file.pragma('busy_timeout = 5000');
  await enableWal(file);
  file.pragma('foreign_keys = ON');
  // In WAL mode NORMAL is still crash-safe for the database; it may lose the last commits on power loss.
  file.pragma('synchronous = NORMAL');
}

/** Migrates inside BEGIN IMMEDIATE: Kysely takes no lock on SQLite, this one spans processes. */
async function migrate(db: Kysely<Database>): Promise<void> {
  await sql`begin immediate`.execute(db);
  try {
    await migrateToLatest(db as Kysely<unknown>);
    await sql`commit`.execute(db);
  } catch (err) {
    await sql`rollback`.execute(db);
    throw err;
  }
}

/**
 * Opens (creating folder and file if needed) an SQLite database and brings its schema up to
 * date; two processes opening a fresh file at once serialize, and a failed migration leaves
 * nothing behind. Open one store per file per process: better-sqlite3 is synchronous, so a
 * second connection on the same thread waiting for a lock would block the thread holding it
 * (the ledger's writer thread has its own connection, on its own thread).
 * The file handle is for prepared statements on hot paths; use it only inside
 * `db.connection().execute(...)`, so it never interleaves with a query-builder transaction.
 */
export async function openSqlite(path: string): Promise<{ db: Kysely<Database>; file: SqliteFile }> {
  if (!isMemory(path)) mkdirSync(dirname(path), { recursive: true });
  const file = new BetterSqlite3(path);
  try {
    await configure(file);
  } catch (err) {
    file.close();
    throw err;
  }
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: file }) });
  try {
    await migrate(db);
  } catch (err) {
    await db.destroy();
    throw err;
  }
  return { db, file };
}
