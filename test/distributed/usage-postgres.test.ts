import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, describe, it } from 'node:test';
import pg from 'pg';
import { openRecordStore } from '../../src/store/open-store.js';
import type { RecordStore } from '../../src/store/record-store.js';
import { describeUsageAnalytics, ledgerRow } from '../../src/usage/analytics/usage-analytics.contract.js';

const url = process.env.DATABASE_URL;
const skip = url ? false : 'DATABASE_URL is not set (e.g. postgres://postgres@127.0.0.1:5432/test); skipping PostgreSQL analytics tests';
if (!url) console.log(skip);

const schemas: string[] = [];

function openFresh(): Promise<RecordStore> {
  const schema = `bb_usage_${randomBytes(6).toString('hex')}`;
  schemas.push(schema);
  return openRecordStore({ driver: 'postgres', url: url ?? '', schema, poolSize: 4 });
}

async function dropSchemas(): Promise<void> {
  if (!url || schemas.length === 0) return;
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    for (const schema of schemas.splice(0)) await client.query(`drop schema if exists "${schema}" cascade`);
  } finally {
    await client.end();
  }
}

if (url) describeUsageAnalytics('postgres', openFresh, dropSchemas);

describe('usage rollups on PostgreSQL, several instances', { skip }, () => {
  after(dropSchemas);

  it('folds a row only once its seq has settled, and never twice from two stores', async () => {
    const a = await openFresh();
    const schema = schemas[schemas.length - 1] as string;
    const b = await openRecordStore({ driver: 'postgres', url: url ?? '', schema, poolSize: 4 });
    try {
      await a.ledger.insertRequests([ledgerRow(10), ledgerRow(20), ledgerRow(30)]);
      const now = Date.now();
      // The first run only notes the highest seq; rows become foldable settleMs later.
      assert.equal((await a.usage.fold({ settleMs: 1000, now })).folded, 0);
      assert.equal((await b.usage.fold({ settleMs: 1000, now: now + 500 })).folded, 0);
      const runs = await Promise.all([a.usage.fold({ settleMs: 1000, now: now + 1000 }), b.usage.fold({ settleMs: 1000, now: now + 1000 })]);
      assert.equal(runs[0].folded + runs[1].folded, 3);
      assert.equal((await a.usage.fold({ settleMs: 1000, now: now + 5000 })).folded, 0);
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      try {
        const { rows } = await client.query(`select sum(requests)::int as n from "${schema}".usage_rollups where dimset = 'team' and grain = 'hour'`);
        assert.equal(rows[0].n, 3);
      } finally {
        await client.end();
      }
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });
});
