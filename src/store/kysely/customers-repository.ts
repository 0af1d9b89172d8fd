import type { Kysely } from 'kysely';
import type { CustomerRecord } from '../records.js';
import type { CustomerInput, Patch, Repository } from '../record-store.js';
import type { CustomersTable, Database } from './tables.js';
import { decodeRow, encodePatch, encodeRow, now, type FieldMap } from './codec.js';
import { mutate } from './transactions.js';

const ENTITY = 'customer';

const FIELDS: FieldMap<CustomerRecord, CustomersTable> = {
  id: ['id', 'text'],
  plan: ['plan', 'text'],
  blocked: ['blocked', 'bool'],
  metadata: ['metadata', 'json'],
  createdAt: ['created_at', 'text'],
  updatedAt: ['updated_at', 'text'],
};

/** End customers, keyed by the id clients send; nothing refers to them. */
export class CustomerRepository implements Repository<CustomerRecord, CustomerInput> {
  constructor(private readonly db: Kysely<Database>) {}

  async create(input: CustomerInput): Promise<CustomerRecord> {
    const stamp = now();
    const row = encodeRow(FIELDS, { ...input, createdAt: stamp, updatedAt: stamp });
    await mutate(this.db, { entity: ENTITY, op: 'write' }, async (trx) => {
      await trx.insertInto('customers').values(row).execute();
      return true;
    });
    return decodeRow(FIELDS, row);
  }

  async get(id: string): Promise<CustomerRecord | undefined> {
    const row = await this.db.selectFrom('customers').selectAll().where('id', '=', id).executeTakeFirst();
    return row && decodeRow(FIELDS, row);
  }

  list(): Promise<CustomerRecord[]> {
    return this.listIn(this.db);
  }

  /** Lists through a given executor, so a snapshot can read inside its transaction. */
  async listIn(db: Kysely<Database>): Promise<CustomerRecord[]> {
    const rows = await db.selectFrom('customers').selectAll().orderBy('created_at').orderBy('id').execute();
    return rows.map((row) => decodeRow(FIELDS, row));
  }

  update(id: string, patch: Patch<Omit<CustomerRecord, 'id' | 'createdAt' | 'updatedAt'>>): Promise<CustomerRecord | undefined> {
    return mutate(this.db, { entity: ENTITY, op: 'write' }, async (trx) => {
      const changes = { ...encodePatch(FIELDS, patch), updated_at: now() };
      const row = await trx.updateTable('customers').set(changes).where('id', '=', id).returningAll().executeTakeFirst();
      return row && decodeRow(FIELDS, row);
    });
  }

  async delete(id: string): Promise<boolean> {
    const deleted = await mutate(this.db, { entity: ENTITY, op: 'delete' }, async (trx) => {
      const result = await trx.deleteFrom('customers').where('id', '=', id).executeTakeFirst();
      return result.numDeletedRows > 0n ? true : undefined;
    });
    return deleted ?? false;
  }
}
