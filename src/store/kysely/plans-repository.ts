import type { Kysely } from 'kysely';
import type { PlanRecord } from '../records.js';
import { RecordInUseError, type Patch, type PlanInput, type Repository } from '../record-store.js';
import type { Database, PlansTable } from './tables.js';
import { decodeRow, encodePatch, encodeRow, now, type FieldMap } from './codec.js';
import { mutate, rowExists, type Trx } from './transactions.js';

const ENTITY = 'plan';

const FIELDS: FieldMap<PlanRecord, PlansTable> = {
  name: ['name', 'text'],
  spec: ['spec', 'json'],
  createdAt: ['created_at', 'text'],
  updatedAt: ['updated_at', 'text'],
};

/** Rows name plans by text (config may define plans too), so usage is checked table by table. */
async function checkUnused(trx: Trx, name: string): Promise<void> {
  if (await rowExists(trx, 'teams', { plan: name })) throw new RecordInUseError(ENTITY, 'teams');
  if (await rowExists(trx, 'users', { plan: name })) throw new RecordInUseError(ENTITY, 'users');
  if (await rowExists(trx, 'api_keys', { plan: name })) throw new RecordInUseError(ENTITY, 'api keys');
  if (await rowExists(trx, 'customers', { plan: name })) throw new RecordInUseError(ENTITY, 'customers');
}

/** Plans stored at run time; the name is the primary key. */
export class PlanRepository implements Repository<PlanRecord, PlanInput> {
  constructor(private readonly db: Kysely<Database>) {}

  async create(input: PlanInput): Promise<PlanRecord> {
    const stamp = now();
    const row = encodeRow(FIELDS, { ...input, createdAt: stamp, updatedAt: stamp });
    await mutate(this.db, { entity: ENTITY, op: 'write' }, async (trx) => {
      await trx.insertInto('plans').values(row).execute();
      return true;
    });
    return decodeRow(FIELDS, row);
  }

  async get(name: string): Promise<PlanRecord | undefined> {
    const row = await this.db.selectFrom('plans').selectAll().where('name', '=', name).executeTakeFirst();
    return row && decodeRow(FIELDS, row);
  }

  list(): Promise<PlanRecord[]> {
    return this.listIn(this.db);
  }

  /** Lists through a given executor, so a snapshot can read inside its transaction. */
  async listIn(db: Kysely<Database>): Promise<PlanRecord[]> {
    const rows = await db.selectFrom('plans').selectAll().orderBy('created_at').orderBy('name').execute();
    return rows.map((row) => decodeRow(FIELDS, row));
  }

  /** A rename is allowed only while no row names the plan, so no reference is left dangling. */
  update(name: string, patch: Patch<Omit<PlanRecord, 'createdAt' | 'updatedAt'>>): Promise<PlanRecord | undefined> {
    return mutate(this.db, { entity: ENTITY, op: 'write' }, async (trx) => {
      if (patch.name !== undefined && patch.name !== name) await checkUnused(trx, name);
      const changes = { ...encodePatch(FIELDS, patch), updated_at: now() };
      const row = await trx.updateTable('plans').set(changes).where('name', '=', name).returningAll().executeTakeFirst();
      return row && decodeRow(FIELDS, row);
    });
  }

  async delete(name: string): Promise<boolean> {
    const deleted = await mutate(this.db, { entity: ENTITY, op: 'delete' }, async (trx) => {
      await checkUnused(trx, name);
      const result = await trx.deleteFrom('plans').where('name', '=', name).executeTakeFirst();
      return result.numDeletedRows > 0n ? true : undefined;
    });
    return deleted ?? false;
  }
}
