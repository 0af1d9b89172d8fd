import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import pg from 'pg';
import { openRecordStore } from '../../src/store/open-store.js';
import { describeRecordStoreContract } from '../../src/store/record-store.contract.js';
import type { RecordStore } from '../../src/store/record-store.js';
import { TestSchemas } from '../helpers/postgres.js';

const url = process.env.DATABASE_URL;
const skip = url ? false : 'DATABASE_URL is not set (e.g. postgres://postgres@127.0.0.1:5432/test); skipping PostgreSQL store tests';
if (!url) console.log(skip);

const pgSchemas = new TestSchemas(url);
const freshSchema = () => pgSchemas.fresh();
const openIn = (schema: string): Promise<RecordStore> => pgSchemas.open(schema);
const dropSchemas = () => pgSchemas.drop();

if (url) {
  describeRecordStoreContract('postgres', () => openIn(freshSchema()), dropSchemas);
}

describe('postgres store, several instances', { skip }, () => {
  after(dropSchemas);

  it('a change through one store shows in the other one revision and snapshot', async () => {
    const schema = freshSchema();
    const [a, b] = await Promise.all([openIn(schema), openIn(schema)]);
    try {
      assert.equal(a.driver, 'postgres');
      const start = await b.revision();
      const org = await a.organizations.create({ name: 'acme', metadata: { shared: true } });
      assert.equal(await b.revision(), start + 1);
      const snapshot = await b.snapshot();
      assert.equal(snapshot.revision, start + 1);
      assert.deepEqual(snapshot.organizations, [org]);
      await b.organizations.update(org.id, { name: 'acme2' });
      assert.equal(await a.revision(), start + 2);
      assert.equal((await a.organizations.get(org.id))?.name, 'acme2');
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  it('concurrent migrators on a fresh schema both succeed; reopening keeps data', async () => {
    const schema = freshSchema();
    const stores = await Promise.all([openIn(schema), openIn(schema), openIn(schema)]);
    try {
      await stores[0]?.plans.create({ name: 'pro', spec: {} });
    } finally {
      await Promise.all(stores.map((s) => s.close()));
    }
    const again = await openIn(schema);
    try {
      assert.deepEqual((await again.plans.list()).map((p) => p.name), ['pro']);
      assert.equal(await again.revision(), 1);
    } finally {
      await again.close();
    }
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      const { rows } = await client.query(`select name from "${schema}".kysely_migration order by name`);
      assert.deepEqual(rows, [{ name: '001-identity' }, { name: '002-entity-limits' }, { name: '003-ledger' }, { name: '004-usage-rollups' }, { name: '005-audit' }, { name: '006-ledger-bodies' }], 'each migration applied once');
    } finally {
      await client.end();
    }
  });

  it('concurrent writers through two stores lose no revision bump; snapshots match their revision', async () => {
    const schema = freshSchema();
    const [a, b] = await Promise.all([openIn(schema), openIn(schema)]);
    try {
      const org = await a.organizations.create({ name: 'acme', metadata: {} });
      const writes = Promise.all(
        Array.from({ length: 20 }, (_, i) => (i % 2 ? a : b).teams.create({ orgId: org.id, name: `team-${i}`, metadata: {} })),
      );
      // Snapshots taken meanwhile must match their revision: one org, then one team per bump.
      const reads = Promise.all(Array.from({ length: 10 }, () => b.snapshot()));
      await writes;
      for (const seen of await reads) assert.equal(seen.teams.length, seen.revision - 1);
      const snapshot = await a.snapshot();
      assert.equal(snapshot.revision, 21);
      assert.equal(snapshot.teams.length, 20);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  it('a connection failure names the server, never the password', async () => {
    const parsed = new URL(url ?? 'postgres://localhost/test');
    parsed.password = 's3cret-pw';
    parsed.port = '1';
    await assert.rejects(
      openRecordStore({ driver: 'postgres', url: parsed.href }),
      (err: unknown) => err instanceof Error && /cannot connect to PostgreSQL/.test(err.message) && !err.message.includes('s3cret-pw'),
    );
  });

  it('an invalid schema name is refused before connecting', async () => {
    await assert.rejects(openRecordStore({ driver: 'postgres', url: url ?? '', schema: 'x"; drop table y; --' }), /invalid PostgreSQL schema name/);
  });
});
