import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { ask, knownRows, T0 } from '../../usage/analytics/usage-analytics.contract.js';
import { openRecordStore } from '../open-store.js';
import type { RecordStore } from '../record-store.js';

const DAY = 86_400_000;
const iso = (ms: number) => new Date(ms).toISOString();
const BOTH = `from=${iso(T0)}&to=${iso(T0 + 2 * DAY)}`;
const QUERIES = [
  `group_by=model&${BOTH}&measures=requests,errors,input_tokens,output_tokens,cost_usd,avg_latency_ms,p50_latency_ms,p95_latency_ms,p99_ttft_ms,p95_input_tokens`,
  `group_by=team&${BOTH}&bucket=1h&measures=requests,avg_latency_ms`,
  `group_by=key&${BOTH}&bucket=1d&measures=requests,cost_usd,max_latency_ms`,
  `group_by=template_version&${BOTH}&measures=requests,output_tokens_per_request`,
  `group_by=customer&${BOTH}&measures=requests,p95_input_tokens,max_input_tokens&order=requests`,
];

/** Every query's rows from the rollups, checked against the same query over the raw rows. */
async function answersFromRollups(store: RecordStore): Promise<unknown[]> {
  const answers: unknown[] = [];
  for (const query of QUERIES) {
    const rolled = await ask(store, query);
    assert.ok(rolled.sources.every((source) => !source.startsWith('raw:unfolded')), `${query}: ${rolled.sources.join()}`);
    assert.equal(rolled.rollups.unfolded_rows, 0);
    const raw = await ask(store, `${query}&source=raw`);
    assert.deepEqual(rolled.rows, raw.rows, query);
    answers.push(rolled.rows);
  }
  return answers;
}

const dir = mkdtempSync(join(tmpdir(), 'bb-fold-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;

// In memory the inserts run on the store's connection; in a file, on the writer thread.
for (const where of ['in memory', 'in a file'] as const) {
  const open = () => openRecordStore({ driver: 'sqlite', path: where === 'in memory' ? ':memory:' : join(dir, `fold-${(files += 1)}.db`) });

  describe(`SQLite ledger ${where}: rows folded into the rollups as they are inserted`, () => {
    it('leaves nothing for the job, and the rollups answer exactly as the raw rows and as the job would', async () => {
      const shipped = await open();
      const byJob = await openRecordStore({ driver: 'sqlite', path: ':memory:' });
      try {
        const rows = knownRows();
        // In three batches, the way the shipper sends them: each batch merges into stored rollups.
        for (const batch of [rows.slice(0, 4), rows.slice(4, 9), rows.slice(9)]) await shipped.ledger.insertRequests(batch, { foldRollups: true });
        assert.equal((await shipped.usage.fold({ settleMs: 0 })).folded, 0, 'the job finds nothing left');
        await byJob.ledger.insertRequests(rows);
        assert.equal((await byJob.usage.fold({ settleMs: 0 })).folded, rows.length);
        assert.deepEqual(await answersFromRollups(shipped), await answersFromRollups(byJob));
      } finally {
        await Promise.all([shipped.close(), byJob.close()]);
      }
    });

    it('folds nothing while earlier rows wait for the job, and the job then folds each row once', async () => {
      const store = await open();
      try {
        const rows = knownRows();
        await store.ledger.insertRequests(rows.slice(0, 5));
        await store.ledger.insertRequests(rows.slice(5), { foldRollups: true });
        const early = await ask(store, `group_by=model&${BOTH}`);
        assert.equal(early.rollups.unfolded_rows, rows.length, 'not folded: the watermark was behind');
        assert.equal((await store.usage.fold({ settleMs: 0 })).folded, rows.length);
        await answersFromRollups(store);
      } finally {
        await store.close();
      }
    });

    it('a replayed batch (request ids already stored) is neither inserted nor folded again', async () => {
      const store = await open();
      try {
        const rows = knownRows();
        assert.equal(await store.ledger.insertRequests(rows, { foldRollups: true }), rows.length);
        const before = await ask(store, QUERIES[0] as string);
        assert.equal(await store.ledger.insertRequests(rows, { foldRollups: true }), 0);
        assert.deepEqual((await ask(store, QUERIES[0] as string)).rows, before.rows);
        await answersFromRollups(store);
      } finally {
        await store.close();
      }
    });
  });
}
