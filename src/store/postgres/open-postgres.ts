import { Kysely, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import type { Database } from '../kysely/tables.js';
import { migrateToLatest } from '../migrations/index.js';

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/i;

/** Options for a PostgreSQL record store. */
export interface PostgresOpenOptions {
  url: string;
  schema?: string;
  poolSize?: number;
}

/** The URL with its password masked, safe for an error message. */
function describeUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return `${parsed.protocol}//${parsed.username ? `${parsed.username}@` : ''}${parsed.host}${parsed.pathname}`;
  } catch {
    return '(unparsable URL)';
  }
}

/** A driver message with the password removed, in case a driver ever echoes it. */
function scrub(message: string, url: string): string {
  let password = '';
  try {
    password = decodeURIComponent(new URL(url).password);
  } catch {
    return 'invalid connection URL';
  }
  return password ? message.split(password).join('***') : message;
}

/** Creates the schema unless it exists; a concurrent creator winning the race is fine. */
async function ensureSchema(db: Kysely<Database>, schema: string): Promise<void> {
  try {
    await sql`create schema if not exists ${sql.id(schema)}`.execute(db);
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    // IF NOT EXISTS still races on the catalog's unique index: 23505 / 42P06 mean "it exists now".
    if (code !== '23505' && code !== '42P06') throw err;
  }
}

/**
 * Opens a pooled PostgreSQL connection and brings the schema up to date. With `schema`, every
 * pooled connection works inside it (search_path), so several stores can share one database.
 * Kysely's Migrator holds an advisory lock, so concurrent openers migrate one after another.
 */
export async function openPostgres(options: PostgresOpenOptions): Promise<Kysely<Database>> {
  const { url, schema } = options;
  if (schema !== undefined && !SCHEMA_NAME.test(schema)) {
    throw new Error(`invalid PostgreSQL schema name ${JSON.stringify(schema)}: use letters, digits and _`);
  }
  const pool = new pg.Pool({
    connectionString: url,
    max: options.poolSize ?? 10,
    // Quoted so the search path names exactly the schema created below, case included.
    ...(schema !== undefined ? { options: `-c search_path="${schema}"` } : {}),
  });
  // An idle client dropped by the server emits 'error' on the pool; unhandled it would crash the
  // process. The next query reports the failure to its caller instead.
  pool.on('error', () => {});
  // A client checked out of the pool (in a transaction, or mid-query) has no pool listener: a
  // dropped connection would emit an unhandled 'error' and crash the process. The query in flight
  // still gets the error; this only keeps the event from being fatal.
  pool.on('connect', (client) => client.on('error', () => {}));
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  try {
    await sql`select 1`.execute(db);
  } catch (err) {
    await db.destroy().catch(() => {});
    const reason = err instanceof Error ? scrub(err.message, url) : 'unknown error';
    throw new Error(`cannot connect to PostgreSQL at ${describeUrl(url)}: ${reason}`);
  }
  try {
    if (schema !== undefined) await ensureSchema(db, schema);
    // Kysely's table check looks at every schema unless told which one holds its own tables.
    const current = await sql<{ name: string | null }>`select current_schema() as name`.execute(db);
    const migrationSchema = current.rows[0]?.name ?? undefined;
    if (migrationSchema === undefined) throw new Error('PostgreSQL search_path names no existing schema');
    await migrateToLatest(db as Kysely<unknown>, migrationSchema);
  } catch (err) {
    await db.destroy().catch(() => {});
    throw err;
  }
  return db;
}
