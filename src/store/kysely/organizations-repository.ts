import type { Kysely } from 'kysely';
import type { OrganizationRecord } from '../records.js';
import { RecordInUseError, type OrganizationInput, type Patch, type Repository } from '../record-store.js';
import type { Database, OrganizationsTable } from './tables.js';
import { decodeRow, encodePatch, encodeRow, newId, now, type FieldMap } from './codec.js';
import { mutate, rowExists } from './transactions.js';

const ENTITY = 'organization';

const FIELDS: FieldMap<OrganizationRecord, OrganizationsTable> = {
  id: ['id', 'text'],
  name: ['name', 'text'],
  metadata: ['metadata', 'json'],
  createdAt: ['created_at', 'text'],
  updatedAt: ['updated_at', 'text'],
};

/** Organizations: the top of the identity tree; teams and users belong to one. */
export class OrganizationRepository implements Repository<OrganizationRecord, OrganizationInput> {
  constructor(private readonly db: Kysely<Database>) {}

  async create(input: OrganizationInput): Promise<OrganizationRecord> {
    const stamp = now();
    const row = encodeRow(FIELDS, { ...input, id: input.id ?? newId('org'), createdAt: stamp, updatedAt: stamp });
    await mutate(this.db, { entity: ENTITY, op: 'write' }, async (trx) => {
      await trx.insertInto('organizations').values(row).execute();
      return true;
    });
    return decodeRow(FIELDS, row);
  }

  async get(id: string): Promise<OrganizationRecord | undefined> {
    const row = await this.db.selectFrom('organizations').selectAll().where('id', '=', id).executeTakeFirst();
    return row && decodeRow(FIELDS, row);
  }

  list(): Promise<OrganizationRecord[]> {
    return this.listIn(this.db);
  }

  /** Lists through a given executor, so a snapshot can read inside its transaction. */
  async listIn(db: Kysely<Database>): Promise<OrganizationRecord[]> {
    const rows = await db.selectFrom('organizations').selectAll().orderBy('created_at').orderBy('id').execute();
    return rows.map((row) => decodeRow(FIELDS, row));
  }

  update(id: string, patch: Patch<Omit<OrganizationRecord, 'id' | 'createdAt' | 'updatedAt'>>): Promise<OrganizationRecord | undefined> {
    return mutate(this.db, { entity: ENTITY, op: 'write' }, async (trx) => {
      const changes = { ...encodePatch(FIELDS, patch), updated_at: now() };
      const row = await trx.updateTable('organizations').set(changes).where('id', '=', id).returningAll().executeTakeFirst();
      return row && decodeRow(FIELDS, row);
    });
  }

  async delete(id: string): Promise<boolean> {
    const deleted = await mutate(this.db, { entity: ENTITY, op: 'delete' }, async (trx) => {
      if (await rowExists(trx, 'teams', { org_id: id })) throw new RecordInUseError(ENTITY, 'teams');
      if (await rowExists(trx, 'users', { org_id: id })) throw new RecordInUseError(ENTITY, 'users');
      const result = await trx.deleteFrom('organizations').where('id', '=', id).executeTakeFirst();
      return result.numDeletedRows > 0n ? true : undefined;
    });
    return deleted ?? false;
  }
}
