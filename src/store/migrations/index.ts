import { Migrator, type Migration, type MigrationProvider, type Kysely } from 'kysely';
import * as identity from './001-identity.js';
import * as entityLimits from './002-entity-limits.js';
import * as ledger from './003-ledger.js';
import * as usageRollups from './004-usage-rollups.js';
import * as audit from './005-audit.js';
import * as ledgerBodies from './006-ledger-bodies.js';

/**
 * Every migration, in order. Names sort lexically, so keep the numeric prefix; append new ones at
 * the end and never edit a released one.
 */
const MIGRATIONS: Record<string, Migration> = {
  '001-identity': identity,
  '002-entity-limits': entityLimits,
  '003-ledger': ledger,
  '004-usage-rollups': usageRollups,
  '005-audit': audit,
  '006-ledger-bodies': ledgerBodies,
};

/** Migrations live in code (not in files read at run time), so a bundled build carries them. */
const provider: MigrationProvider = {
  getMigrations: async () => MIGRATIONS,
};

/**
 * Brings the schema up to date. On PostgreSQL Kysely's Migrator holds an advisory lock and one
 * transaction, so concurrent openers serialize; `schema` scopes its bookkeeping tables there.
 */
export async function migrateToLatest(db: Kysely<unknown>, schema?: string): Promise<void> {
  const migrator = new Migrator({ db, provider, ...(schema ? { migrationTableSchema: schema } : {}) });
  const { error, results } = await migrator.migrateToLatest();
  if (error !== undefined) {
    const failed = results?.find((r) => r.status === 'Error')?.migrationName;
    const reason = error instanceof Error ? error.message : String(error);
    throw new Error(`record store migration ${failed ?? '(setup)'} failed: ${reason}`);
  }
}
