import { PostgresIntrospector, type Kysely } from 'kysely';

/*
 * The usage ledger: one row per request, its attempts and routing trail as JSON text. Frozen once
 * released. Column names are a contract with the analytics queries (docs/ledger.md lists them).
 */

const TEXT_COLUMNS = [
  'dialect', 'error_code', 'key_source', 'key_id', 'key_prefix', 'key_name', 'user_name', 'team_name', 'org_id', 'plan',
  'customer', 'requested_model', 'provider', 'served_model', 'template_id', 'template_version', 'conversation_id',
  'metadata', 'routing', 'access', 'rejected_limit', 'finish_reasons', 'trace_id',
] as const;

const COUNT_COLUMNS = ['input_tokens', 'output_tokens', 'cached_tokens', 'reasoning_tokens', 'cache_creation_tokens', 'attempt_count'] as const;
const FLAG_COLUMNS = ['stream', 'usage_estimated', 'usage_incomplete', 'cache_hit'] as const;
const TIMING_COLUMNS = ['ttft_ms', 'upstream_ms', 'overhead_ms'] as const;

/** Indexes for the analytics queries: time ranges, alone or within one dimension. */
const INDEXES: ReadonlyArray<readonly [name: string, columns: string[]]> = [
  ['requests_started_at_ms_idx', ['started_at_ms']],
  ['requests_team_name_started_at_ms_idx', ['team_name', 'started_at_ms']],
  ['requests_requested_model_started_at_ms_idx', ['requested_model', 'started_at_ms']],
  ['requests_template_id_started_at_ms_idx', ['template_id', 'started_at_ms']],
  ['requests_customer_started_at_ms_idx', ['customer', 'started_at_ms']],
  ['requests_conversation_id_idx', ['conversation_id']],
];

/** Creates `requests`. `seq` orders ingestion: rows replayed late from an outbox get a higher one. */
export async function up(db: Kysely<unknown>): Promise<void> {
  const postgres = db.introspection instanceof PostgresIntrospector;
  let table = db.schema
    .createTable('requests')
    // SQLite: an INTEGER PRIMARY KEY is the rowid; AUTOINCREMENT never reuses a deleted one.
    .addColumn('seq', postgres ? 'bigint' : 'integer', (col) =>
      postgres ? col.generatedAlwaysAsIdentity().primaryKey() : col.primaryKey().autoIncrement(),
    )
    .addColumn('request_id', 'text', (col) => col.notNull())
    .addColumn('started_at_ms', 'bigint', (col) => col.notNull())
    .addColumn('endpoint', 'text', (col) => col.notNull())
    .addColumn('method', 'text', (col) => col.notNull())
    .addColumn('path', 'text', (col) => col.notNull())
    .addColumn('status', 'integer', (col) => col.notNull())
    .addColumn('tags', 'text', (col) => col.notNull())
    .addColumn('attempts', 'text', (col) => col.notNull())
    .addColumn('limit_actions', 'text', (col) => col.notNull())
    .addColumn('guards', 'text', (col) => col.notNull().defaultTo('[]'))
    .addColumn('cost_usd', 'double precision')
    .addColumn('total_ms', 'double precision', (col) => col.notNull());
  for (const column of TEXT_COLUMNS) table = table.addColumn(column, 'text');
  for (const column of [...COUNT_COLUMNS, ...FLAG_COLUMNS]) table = table.addColumn(column, 'integer', (col) => col.notNull().defaultTo(0));
  for (const column of TIMING_COLUMNS) table = table.addColumn(column, 'double precision');
  table = table.addColumn('max_tokens', 'integer');
  await table.execute();
  await db.schema.createIndex('requests_request_id_key').on('requests').column('request_id').unique().execute();
  for (const [name, columns] of INDEXES) await db.schema.createIndex(name).on('requests').columns(columns).execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('requests').execute();
}
