import { sql, type Kysely } from 'kysely';

/** The prev_hash of the first entry (the same value as GENESIS_HASH in store/audit-chain.ts; frozen here). */
const GENESIS = '0'.repeat(64);

/**
 * The hash-chained audit log. Frozen once released. `seq` is assigned by the appender (head + 1),
 * not by the database, so a gap means a removed entry. `audit_head` is one row naming the newest
 * entry: appenders lock it to keep one chain across instances, and verify compares it with the
 * table's end to catch removed newest entries.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('audit_log')
    .addColumn('seq', 'bigint', (col) => col.notNull())
    .addColumn('at_ms', 'bigint', (col) => col.notNull())
    .addColumn('kind', 'text', (col) => col.notNull())
    .addColumn('actor', 'text', (col) => col.notNull())
    .addColumn('action', 'text', (col) => col.notNull())
    .addColumn('target_type', 'text')
    .addColumn('target_id', 'text')
    .addColumn('details', 'text', (col) => col.notNull())
    .addColumn('prev_hash', 'text', (col) => col.notNull())
    .addColumn('hash', 'text', (col) => col.notNull())
    .addPrimaryKeyConstraint('audit_log_pkey', ['seq'])
    .execute();
  await db.schema.createIndex('audit_log_at_ms_idx').on('audit_log').column('at_ms').execute();
  await db.schema.createIndex('audit_log_kind_seq_idx').on('audit_log').columns(['kind', 'seq']).execute();
  await db.schema.createIndex('audit_log_action_seq_idx').on('audit_log').columns(['action', 'seq']).execute();

  await db.schema
    .createTable('audit_head')
    .addColumn('id', 'integer', (col) => col.notNull())
    .addColumn('seq', 'bigint', (col) => col.notNull())
    .addColumn('hash', 'text', (col) => col.notNull())
    .addPrimaryKeyConstraint('audit_head_pkey', ['id'])
    .execute();
  await sql`insert into audit_head (id, seq, hash) values (1, 0, ${GENESIS})`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('audit_head').execute();
  await db.schema.dropTable('audit_log').execute();
}
