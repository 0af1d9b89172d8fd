import { sql, type CreateTableBuilder, type Kysely } from 'kysely';

/*
 * Identity tables. Frozen once released: change the schema by appending a new migration.
 * Constraint and index names follow PostgreSQL's own convention (<table>_pkey,
 * <table>_<column>_key, <table>_<column>_fkey) so errors can be mapped back to a field.
 */

function timestamps<TB extends string, C extends string>(table: CreateTableBuilder<TB, C>) {
  return table
    .addColumn('created_at', 'text', (col) => col.notNull())
    .addColumn('updated_at', 'text', (col) => col.notNull());
}

/** Creates the identity tables, their indexes and the revision counter. */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('store_meta')
    .addColumn('name', 'text', (col) => col.notNull())
    .addColumn('value', 'integer', (col) => col.notNull())
    .addPrimaryKeyConstraint('store_meta_pkey', ['name'])
    .execute();
  await sql`insert into store_meta (name, value) values ('revision', 0)`.execute(db);

  await db.schema
    .createTable('organizations')
    .addColumn('id', 'text', (col) => col.notNull())
    .addColumn('name', 'text', (col) => col.notNull())
    .addColumn('metadata', 'text', (col) => col.notNull())
    .$call(timestamps)
    .addPrimaryKeyConstraint('organizations_pkey', ['id'])
    .execute();
  await db.schema.createIndex('organizations_name_key').on('organizations').column('name').unique().execute();

  await db.schema
    .createTable('teams')
    .addColumn('id', 'text', (col) => col.notNull())
    .addColumn('org_id', 'text', (col) => col.notNull())
    .addColumn('name', 'text', (col) => col.notNull())
    .addColumn('plan', 'text')
    .addColumn('models', 'text')
    .addColumn('endpoints', 'text')
    .addColumn('metadata', 'text', (col) => col.notNull())
    .$call(timestamps)
    .addPrimaryKeyConstraint('teams_pkey', ['id'])
    .addForeignKeyConstraint('teams_org_id_fkey', ['org_id'], 'organizations', ['id'])
    .execute();
  await db.schema.createIndex('teams_name_key').on('teams').column('name').unique().execute();
  await db.schema.createIndex('teams_org_id_idx').on('teams').column('org_id').execute();

  await db.schema
    .createTable('users')
    .addColumn('id', 'text', (col) => col.notNull())
    .addColumn('org_id', 'text', (col) => col.notNull())
    .addColumn('team_id', 'text')
    .addColumn('name', 'text', (col) => col.notNull())
    .addColumn('role', 'text', (col) => col.notNull())
    .addColumn('plan', 'text')
    .addColumn('models', 'text')
    .addColumn('metadata', 'text', (col) => col.notNull())
    .$call(timestamps)
    .addPrimaryKeyConstraint('users_pkey', ['id'])
    .addForeignKeyConstraint('users_org_id_fkey', ['org_id'], 'organizations', ['id'])
    .addForeignKeyConstraint('users_team_id_fkey', ['team_id'], 'teams', ['id'])
    .execute();
  await db.schema.createIndex('users_name_key').on('users').column('name').unique().execute();
  await db.schema.createIndex('users_org_id_idx').on('users').column('org_id').execute();
  await db.schema.createIndex('users_team_id_idx').on('users').column('team_id').execute();

  await db.schema
    .createTable('plans')
    .addColumn('name', 'text', (col) => col.notNull())
    .addColumn('spec', 'text', (col) => col.notNull())
    .$call(timestamps)
    .addPrimaryKeyConstraint('plans_pkey', ['name'])
    .execute();

  await db.schema
    .createTable('customers')
    .addColumn('id', 'text', (col) => col.notNull())
    .addColumn('plan', 'text')
    .addColumn('blocked', 'integer', (col) => col.notNull().defaultTo(0))
    .addColumn('metadata', 'text', (col) => col.notNull())
    .$call(timestamps)
    .addPrimaryKeyConstraint('customers_pkey', ['id'])
    .execute();

  // The owner is polymorphic (user or team), so it is checked by the store, not by a foreign key.
  await db.schema
    .createTable('api_keys')
    .addColumn('id', 'text', (col) => col.notNull())
    .addColumn('name', 'text', (col) => col.notNull())
    .addColumn('key_hash', 'text', (col) => col.notNull())
    .addColumn('display_prefix', 'text', (col) => col.notNull())
    .addColumn('owner_type', 'text', (col) => col.notNull())
    .addColumn('owner_id', 'text', (col) => col.notNull())
    .addColumn('plan', 'text')
    .addColumn('models', 'text')
    .addColumn('endpoints', 'text')
    .addColumn('tags', 'text', (col) => col.notNull())
    .addColumn('metadata', 'text', (col) => col.notNull())
    .addColumn('expires_at', 'text')
    .addColumn('status', 'text', (col) => col.notNull())
    .addColumn('revoked_at', 'text')
    .addColumn('rotated_from', 'text')
    .addColumn('created_by', 'text')
    .$call(timestamps)
    .addPrimaryKeyConstraint('api_keys_pkey', ['id'])
    .execute();
  await db.schema.createIndex('api_keys_key_hash_key').on('api_keys').column('key_hash').unique().execute();
  await db.schema.createIndex('api_keys_owner_idx').on('api_keys').columns(['owner_type', 'owner_id']).execute();
}
