import { PostgresIntrospector, sql, type CreateTableBuilder, type Kysely } from 'kysely';

/*
 * Usage rollups: the ledger's `requests` summed per hour and per day for a few dimension sets
 * (src/usage/analytics/rollup-sets.ts), so analytics over millions of rows read thousands.
 * Frozen once released.
 */

const DIMENSIONS = ['d0', 'd1', 'd2', 'd3', 'd4'] as const;
const COUNTS = [
  'requests', 'errors', 'input_tokens', 'output_tokens', 'cached_tokens', 'reasoning_tokens', 'costed_requests',
  'latency_count', 'ttft_count', 'input_max', 'output_max',
] as const;
const REALS = ['cost_usd', 'latency_sum', 'latency_max', 'ttft_sum', 'ttft_max'] as const;
/** Log-scale histograms as `index:count,...` text (src/usage/analytics/histogram.ts). */
const HISTOGRAMS = ['h_latency', 'h_ttft', 'h_input'] as const;

export async function up(db: Kysely<unknown>): Promise<void> {
  let table: CreateTableBuilder<'usage_rollups', string> = db.schema
    .createTable('usage_rollups')
    .addColumn('dimset', 'text', (col) => col.notNull())
    .addColumn('grain', 'text', (col) => col.notNull())
    .addColumn('bucket_ms', 'bigint', (col) => col.notNull());
  // Absent values are '' (not NULL), so the primary key can match them on upsert.
  for (const column of DIMENSIONS) table = table.addColumn(column, 'text', (col) => col.notNull().defaultTo(''));
  for (const column of COUNTS) table = table.addColumn(column, 'bigint', (col) => col.notNull().defaultTo(0));
  for (const column of REALS) table = table.addColumn(column, 'double precision', (col) => col.notNull().defaultTo(0));
  for (const column of HISTOGRAMS) table = table.addColumn(column, 'text', (col) => col.notNull().defaultTo(''));
  table = table.addPrimaryKeyConstraint('usage_rollups_pkey', ['dimset', 'grain', 'bucket_ms', ...DIMENSIONS]);
  // SQLite: the rows live in the primary key's B-tree (no separate rowid table): half the writes per upsert.
  if (!(db.introspection instanceof PostgresIntrospector)) table = table.modifyEnd(sql`without rowid`);
  await table.execute();

  // watermark: rows with seq <= it are folded. horizon_*: PostgreSQL's settling point (see the repository).
  await db.schema
    .createTable('usage_rollup_state')
    .addColumn('name', 'text', (col) => col.notNull())
    .addColumn('value', 'bigint', (col) => col.notNull())
    .addPrimaryKeyConstraint('usage_rollup_state_pkey', ['name'])
    .execute();
  await sql`insert into usage_rollup_state (name, value) values ('watermark', 0), ('horizon_seq', 0), ('horizon_at_ms', 0)`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('usage_rollup_state').execute();
  await db.schema.dropTable('usage_rollups').execute();
}
