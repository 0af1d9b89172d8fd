import type { Kysely } from 'kysely';
import type { ApiKeyRecord } from '../records.js';
import { RecordReferenceError, type ApiKeyInput, type Patch, type RecordStore } from '../record-store.js';
import type { ApiKeysTable, Database } from './tables.js';
import { decodeRow, encodePatch, encodeRow, newId, now, type FieldMap } from './codec.js';
import { mutate, rowExists, type Trx } from './transactions.js';

const ENTITY = 'api key';

const FIELDS: FieldMap<ApiKeyRecord, ApiKeysTable> = {
  id: ['id', 'text'],
  name: ['name', 'text'],
  keyHash: ['key_hash', 'text'],
  displayPrefix: ['display_prefix', 'text'],
  ownerType: ['owner_type', 'text'],
  ownerId: ['owner_id', 'text'],
  plan: ['plan', 'text'],
  models: ['models', 'json'],
  limits: ['limits', 'json'],
  endpoints: ['endpoints', 'json'],
  tags: ['tags', 'json'],
  metadata: ['metadata', 'json'],
  expiresAt: ['expires_at', 'text'],
  status: ['status', 'text'],
  revokedAt: ['revoked_at', 'text'],
  rotatedFrom: ['rotated_from', 'text'],
  createdBy: ['created_by', 'text'],
  createdAt: ['created_at', 'text'],
  updatedAt: ['updated_at', 'text'],
};

/** The owner is polymorphic, so no foreign key can check it: the store does. */
async function checkOwner(trx: Trx, ownerType: string, ownerId: string): Promise<void> {
  if (ownerType !== 'user' && ownerType !== 'team') throw new RecordReferenceError(ENTITY, 'ownerType');
  const table = ownerType === 'user' ? 'users' : 'teams';
  if (!(await rowExists(trx, table, { id: ownerId }))) throw new RecordReferenceError(ENTITY, 'ownerId');
}

/** The earlier of two instants; an unparsable stored value loses to the requested one. */
function earlier(current: string | null, requested: string): string {
  if (current === null) return requested;
  const a = Date.parse(current);
  const b = Date.parse(requested);
  return Number.isNaN(a) || Number.isNaN(b) || b < a ? requested : current;
}

type ApiKeys = RecordStore['apiKeys'];

/** Virtual API keys, stored by hash; owned by a user or a team. */
export class ApiKeyRepository implements ApiKeys {
  constructor(private readonly db: Kysely<Database>) {}

  private newRow(input: ApiKeyInput, stamp: string): ApiKeysTable {
    return encodeRow(FIELDS, { ...input, id: input.id ?? newId('key'), createdAt: stamp, updatedAt: stamp });
  }

  async create(input: ApiKeyInput): Promise<ApiKeyRecord> {
    const row = this.newRow(input, now());
    await mutate(this.db, { entity: ENTITY, op: 'write' }, async (trx) => {
      await checkOwner(trx, row.owner_type, row.owner_id);
      await trx.insertInto('api_keys').values(row).execute();
      return true;
    });
    return decodeRow(FIELDS, row);
  }

  async get(id: string): Promise<ApiKeyRecord | undefined> {
    const row = await this.db.selectFrom('api_keys').selectAll().where('id', '=', id).executeTakeFirst();
    return row && decodeRow(FIELDS, row);
  }

  async findByHash(keyHash: string): Promise<ApiKeyRecord | undefined> {
    const row = await this.db.selectFrom('api_keys').selectAll().where('key_hash', '=', keyHash).executeTakeFirst();
    return row && decodeRow(FIELDS, row);
  }

  list(): Promise<ApiKeyRecord[]> {
    return this.listIn(this.db);
  }

  /** Lists through a given executor, so a snapshot can read inside its transaction. */
  async listIn(db: Kysely<Database>): Promise<ApiKeyRecord[]> {
    const rows = await db.selectFrom('api_keys').selectAll().orderBy('created_at').orderBy('id').execute();
    return rows.map((row) => decodeRow(FIELDS, row));
  }

  update(id: string, patch: Patch<Omit<ApiKeyRecord, 'id' | 'createdAt' | 'updatedAt'>>): Promise<ApiKeyRecord | undefined> {
    return mutate(this.db, { entity: ENTITY, op: 'write' }, async (trx) => {
      if (patch.ownerType !== undefined || patch.ownerId !== undefined) {
        // Half an owner may change; check the pair the row would end up with.
        const current = await trx.selectFrom('api_keys').select(['owner_type', 'owner_id']).where('id', '=', id).executeTakeFirst();
        if (current === undefined) return undefined;
        await checkOwner(trx, patch.ownerType ?? current.owner_type, patch.ownerId ?? current.owner_id);
      }
      const changes = { ...encodePatch(FIELDS, patch), updated_at: now() };
      const row = await trx.updateTable('api_keys').set(changes).where('id', '=', id).returningAll().executeTakeFirst();
      return row && decodeRow(FIELDS, row);
    });
  }

  /** Deleting a key is always allowed: a key that `rotatedFrom` names may be gone. */
  async delete(id: string): Promise<boolean> {
    const deleted = await mutate(this.db, { entity: ENTITY, op: 'delete' }, async (trx) => {
      const result = await trx.deleteFrom('api_keys').where('id', '=', id).executeTakeFirst();
      return result.numDeletedRows > 0n ? true : undefined;
    });
    return deleted ?? false;
  }

  rotate(oldId: string, replacement: ApiKeyInput, oldExpiresAt: string): Promise<ApiKeyRecord | undefined> {
    return mutate(this.db, { entity: ENTITY, op: 'write' }, async (trx) => {
      const old = await trx.selectFrom('api_keys').select('expires_at').where('id', '=', oldId).executeTakeFirst();
      if (old === undefined) return undefined;
      const stamp = now();
      const row = this.newRow({ ...replacement, rotatedFrom: oldId }, stamp);
      await checkOwner(trx, row.owner_type, row.owner_id);
      await trx.insertInto('api_keys').values(row).execute();
      const expiresAt = earlier(old.expires_at, oldExpiresAt);
      if (expiresAt !== old.expires_at) {
        await trx.updateTable('api_keys').set({ expires_at: expiresAt, updated_at: stamp }).where('id', '=', oldId).execute();
      }
      return decodeRow(FIELDS, row);
    });
  }
}
