import type { Kysely } from 'kysely';
import type { UserRecord } from '../records.js';
import { RecordInUseError, RecordReferenceError, type Patch, type Repository, type UserInput } from '../record-store.js';
import type { Database, UsersTable } from './tables.js';
import { decodeRow, encodePatch, encodeRow, newId, now, type FieldMap } from './codec.js';
import { mutate, rowExists, type Trx } from './transactions.js';

const ENTITY = 'user';

const FIELDS: FieldMap<UserRecord, UsersTable> = {
  id: ['id', 'text'],
  orgId: ['org_id', 'text'],
  teamId: ['team_id', 'text'],
  name: ['name', 'text'],
  role: ['role', 'text'],
  plan: ['plan', 'text'],
  models: ['models', 'json'],
  limits: ['limits', 'json'],
  metadata: ['metadata', 'json'],
  createdAt: ['created_at', 'text'],
  updatedAt: ['updated_at', 'text'],
};

/** Checks the references a user row would hold; a null team means "no team". */
async function checkRefs(trx: Trx, orgId: string | undefined, teamId: string | null | undefined): Promise<void> {
  if (orgId !== undefined && !(await rowExists(trx, 'organizations', { id: orgId }))) {
    throw new RecordReferenceError(ENTITY, 'orgId');
  }
  if (typeof teamId === 'string' && !(await rowExists(trx, 'teams', { id: teamId }))) {
    throw new RecordReferenceError(ENTITY, 'teamId');
  }
}

/** Users: belong to an organization and optionally a team; may own keys. */
export class UserRepository implements Repository<UserRecord, UserInput> {
  constructor(private readonly db: Kysely<Database>) {}

  async create(input: UserInput): Promise<UserRecord> {
    const stamp = now();
    const row = encodeRow(FIELDS, { ...input, id: input.id ?? newId('user'), createdAt: stamp, updatedAt: stamp });
    await mutate(this.db, { entity: ENTITY, op: 'write' }, async (trx) => {
      await checkRefs(trx, row.org_id, row.team_id);
      await trx.insertInto('users').values(row).execute();
      return true;
    });
    return decodeRow(FIELDS, row);
  }

  async get(id: string): Promise<UserRecord | undefined> {
    const row = await this.db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst();
    return row && decodeRow(FIELDS, row);
  }

  list(): Promise<UserRecord[]> {
    return this.listIn(this.db);
  }

  /** Lists through a given executor, so a snapshot can read inside its transaction. */
  async listIn(db: Kysely<Database>): Promise<UserRecord[]> {
    const rows = await db.selectFrom('users').selectAll().orderBy('created_at').orderBy('id').execute();
    return rows.map((row) => decodeRow(FIELDS, row));
  }

  update(id: string, patch: Patch<Omit<UserRecord, 'id' | 'createdAt' | 'updatedAt'>>): Promise<UserRecord | undefined> {
    return mutate(this.db, { entity: ENTITY, op: 'write' }, async (trx) => {
      await checkRefs(trx, patch.orgId, patch.teamId);
      const changes = { ...encodePatch(FIELDS, patch), updated_at: now() };
      const row = await trx.updateTable('users').set(changes).where('id', '=', id).returningAll().executeTakeFirst();
      return row && decodeRow(FIELDS, row);
    });
  }

  async delete(id: string): Promise<boolean> {
    const deleted = await mutate(this.db, { entity: ENTITY, op: 'delete' }, async (trx) => {
      if (await rowExists(trx, 'api_keys', { owner_type: 'user', owner_id: id })) throw new RecordInUseError(ENTITY, 'api keys');
      const result = await trx.deleteFrom('users').where('id', '=', id).executeTakeFirst();
      return result.numDeletedRows > 0n ? true : undefined;
    });
    return deleted ?? false;
  }
}
