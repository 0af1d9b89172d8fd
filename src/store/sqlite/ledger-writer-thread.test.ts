import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { getPriority, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import type { Worker } from 'node:worker_threads';
import BetterSqlite3 from 'better-sqlite3';
import { isDataError } from '../../usage/ledger/shipper.js';
import { ledgerRow } from '../ledger.contract.js';
import { rowToText, UNREADABLE_ROW_CODE, type LedgerRow } from '../ledger-records.js';
import { openRecordStore } from '../open-store.js';
import type { RecordStore } from '../record-store.js';
import { LedgerWriterThread } from './ledger-writer-thread.js';

const dir = mkdtempSync(join(tmpdir(), 'bb-writer-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;
const nextPath = () => join(dir, `ledger-${(files += 1)}.db`);

/** A store file and a writer thread of its own on it, both closed afterwards. */
async function withThread(body: (thread: LedgerWriterThread, store: RecordStore) => Promise<void>): Promise<void> {
  const path = nextPath();
  const store = await openRecordStore({ driver: 'sqlite', path });
  const thread = new LedgerWriterThread(path);
  try {
    await body(thread, store);
  } finally {
    await thread.close();
    await store.close();
  }
}

test('a file store writes ledger rows on another thread, while the event loop is blocked', async () => {
  const path = nextPath();
  const store = await openRecordStore({ driver: 'sqlite', path });
  const watcher = new BetterSqlite3(path, { readonly: true });
  try {
    const rows = Array.from({ length: 50 }, (_, i) => ledgerRow(`req-${i}`));
    const inserted = store.ledger.insertRequests(rows);
    // Nothing on this thread can run until the loop below ends, so only another thread can write the rows.
    const count = watcher.prepare<[], { n: number }>('select count(*) as n from requests');
    const deadline = Date.now() + 10_000;
    let seen = 0;
    while (seen < rows.length && Date.now() < deadline) seen = count.get()?.n ?? 0;
    assert.equal(seen, rows.length, 'the rows landed while this thread was busy');
    assert.equal(await inserted, rows.length);
    assert.equal(await store.ledger.countRequests(), rows.length);
  } finally {
    watcher.close();
    await store.close();
  }
});

/** The nice value of each thread of this process (Linux /proc), by thread name. */
function threadNiceValues(): number[] {
  return threads().map((thread) => thread.nice);
}

function threads(): Array<{ name: string; nice: number }> {
  return readdirSync('/proc/self/task').map((task) => {
    const stat = readFileSync(`/proc/self/task/${task}/stat`, 'utf8');
    return { name: stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')), nice: Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]) };
  });
}

test('the writer thread is named ledger-writer and runs five nice steps below the process', { skip: !existsSync('/proc/self/task') }, async () => {
  const own = getPriority();
  const lowered = Math.min(19, own + 5);
  const store = await openRecordStore({ driver: 'sqlite', path: nextPath() });
  try {
    assert.ok(!threadNiceValues().includes(lowered));
    assert.equal(await store.ledger.insertRequests([ledgerRow('req-1')]), 1);
    assert.deepEqual(
      threads().filter((thread) => thread.nice !== own),
      [{ name: 'ledger-writer', nice: lowered }],
    );
  } finally {
    await store.close();
  }
  assert.ok(!threadNiceValues().includes(lowered), 'the thread is gone after close');
});

test('a row the database refuses fails its batch with the SQLite code, so the shipper can set it aside', async () => {
  const store = await openRecordStore({ driver: 'sqlite', path: nextPath() });
  try {
    const bad = { ...ledgerRow('req-bad'), endpoint: null } as unknown as LedgerRow;
    const error = await store.ledger.insertRequests([ledgerRow('req-good'), bad]).then(
      () => assert.fail('the batch should fail'),
      (failure: unknown) => failure as Error & { code?: string },
    );
    assert.match(error.code ?? '', /^SQLITE_CONSTRAINT/);
    assert.match(error.message, /NOT NULL/);
    assert.equal(isDataError(error), true);
    assert.equal(await store.ledger.countRequests(), 0, 'the whole batch rolled back');
    assert.equal(await store.ledger.insertRequests([ledgerRow('req-good')]), 1);
  } finally {
    await store.close();
  }
});

test('rows handed over as their texts, in either format, are stored exactly as rows handed over as objects', () =>
  withThread(async (thread, store) => {
    const full = { ...ledgerRow('req-x'), metadata: '{"a":1}', cost_usd: 0.000125, request_body: 'héllo \u2028 "quoted"', trace_id: null };
    assert.equal(await thread.insert({ rows: [full] }, true), 1);
    const asObject = await store.ledger.getRequest('req-x');
    assert.ok(asObject);
    for (const text of [rowToText(full), JSON.stringify(full)]) {
      await store.ledger.deleteOlderThan(Number.MAX_SAFE_INTEGER);
      assert.equal(await thread.insert({ texts: [text] }, true), 1);
      const asText = await store.ledger.getRequest('req-x');
      assert.ok(asText);
      assert.deepEqual({ ...asText, seq: 0 }, { ...asObject, seq: 0 }, text.slice(0, 20));
      assert.equal(asText.request_body, full.request_body);
    }
  }));

test('texts that are not ledger rows fail their batch with the unreadable-row code, a data error; the thread goes on', () =>
  withThread(async (thread, store) => {
    const bads = ['{"request_id":"cut', 'null', '[]', '{"requestId":"a record, not a row"}', '{"request_id":7}', '["r1","cut', '["r1",7]', '["r0","req-old-tag"]'];
    for (const bad of bads) {
      const failure = await thread.insert({ texts: [rowToText(ledgerRow('req-ok')), bad] }, true).then(
        () => assert.fail(`accepted ${bad}`),
        (error: unknown) => error,
      );
      assert.equal((failure as { code?: unknown }).code, UNREADABLE_ROW_CODE, bad);
      assert.match((failure as Error).message, /ledger row 2 of 2 is not a ledger row's JSON/);
      assert.equal(isDataError(failure), true);
    }
    assert.equal(await store.ledger.countRequests(), 0, 'no batch with an unreadable text stored anything');
    assert.equal(await store.ledger.insertRowTexts?.([rowToText(ledgerRow('req-ok'))]), 1);
    assert.equal(await store.ledger.countRequestId('req-ok'), 1);
  }));

test('a batch that cannot be handed to the thread fails alone; the thread goes on', () =>
  withThread(async (thread, store) => {
    const uncopyable = { ...ledgerRow('req-bad'), metadata: (() => 'x') as unknown as string };
    await assert.rejects(thread.insert({ rows: [uncopyable] }, false), /could not be cloned/);
    assert.equal(await thread.insert({ rows: [ledgerRow('req-good')] }, false), 1);
    assert.equal(await store.ledger.countRequests(), 1);
  }));

test('a writer thread that cannot start fails its batch, and the next batch starts a new one', async () => {
  const path = join(dir, 'not-yet', 'ledger.db');
  const thread = new LedgerWriterThread(path);
  try {
    await assert.rejects(thread.insert({ rows: [ledgerRow('req-1')] }, false), /ledger writer thread failed: .*directory does not exist/);
    const store = await openRecordStore({ driver: 'sqlite', path });
    try {
      assert.equal(await thread.insert({ rows: [ledgerRow('req-1'), ledgerRow('req-2')] }, false), 2);
      assert.equal(await store.ledger.countRequests(), 2);
    } finally {
      await store.close();
    }
  } finally {
    await thread.close();
  }
});

test('a thread that dies with a batch in flight fails that batch, and the next batch starts a new thread', () =>
  withThread(async (thread, store) => {
    assert.equal(await thread.insert({ rows: [ledgerRow('req-1')] }, false), 1);
    const inFlight = thread.insert({ rows: Array.from({ length: 2_000 }, (_, i) => ledgerRow(`req-big-${i}`)) }, false);
    // Stands in for a crash (out of memory, a native fault): the thread ends under the batch.
    await (thread as unknown as { worker: Worker }).worker.terminate();
    await assert.rejects(inFlight, /ledger writer thread exited with code 1/);
    assert.equal(await thread.insert({ rows: [ledgerRow('req-2')] }, false), 1);
    assert.equal(await store.ledger.countRequestId('req-2'), 1);
  }));

test('after close, a batch is refused and nothing is written', () =>
  withThread(async (thread, store) => {
    assert.equal(await thread.insert({ rows: [ledgerRow('req-1')] }, false), 1);
    await thread.close();
    await assert.rejects(thread.insert({ rows: [ledgerRow('req-2')] }, false), /the record store is closed/);
    assert.equal(await store.ledger.countRequests(), 1);
  }));

test('an idle writer thread does not keep the process alive', () => {
  const script = `
    import { openRecordStore } from './src/store/open-store.ts';
    import { ledgerRow } from './src/store/ledger.contract.ts';
    const store = await openRecordStore({ driver: 'sqlite', path: ${JSON.stringify(nextPath())} });
    console.log(await store.ledger.insertRequests([ledgerRow('req-1')]));
  `;
  const child = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8', timeout: 30_000 });
  assert.equal(child.error, undefined, 'the process ended by itself');
  assert.equal(child.status, 0, child.stderr);
  assert.equal(child.stdout.trim(), '1');
});
