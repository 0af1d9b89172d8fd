import type { Kysely } from 'kysely';

/** Limits set on a team, user or key itself (JSON, the same shape as a plan's `limits`). */
export async function up(db: Kysely<unknown>): Promise<void> {
  for (const table of ['teams', 'users', 'api_keys']) {
    await db.schema.alterTable(table).addColumn('limits', 'text').execute();
  }
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const table of ['teams', 'users', 'api_keys']) {
    await db.schema.alterTable(table).dropColumn('limits').execute();
  }
}
