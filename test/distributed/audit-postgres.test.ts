import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import pg from 'pg';
import { describeAuditStoreContract, entries } from '../../src/audit/audit-store.contract.js';
import type { RecordStore } from '../../src/store/record-store.js';
import { TestSchemas } from '../helpers/postgres.js';

const url = process.env.DATABASE_URL;
const skip = url ? false : 'DATABASE_URL is not set (e.g. postgres://postgres@127.0.0.1:5432/test); skipping PostgreSQL audit tests';
if (!url) console.log(skip);

const pgSchemas = new TestSchemas(url, 'bb_audit');
const freshSchema = () => pgSchemas.fresh();

function openIn(schema: string, poolSize = 4): Promise<RecordStore> {
  return pgSchemas.open(schema, poolSize);
}

/** One statement in the schema, on a connection of its own (behind the stores' backs). */
async function rawIn(schema: string, statement: string): Promise<void> {
  const client = new pg.Client({ connectionString: url, options: `-c search_path="${schema}"` });
  await client.connect();
  try {
    await client.query(statement);
  } finally {
    await client.end();
  }
}

const dropSchemas = () => pgSchemas.drop();

if (url) {
  describeAuditStoreContract(
    'postgres',
    async () => {
      const schema = freshSchema();
      return { store: await openIn(schema), raw: (statement) => rawIn(schema, statement), second: () => openIn(schema) };
    },
    dropSchemas,
  );
}

describe('audit log on postgres, several instances', { skip }, () => {
  after(dropSchemas);

  it('keeps one chain under concurrent batches from three instances, and a tamper is found', { timeout: 120_000 }, async () => {
    const schema = freshSchema();
    const stores = await Promise.all([openIn(schema, 6), openIn(schema, 6), openIn(schema, 6)]);
    try {
      // Each instance fires many batches at once through its own pool: appends race inside and across instances.
      await Promise.all(stores.flatMap((store, instance) => Array.from({ length: 30 }, (_, round) => store.audit.append(entries(instance * 10_000 + round * 10, 1 + (round % 4))))));
      const expected = 3 * Array.from({ length: 30 }, (_, round) => 1 + (round % 4)).reduce((a, b) => a + b, 0);
      const [first, second] = stores as [RecordStore, RecordStore, RecordStore];
      const result = await second.audit.verify({ pageSize: 50 });
      assert.deepEqual(result.problems, []);
      assert.equal(result.checked, expected);
      assert.deepEqual(await first.audit.head(), { seq: expected, hash: result.headHash });
      // Seqs run from 1 without gaps or repeats.
      const all = (await first.audit.list({}, { limit: 5000, order: 'asc' })).entries;
      assert.deepEqual(all.map((e) => e.seq), Array.from({ length: expected }, (_, i) => i + 1));

      await rawIn(schema, `update audit_log set target_id = 'someone-else' where seq = ${Math.floor(expected / 2)}`);
      await rawIn(schema, `delete from audit_log where seq = ${expected - 3}`);
      const tampered = await first.audit.verify();
      assert.equal(tampered.ok, false);
      assert.deepEqual(tampered.problems, [
        { seq: Math.floor(expected / 2), kind: 'altered' },
        { seq: expected - 3, kind: 'missing' },
      ]);
    } finally {
      await Promise.all(stores.map((store) => store.close()));
    }
  });
});
