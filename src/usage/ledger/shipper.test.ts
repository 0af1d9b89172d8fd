import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { rowFromText, rowToText, type LedgerRow } from '../../store/ledger-records.js';
import { openRecordStore } from '../../store/open-store.js';
import { toLedgerRow } from './ledger-row.js';
import { Outbox } from './outbox.js';
import { isDataError, Shipper, type LedgerLog, type ShipperOptions } from './shipper.js';
import { sampleRecord } from './test-fixtures.js';

const dir = mkdtempSync(join(tmpdir(), 'bb-shipper-'));
after(() => rmSync(dir, { recursive: true, force: true }));

interface LogLine {
  level: 'info' | 'warn' | 'error';
  message: string;
  fields: Record<string, unknown>;
}

function recordingLog(): LedgerLog & { lines: LogLine[] } {
  const lines: LogLine[] = [];
  const at = (level: LogLine['level']) => (fields: Record<string, unknown>, message: string) => void lines.push({ level, message, fields });
  return { lines, info: at('info'), warn: at('warn'), error: at('error') };
}

/** A record store stand-in that can be switched down, and keeps what it was given (deduplicated). */
function fakeStore() {
  const stored = new Map<string, LedgerRow>();
  const state = { down: false, calls: 0, transactions: [] as number[] };
  const sink = async (rows: LedgerRow[]) => {
    state.calls += 1;
    if (state.down) throw Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
    state.transactions.push(rows.length);
    for (const row of rows) if (!stored.has(row.request_id)) stored.set(row.request_id, row);
  };
  return { stored, state, sink };
}

const options = (log: LedgerLog, extra: Partial<ShipperOptions> = {}): ShipperOptions => ({ flushMs: 20, batchSize: 50, retryMaxMs: 100, log, ...extra });

async function until(condition: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

describe('ledger shipper', () => {
  it('ships a row appended by this process as the object it was given, the file text only as its copy', async () => {
    const outbox = Outbox.open(':memory:');
    const store = fakeStore();
    const shipper = new Shipper([outbox], [], store.sink, options(recordingLog(), { flushMs: 10_000 }));
    try {
      outbox.append(JSON.stringify(toLedgerRow(sampleRecord('from-text'))));
      const row = toLedgerRow(sampleRecord('hot-1'));
      outbox.append(JSON.stringify(row), row);
      await shipper.flush();
      assert.equal(store.stored.get('hot-1'), row);
      assert.equal(store.stored.get('from-text')?.request_id, 'from-text');
      assert.equal(outbox.depth(), 0);
    } finally {
      await shipper.close(100);
      outbox.close();
    }
  });

  it('a failed outbox checkpoint is logged as a warning and shipping goes on', async () => {
    const outbox = Outbox.open(':memory:');
    let checkpoints = 0;
    const failing = Object.assign(outbox, {
      maintain: async () => {
        checkpoints += 1;
        throw new Error('disk I/O error');
      },
    });
    const store = fakeStore();
    const log = recordingLog();
    const shipper = new Shipper([failing], [], store.sink, options(log, { flushMs: 10_000 }));
    try {
      outbox.append(JSON.stringify(toLedgerRow(sampleRecord('before'))));
      await shipper.flush();
      outbox.append(JSON.stringify(toLedgerRow(sampleRecord('after'))));
      await shipper.flush();
      assert.deepEqual([...store.stored.keys()].sort(), ['after', 'before']);
      assert.ok(checkpoints >= 2);
      const warnings = log.lines.filter((line) => line.level === 'warn');
      assert.ok(warnings.length >= 2 && warnings.every((line) => /checkpoint failed/.test(line.message) && line.fields.err === 'disk I/O error'), JSON.stringify(warnings));
    } finally {
      await shipper.close(100);
      outbox.close();
    }
  });

  it('gives a text sink the outbox texts as stored: rows as they are in either format, older records made rows, neither set aside', async () => {
    const outbox = Outbox.open(':memory:', { hotCapacity: 0 });
    const calls: string[][] = [];
    const shipper = new Shipper([outbox], [], { texts: async (texts: string[]) => void calls.push(texts) }, options(recordingLog(), { flushMs: 10_000 }));
    try {
      const row = toLedgerRow(sampleRecord('row-1'));
      const rowText = rowToText(row);
      outbox.append(rowText, row);
      // Rows as JSON objects, as outboxes written before the positional format hold them.
      const objectRowText = JSON.stringify(toLedgerRow(sampleRecord('object-row-1')));
      outbox.append(objectRowText);
      // An older version's outbox held whole records: shipped as the row they make.
      const record = sampleRecord('record-1');
      outbox.append(JSON.stringify(record));
      outbox.append('{"neither": true}');
      outbox.append('not json');
      await shipper.flush();
      assert.equal(calls.length, 1);
      const [shipped] = calls as [string[]];
      assert.equal(shipped.length, 3);
      // The rows' texts exactly as the outbox holds them.
      assert.equal(shipped[0], rowText);
      assert.equal(shipped[1], objectRowText);
      assert.ok((shipped[2] as string).startsWith('["r1",'));
      assert.deepEqual(rowFromText(shipped[2] as string), toLedgerRow(record));
      assert.equal(outbox.depth(), 0);
      assert.equal(outbox.rejectedCount(), 2);
    } finally {
      await shipper.close(100);
      outbox.close();
    }
  });

  it('a text sink refusing a batch as unreadable gets it again row by row, and only the culprit is set aside', async () => {
    const outbox = Outbox.open(':memory:', { hotCapacity: 0 });
    const store = await openRecordStore({ driver: 'sqlite', path: join(dir, 'texts.db') });
    const insertTexts = store.ledger.insertRowTexts;
    assert.ok(insertTexts, 'a file store takes row texts');
    const log = recordingLog();
    const shipper = new Shipper([outbox], [], { texts: (texts: string[]) => insertTexts(texts) }, options(log, { flushMs: 10_000 }));
    try {
      outbox.append(JSON.stringify(toLedgerRow(sampleRecord('good-1'))));
      // Starts like a row (so it is not parsed here) but is cut short: the writer thread refuses it.
      outbox.append('{"request_id":"cut-short","started_at_ms":17');
      // Set aside before the batch is sent, and not a second time when the batch is taken again.
      outbox.append('neither a row nor a record');
      outbox.append(JSON.stringify(toLedgerRow(sampleRecord('good-2'))));
      await shipper.flush();
      assert.equal(await store.ledger.countRequests(), 2);
      assert.equal(await store.ledger.countRequestId('good-2'), 1);
      assert.equal(outbox.depth(), 0);
      assert.equal(outbox.rejectedCount(), 2);
      assert.ok(log.lines.some((line) => line.level === 'error' && String(line.fields.reason).includes('not a ledger row')), JSON.stringify(log.lines));
    } finally {
      await shipper.close(100);
      outbox.close();
      await store.close();
    }
  });

  it('moves records to the store in batches of batch_size, one transaction each, and empties the outbox', async () => {
    const outbox = Outbox.open(':memory:');
    const store = fakeStore();
    const shipper = new Shipper([outbox], [], store.sink, options(recordingLog(), { flushMs: 10_000, batchSize: 40 }));
    try {
      for (let i = 0; i < 100; i += 1) {
        outbox.append(JSON.stringify(sampleRecord(`req-${i}`)));
        shipper.nudge();
      }
      await shipper.flush();
      assert.equal(store.stored.size, 100);
      assert.equal(outbox.depth(), 0);
      assert.ok(store.state.transactions.every((size) => size <= 40), `batches: ${store.state.transactions.join(',')}`);
      assert.equal(store.stored.get('req-7')?.team_name, 'search');
    } finally {
      await shipper.close(100);
      outbox.close();
    }
  });

  it('a full batch ships without waiting for the timer', async () => {
    const outbox = Outbox.open(':memory:');
    const store = fakeStore();
    const shipper = new Shipper([outbox], [], store.sink, options(recordingLog(), { flushMs: 60_000, batchSize: 10 }));
    try {
      for (let i = 0; i < 10; i += 1) {
        outbox.append(JSON.stringify(sampleRecord(`n-${i}`)));
        shipper.nudge();
      }
      await until(() => store.stored.size === 10);
    } finally {
      await shipper.close(100);
      outbox.close();
    }
  });

  it('keeps records while the store fails, warns once, backs off, and ships everything after recovery', async () => {
    const outbox = Outbox.open(':memory:');
    const store = fakeStore();
    const log = recordingLog();
    store.state.down = true;
    const shipper = new Shipper([outbox], [], store.sink, options(log));
    try {
      for (let i = 0; i < 120; i += 1) outbox.append(JSON.stringify(sampleRecord(`out-${i}`)));
      await until(() => store.state.calls >= 3);
      assert.equal(outbox.depth(), 120, 'nothing leaves the outbox while the store fails');
      assert.equal(store.stored.size, 0);
      const warnings = log.lines.filter((line) => line.level === 'warn');
      assert.equal(warnings.length, 1, 'one warning per outage');
      assert.match(warnings[0]?.message ?? '', /unreachable/);
      // Backoff: far fewer attempts than flush ticks over the same time.
      const callsBefore = store.state.calls;
      await new Promise((resolve) => setTimeout(resolve, 200));
      assert.ok(store.state.calls - callsBefore <= 6, `${store.state.calls - callsBefore} attempts in 200 ms with a 20 ms flush`);

      store.state.down = false;
      await until(() => outbox.depth() === 0);
      assert.equal(store.stored.size, 120);
      assert.equal(log.lines.filter((line) => line.level === 'info' && /reachable again/.test(line.message)).length, 1);
      assert.equal(log.lines.filter((line) => line.level === 'warn').length, 1);
    } finally {
      await shipper.close(100);
      outbox.close();
    }
  });

  it('records left in an outbox file by a previous process are replayed at start, once each in a real store', async () => {
    const path = join(dir, 'replay.db');
    const before = Outbox.open(path);
    for (let i = 0; i < 30; i += 1) before.append(JSON.stringify(sampleRecord(`old-${i}`)));
    before.close();
    const store = await openRecordStore({ driver: 'sqlite', path: ':memory:' });
    // Some of them already reached the store before the crash (shipped, not yet removed).
    await store.ledger.insertRequests(Array.from({ length: 10 }, (_, i) => toLedgerRow(sampleRecord(`old-${i}`))));
    const outbox = Outbox.open(path);
    const log = recordingLog();
    const shipper = new Shipper([outbox], [], (rows) => store.ledger.insertRequests(rows), options(log));
    try {
      await until(() => outbox.depth() === 0);
      assert.equal(await store.ledger.countRequests(), 30);
      for (const id of ['old-0', 'old-15', 'old-29']) assert.equal(await store.ledger.countRequestId(id), 1);
      assert.ok(log.lines.some((line) => /replaying/.test(line.message) && line.fields.waiting === 30));
    } finally {
      await shipper.close(100);
      outbox.close();
      await store.close();
    }
  });

  it('a record the store refuses for its content is set aside; the rest of its batch ships', async () => {
    const outbox = Outbox.open(':memory:');
    const store = fakeStore();
    const log = recordingLog();
    const picky = async (rows: LedgerRow[]) => {
      if (rows.some((row) => row.request_id === 'poison')) throw Object.assign(new Error('invalid byte sequence for encoding "UTF8"'), { code: '22021' });
      return store.sink(rows);
    };
    const shipper = new Shipper([outbox], [], picky, options(log, { flushMs: 10_000 }));
    try {
      for (const id of ['ok-1', 'poison', 'ok-2']) outbox.append(JSON.stringify(sampleRecord(id)));
      outbox.append('{not json');
      await shipper.flush();
      assert.deepEqual([...store.stored.keys()].sort(), ['ok-1', 'ok-2']);
      assert.equal(outbox.depth(), 0);
      assert.equal(outbox.rejectedCount(), 2);
      assert.equal(log.lines.filter((line) => line.level === 'error').length, 2);
    } finally {
      await shipper.close(100);
      outbox.close();
    }
  });

  it('close ships what waits, and gives up within its bound when the store hangs', async () => {
    const outbox = Outbox.open(':memory:');
    const store = fakeStore();
    const shipper = new Shipper([outbox], [], store.sink, options(recordingLog(), { flushMs: 60_000 }));
    for (let i = 0; i < 5; i += 1) outbox.append(JSON.stringify(sampleRecord(`c-${i}`)));
    assert.equal(await shipper.close(1_000), 0);
    assert.equal(store.stored.size, 5);

    const hanging = new Shipper([outbox], [], () => new Promise(() => undefined), options(recordingLog(), { flushMs: 60_000 }));
    outbox.append(JSON.stringify(sampleRecord('stuck')));
    const started = Date.now();
    assert.equal(await hanging.close(150), 1);
    assert.ok(Date.now() - started < 1_000);
    outbox.close();
  });

  it('tells data errors from outages', () => {
    assert.equal(isDataError({ code: '22021' }), true);
    assert.equal(isDataError({ code: '23502' }), true);
    assert.equal(isDataError({ code: 'SQLITE_CONSTRAINT_NOTNULL' }), true);
    assert.equal(isDataError({ code: 'ECONNREFUSED' }), false);
    assert.equal(isDataError({ code: '57P01' }), false);
    assert.equal(isDataError(new Error('timeout')), false);
  });
});
