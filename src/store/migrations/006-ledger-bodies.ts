import type { Kysely } from 'kysely';

/** Prompt and answer text, recorded only where `ledger.bodies` turns it on (redacted first). */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('requests').addColumn('request_body', 'text').execute();
  await db.schema.alterTable('requests').addColumn('response_body', 'text').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('requests').dropColumn('response_body').execute();
  await db.schema.alterTable('requests').dropColumn('request_body').execute();
}
