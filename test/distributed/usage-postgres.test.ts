import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import pg from 'pg';
import type { RecordStore } from '../../src/store/record-store.js';
import { describeUsageAnalytics, ledgerRow } from '../../src/usage/analytics/usage-analytics.contract.js';
import { TestSchemas } from '../helpers/postgres.js';

const url = process.env.DATABASE_URL;
const skip = url ? false : 'DATABASE_URL is not set (e.g. postgres://postgres@127.0.0.1:5432/test); skipping PostgreSQL analytics tests';
if (!url) console.log(skip);

const pgSchemas = new TestSchemas(url, 'bb_usage');
const openFresh = (): Promise<RecordStore> => pgSchemas.open();
const dropSchemas = () => pgSchemas.drop();

if (url) describeUsageAnalytics('postgres', openFresh, dropSchemas);

describe('usage rollups on PostgreSQL, several instances', { skip }, () => {
  after(dropSchemas);

  it('folds a row only once its seq has settled, and never twice from two stores', async () => {
    const schema = pgSchemas.fresh();
    const [a, b] = [await pgSchemas.open(schema), await pgSchemas.open(schema)];
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
