import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { parseConfigText } from '../../config/load.js';
import type { LedgerRow } from '../../store/ledger-records.js';
import { ledgerRowFromOutbox, toLedgerRow } from './ledger-row.js';
import { discardOutbox, openOutboxes, resolveOutboxPath } from './outbox-files.js';
import { MemoryOutbox, Outbox, OutboxBusyError, outboxText, type OutboxEntry } from './outbox.js';
import { sampleRecord } from './test-fixtures.js';

const dir = mkdtempSync(join(tmpdir(), 'bb-outbox-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;
const freshPath = () => join(dir, `nested-${(files += 1)}`, 'outbox.db');

describe('ledger outbox', () => {
  it('appends, takes oldest first, removes up to a seq, and counts what waits', () => {
    const outbox = Outbox.open(':memory:');
    try {
      for (const id of ['a', 'b', 'c', 'd']) outbox.append(JSON.stringify({ requestId: id }));
      assert.equal(outbox.depth(), 4);
      const batch = outbox.take(3);
      assert.deepEqual(batch.map((entry) => JSON.parse(outboxText(entry)).requestId), ['a', 'b', 'c']);
      assert.deepEqual(outbox.take(3), batch, 'take does not remove');
      outbox.append(JSON.stringify({ requestId: 'e' }));
      outbox.remove((batch[2] as { seq: number }).seq);
      assert.equal(outbox.depth(), 2);
      assert.deepEqual(outbox.take(10).map((entry) => JSON.parse(outboxText(entry)).requestId), ['d', 'e']);
    } finally {
      outbox.close();
    }
  });

  it('a file keeps its records across close and reopen (folder created), also after a checkpoint', async () => {
    const path = freshPath();
    const first = Outbox.open(path);
    for (let i = 0; i < 5; i += 1) first.append(`{"requestId":"r${i}"}`);
    first.remove((first.take(2)[1] as { seq: number }).seq);
    await first.maintain(true);
    first.append('{"requestId":"r5"}');
    first.close();
    const second = Outbox.open(path);
    try {
      assert.equal(second.depth(), 4);
      assert.deepEqual(second.take(10).map((entry) => JSON.parse(outboxText(entry)).requestId), ['r2', 'r3', 'r4', 'r5']);
      // A new record's seq is above every waiting one, so removing a shipped batch never hits it.
      second.append('{"requestId":"r6"}');
      const seqs = second.take(10).map((entry) => entry.seq);
      assert.deepEqual(seqs, [...seqs].sort((a, b) => a - b));
    } finally {
      second.close();
    }
  });

  it('a checkpoint lets the WAL be reused from its start; below the write threshold maintain leaves it alone', async () => {
    const path = freshPath();
    const outbox = Outbox.open(path);
    const walBytes = () => statSync(`${path}-wal`).size;
    const appendAndShip = (count: number) => {
      for (let i = 0; i < count; i += 1) outbox.append(`{"requestId":"w${i}"}`);
      outbox.remove(Number.MAX_SAFE_INTEGER);
    };
    try {
      appendAndShip(200);
      const afterFirst = walBytes();
      // 201 writes: under the threshold, so no checkpoint, and the next writes grow the WAL.
      await outbox.maintain();
      appendAndShip(200);
      const afterSecond = walBytes();
      assert.ok(afterSecond > afterFirst * 1.5, `WAL ${afterFirst} -> ${afterSecond} bytes`);
      await outbox.maintain(true);
      appendAndShip(200);
      assert.ok(walBytes() <= afterSecond, `after a checkpoint the WAL is rewritten in place: ${walBytes()} > ${afterSecond} bytes`);
      assert.equal(outbox.depth(), 0);
    } finally {
      outbox.close();
    }
  });

  it('a checkpoint keeps the file locked: another process still cannot open it', async () => {
    const path = freshPath();
    const outbox = Outbox.open(path);
    // Another process opening the file: prints the error's name, or "opened".
    const otherProcessOpens = () =>
      execFileSync(
        process.execPath,
        ['--import', 'tsx', '--input-type=module', '-e', `const { Outbox } = await import(${JSON.stringify(new URL('./outbox.ts', import.meta.url).href)}); try { Outbox.open(${JSON.stringify(path)}).close(); process.stdout.write('opened'); } catch (error) { process.stdout.write(error.name); }`],
        { encoding: 'utf8' },
      );
    try {
      for (let i = 0; i < 10; i += 1) outbox.append(`{"requestId":"l${i}"}`);
      assert.equal(otherProcessOpens(), 'OutboxBusyError');
      await outbox.maintain(true);
      assert.equal(otherProcessOpens(), 'OutboxBusyError');
    } finally {
      outbox.close();
    }
  });

  it('a checkpoint under way when the outbox closes ends quietly, and the records stay in the file', async () => {
    const path = freshPath();
    const outbox = Outbox.open(path);
    for (let i = 0; i < 3; i += 1) outbox.append(`{"requestId":"c${i}"}`);
    const checkpoint = outbox.maintain(true);
    outbox.close();
    await checkpoint;
    const reopened = Outbox.open(path);
    try {
      assert.deepEqual(reopened.take(10).map((entry) => JSON.parse(outboxText(entry)).requestId), ['c0', 'c1', 'c2']);
    } finally {
      reopened.close();
    }
  });

  it('one file, one holder: a second open fails at once while the first is open', () => {
    const path = freshPath();
    const holder = Outbox.open(path);
    try {
      assert.throws(() => Outbox.open(path), (error: unknown) => error instanceof OutboxBusyError && error.message.includes(path));
    } finally {
      holder.close();
    }
    Outbox.open(path).close();
  });

  it('records the store refused are kept aside, not lost', () => {
    const outbox = Outbox.open(':memory:');
    try {
      outbox.append('{"requestId":"bad"}');
      const [entry] = outbox.take(1);
      assert.ok(entry);
      outbox.reject([entry], 'invalid byte sequence');
      outbox.remove(entry.seq);
      assert.equal(outbox.depth(), 0);
      assert.equal(outbox.rejectedCount(), 1);
    } finally {
      outbox.close();
    }
  });

  describe('rows appended by this process', () => {
    const row = (id: string): LedgerRow => toLedgerRow(sampleRecord(id));
    const appendRows = (outbox: Outbox, ids: string[]) => {
      const rows = ids.map(row);
      outbox.appendMany(rows.map((one) => JSON.stringify(one)), rows);
      return rows;
    };
    const ids = (entries: OutboxEntry[]) => entries.map((entry) => ledgerRowFromOutbox(outboxText(entry)).request_id);

    it('come back with their row objects, in order, with the seq the file gave them', () => {
      const outbox = Outbox.open(':memory:');
      try {
        const rows = appendRows(outbox, ['a', 'b', 'c']);
        const taken = outbox.take(2);
        assert.deepEqual(ids(taken), ['a', 'b']);
        assert.equal(taken[0]?.row, rows[0], 'the appended object itself, not a parse of its text');
        assert.deepEqual(JSON.parse(outboxText(taken[0] as OutboxEntry)), rows[0]);
        outbox.reject([taken[0] as OutboxEntry], 'refused by the store');
        assert.equal(outbox.rejectedCount(), 1, 'a row kept in memory is set aside as its text');
        outbox.remove((taken[1] as OutboxEntry).seq);
        assert.deepEqual(ids(outbox.take(5)), ['c']);
        assert.equal(outbox.depth(), 1);
      } finally {
        outbox.close();
      }
    });

    it('the text a row is kept as parses back to an equal row', () => {
      const one = toLedgerRow(sampleRecord('same', { metadata: { app: 'x' }, errorCode: 'BB_RATE_LIMITED', ttftMs: undefined }));
      assert.deepEqual(ledgerRowFromOutbox(JSON.stringify(one)), one);
    });

    it('records an earlier run left ship first, and a short batch of them is filled with new rows', () => {
      const path = freshPath();
      const first = Outbox.open(path);
      appendRows(first, ['old-1', 'old-2']);
      first.close();
      const second = Outbox.open(path);
      try {
        appendRows(second, ['new-1', 'new-2']);
        const batch = second.take(3);
        assert.deepEqual(ids(batch), ['old-1', 'old-2', 'new-1']);
        assert.deepEqual(batch.map((entry) => entry.row !== undefined), [false, false, true]);
        second.remove((batch[2] as OutboxEntry).seq);
        assert.deepEqual(ids(second.take(3)), ['new-2']);
      } finally {
        second.close();
      }
    });

    it('past the memory capacity (store down) reads the file: nothing lost, nothing twice', () => {
      const outbox = Outbox.open(':memory:', { hotCapacity: 3 });
      try {
        const all = Array.from({ length: 8 }, (_, i) => `r${i}`);
        for (const id of all) appendRows(outbox, [id]);
        outbox.append('{"request_id":"text-only"}');
        appendRows(outbox, ['r8']);
        const shipped: string[] = [];
        for (let batch = outbox.take(4); batch.length > 0; batch = outbox.take(4)) {
          shipped.push(...ids(batch));
          outbox.remove((batch[batch.length - 1] as OutboxEntry).seq);
        }
        assert.deepEqual(shipped, [...all, 'text-only', 'r8']);
        assert.equal(outbox.depth(), 0);
      } finally {
        outbox.close();
      }
    });
  });

  it('the memory fallback takes, removes and stops at its capacity', () => {
    const memory = new MemoryOutbox(2);
    memory.append('1');
    memory.append('2');
    memory.append('3');
    assert.equal(memory.depth(), 2);
    assert.equal(memory.dropped, 1);
    memory.remove((memory.take(1)[0] as { seq: number }).seq);
    assert.deepEqual(memory.take(5).map((entry) => entry.record), ['2']);
  });
});

describe('outbox files', () => {
  const config = (yaml: string) => parseConfigText(`auth: { disabled: true }\nproviders: {}\nmodels: {}\n${yaml}`, 'test.yaml');

  it('the default path follows the record store', () => {
    assert.equal(resolveOutboxPath(config("store: { path: ':memory:' }")), ':memory:');
    assert.equal(resolveOutboxPath(config('store: { path: data/breakerbox.db }')), join('data', 'breakerbox.ledger-outbox.db'));
    assert.equal(resolveOutboxPath(config('store: { path: /srv/bb/records }')), '/srv/bb/records.ledger-outbox.db');
    assert.equal(resolveOutboxPath(config('store: { driver: postgres, url: postgres://db/x }')), join('data', 'ledger-outbox.db'));
    assert.equal(resolveOutboxPath(config('store: { driver: postgres, url: postgres://db/x, schema: tenant_a }')), join('data', 'ledger-outbox-tenant_a.db'));
    assert.equal(resolveOutboxPath(config('store: { path: data/x.db }\nledger: { outbox_path: /var/lib/bb/outbox.db }')), '/var/lib/bb/outbox.db');
  });

  it('a held default file falls back to one of this process; a configured one fails; dead fallbacks are adopted and deleted', () => {
    const path = freshPath();
    const first = openOutboxes(path, false);
    const second = openOutboxes(path, false);
    try {
      assert.equal(first.own.path, path);
      assert.equal(second.busyPath, path);
      assert.match(second.own.path, new RegExp(`^${path.replace(/[.\\/]/g, '\\$&')}\\.${process.pid}-\\d+$`));
      assert.throws(() => openOutboxes(path, true), OutboxBusyError);
      second.own.append('{"requestId":"orphan"}');
    } finally {
      // The fallback's holder "dies" with a record in it; the main file stays held.
      second.own.close();
    }
    const third = openOutboxes(path, false);
    try {
      assert.equal(third.adopted.length, 1);
      const orphan = third.adopted[0] as Outbox;
      assert.equal(orphan.path, second.own.path);
      assert.deepEqual(orphan.take(5).map((entry) => JSON.parse(outboxText(entry)).requestId), ['orphan']);
      discardOutbox(orphan);
      assert.equal(existsSync(second.own.path), false);
      assert.equal(existsSync(`${second.own.path}-wal`), false);
    } finally {
      third.own.close();
      first.own.close();
    }
  });
});
