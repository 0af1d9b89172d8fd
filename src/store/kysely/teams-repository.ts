import type { Kysely } from 'kysely';
import type { TeamRecord } from '../records.js';
import { RecordInUseError, RecordReferenceError, type Patch, type Repository, type TeamInput } from '../record-store.js';
import type { Database, TeamsTable } from './tables.js';
import { decodeRow, encodePatch, encodeRow, newId, now, type FieldMap } from './codec.js';
import { mutate, rowExists, type Trx } from './transactions.js';

const ENTITY = 'team';

const FIELDS: FieldMap<TeamRecord, TeamsTable> = {
  id: ['id', 'text'],
  orgId: ['org_id', 'text'],
  name: ['name', 'text'],
  plan: ['plan', 'text'],
  models: ['models', 'json'],
  limits: ['limits', 'json'],
  endpoints: ['endpoints', 'json'],
  metadata: ['metadata', 'json'],
  createdAt: ['created_at', 'text'],
  updatedAt: ['updated_at', 'text'],
};

async function checkOrg(trx: Trx, orgId: string): Promise<void> {
  if (!(await rowExists(trx, 'organizations', { id: orgId }))) throw new RecordReferenceError(ENTITY, 'orgId');
}

/** Teams: belong to an organization; users and keys may belong to a team. */
export class TeamRepository implements Repository<TeamRecord, TeamInput> {
  constructor(private readonly db: Kysely<Database>) {}

  async create(input: TeamInput): Promise<TeamRecord> {
    const stamp = now();
    const row = encodeRow(FIELDS, { ...input, id: input.id ?? newId('team'), createdAt: stamp, updatedAt: stamp });
    await mutate(this.db, { entity: ENTITY, op: 'write' }, async (trx) => {
      await checkOrg(trx, row.org_id);
      await trx.insertInto('teams').values(row).execute();
      return true;
    });
    return decodeRow(FIELDS, row);
  }

  async get(id: string): Promise<TeamRecord | undefined> {
    const row = await this.db.selectFrom('teams').selectAll().where('id', '=', id).executeTakeFirst();
    return row && decodeRow(FIELDS, row);
  }

  list(): Promise<TeamRecord[]> {
    return this.listIn(this.db);
  }

  /** Lists through a given executor, so a snapshot can read inside its transaction. */
  async listIn(db: Kysely<Database>): Promise<TeamRecord[]> {
    const rows = await db.selectFrom('teams').selectAll().orderBy('created_at').orderBy('id').execute();
    return rows.map((row) => decodeRow(FIELDS, row));
  }

  update(id: string, patch: Patch<Omit<TeamRecord, 'id' | 'createdAt' | 'updatedAt'>>): Promise<TeamRecord | undefined> {
    return mutate(this.db, { entity: ENTITY, op: 'write' }, async (trx) => {
      if (patch.orgId !== undefined) await checkOrg(trx, patch.orgId);
      const changes = { ...encodePatch(FIELDS, patch), updated_at: now() };
      const row = await trx.updateTable('teams').set(changes).where('id', '=', id).returningAll().executeTakeFirst();
      return row && decodeRow(FIELDS, row);
    });
  }

  async delete(id: string): Promise<boolean> {
    const deleted = await mutate(this.db, { entity: ENTITY, op: 'delete' }, async (trx) => {
      if (await rowExists(trx, 'users', { team_id: id })) throw new RecordInUseError(ENTITY, 'users');
      if (await rowExists(trx, 'api_keys', { owner_type: 'team', owner_id: id })) throw new RecordInUseError(ENTITY, 'api keys');
      const result = await trx.deleteFrom('teams').where('id', '=', id).executeTakeFirst();
      return result.numDeletedRows > 0n ? true : undefined;
    });
    return deleted ?? false;
  }
}
