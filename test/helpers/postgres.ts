import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { openRecordStore, type RecordStore } from '../../src/store/index.js';

/**
 * Throwaway PostgreSQL schemas for a test file: each store opens in a fresh schema, and `drop()`
 * removes them all at the end, so runs never see each other's rows.
 */
export class TestSchemas {
  private readonly schemas: string[] = [];

  constructor(
    private readonly url: string | undefined,
    private readonly prefix = 'bb_test',
  ) {}

  /** A new schema name, remembered for `drop()`. */
  fresh(): string {
    const schema = `${this.prefix}_${randomBytes(6).toString('hex')}`;
    this.schemas.push(schema);
    return schema;
  }

  /** A migrated record store in `schema` (a fresh one when omitted). */
  open(schema: string = this.fresh(), poolSize = 4): Promise<RecordStore> {
    return openRecordStore({ driver: 'postgres', url: this.url ?? '', schema, poolSize });
  }

  async drop(): Promise<void> {
    if (!this.url || this.schemas.length === 0) return;
    const client = new pg.Client({ connectionString: this.url });
    await client.connect();
    try {
      for (const schema of this.schemas.splice(0)) await client.query(`drop schema if exists "${schema}" cascade`);
    } finally {
      await client.end();
    }
  }
}
