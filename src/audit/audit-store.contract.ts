import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { GENESIS_HASH } from '../store/audit-chain.js';
import type { AuditEntryInput } from '../store/audit-records.js';
import type { RecordStore } from '../store/record-store.js';

/*
 * What every record store backend must show for the audit log: one hash chain, and every edit
 * or removal made behind the store's back found by verify. Each test gets a fresh database.
 */

/** A fresh store plus a way to run SQL behind its back (the tampering under test). */
export interface AuditHarness {
  store: RecordStore;
  /** Runs one SQL statement directly on the store's database. */
  raw(statement: string): Promise<void>;
  /** A second, independent handle on the same database (another gateway instance). */
  second?(): Promise<RecordStore>;
}

export function entry(index: number, extra: Partial<AuditEntryInput> = {}): AuditEntryInput {
  return {
    kind: index % 3 === 0 ? 'admin' : 'denial',
    actor: { key_id: `key_${index % 7}`, display_prefix: 'bb-abcd…', key_name: `ci-${index % 7}` },
    action: index % 3 === 0 ? 'keys.create' : 'access.deny',
    targetType: 'key',
    targetId: `key_${index}`,
    details: { n: index, nested: { b: [1, 'two', null], a: true } },
    ...extra,
  };
}

export function entries(from: number, count: number): AuditEntryInput[] {
  return Array.from({ length: count }, (_, offset) => entry(from + offset));
}

export function describeAuditStoreContract(name: string, open: () => Promise<AuditHarness>, cleanup?: () => Promise<void>): void {
  describe(`audit log on ${name}`, () => {
    if (cleanup) after(cleanup);

    async function withHarness(work: (harness: AuditHarness) => Promise<void>): Promise<void> {
      const harness = await open();
      try {
        await work(harness);
      } finally {
        await harness.store.close();
      }
    }

    it('appends a chain that verifies, with the head noted', () =>
      withHarness(async ({ store }) => {
        const empty = await store.audit.verify();
        assert.deepEqual(empty, { ok: true, checked: 0, headSeq: 0, headHash: GENESIS_HASH, problems: [], problemCount: 0 });
        const first = await store.audit.append(entries(1, 3));
        const second = await store.audit.append([entry(4, { targetType: undefined, targetId: undefined })]);
        const all = [...first, ...second];
        assert.deepEqual(all.map((e) => e.seq), [1, 2, 3, 4]);
        assert.equal(all[0]?.prevHash, GENESIS_HASH);
        for (let i = 1; i < all.length; i += 1) assert.equal(all[i]?.prevHash, all[i - 1]?.hash, `entry ${i + 1} links to entry ${i}`);
        assert.match(all[3]?.hash ?? '', /^[0-9a-f]{64}$/);
        assert.deepEqual(await store.audit.head(), { seq: 4, hash: all[3]?.hash });
        const result = await store.audit.verify();
        assert.deepEqual(result, { ok: true, checked: 4, headSeq: 4, headHash: all[3]?.hash, problems: [], problemCount: 0 });
        // What list returns is what append returned: the stored entries as hashed.
        const listed = await store.audit.list({}, { limit: 10, order: 'asc' });
        assert.deepEqual(listed.entries, all);
        assert.equal(listed.entries[3]?.targetId, null);
      }));

    it('lists newest first by default, with filters and a cursor', () =>
      withHarness(async ({ store }) => {
        await store.audit.append(entries(1, 9).map((input, index) => ({ ...input, atMs: 1_000 + index })));
        await store.audit.append([entry(10, { action: 'keys_x.create', kind: 'admin', atMs: 2_000 })]);
        const page1 = await store.audit.list({}, { limit: 4 });
        assert.deepEqual(page1.entries.map((e) => e.seq), [10, 9, 8, 7]);
        assert.equal(page1.nextCursor, 7);
        const page3 = await store.audit.list({}, { limit: 4, cursor: 3 });
        assert.deepEqual(page3.entries.map((e) => e.seq), [2, 1]);
        assert.equal(page3.nextCursor, undefined);
        const admin = await store.audit.list({ kind: 'admin' }, { limit: 100, order: 'asc' });
        assert.deepEqual(admin.entries.map((e) => e.seq), [3, 6, 9, 10]);
        const exact = await store.audit.list({ action: 'keys.create' }, { limit: 100 });
        assert.deepEqual(exact.entries.map((e) => e.seq), [9, 6, 3]);
        // `keys.*` is a prefix of the dotted name: `keys_x.create` does not match it.
        const prefix = await store.audit.list({ action: 'keys.*' }, { limit: 100 });
        assert.deepEqual(prefix.entries.map((e) => e.seq), [9, 6, 3]);
        const window = await store.audit.list({ since: 1_002, until: 1_005 }, { limit: 100, order: 'asc' });
        assert.deepEqual(window.entries.map((e) => e.seq), [3, 4, 5]);
      }));

    it('finds an entry edited in SQL as altered at its seq', () =>
      withHarness(async ({ store, raw }) => {
        await store.audit.append(entries(1, 5));
        await raw(`update audit_log set details = '{"n":999}' where seq = 3`);
        // The same value written differently (key order, spaces) is not a change of content.
        await raw(`update audit_log set details = '{"nested": {"b": [1, "two", null], "a": true}, "n": 5}' where seq = 5`);
        const result = await store.audit.verify();
        assert.equal(result.ok, false);
        assert.deepEqual(result.problems, [{ seq: 3, kind: 'altered' }]);
        assert.equal(result.checked, 5);
      }));

    it('finds an actor or kind rewritten, and text that is no longer JSON', () =>
      withHarness(async ({ store, raw }) => {
        await store.audit.append(entries(1, 4));
        await raw(`update audit_log set actor = '{"key_id":"someone-else"}' where seq = 1`);
        await raw(`update audit_log set kind = 'guardrail' where seq = 2`);
        await raw(`update audit_log set details = 'not json' where seq = 4`);
        const result = await store.audit.verify();
        assert.deepEqual(result.problems, [
          { seq: 1, kind: 'altered' },
          { seq: 2, kind: 'altered' },
          { seq: 4, kind: 'altered' },
        ]);
      }));

    it('finds a deleted middle entry as missing', () =>
      withHarness(async ({ store, raw }) => {
        await store.audit.append(entries(1, 6));
        await raw('delete from audit_log where seq in (3, 4)');
        const result = await store.audit.verify();
        assert.equal(result.ok, false);
        assert.deepEqual(result.problems, [{ seq: 3, kind: 'missing', lastSeq: 4 }]);
        assert.equal(result.checked, 4);
      }));

    it('finds a changed prev_hash as a broken link', () =>
      withHarness(async ({ store, raw }) => {
        const stored = await store.audit.append(entries(1, 4));
        await raw(`update audit_log set prev_hash = '${stored[0]?.prevHash}' where seq = 3`);
        const result = await store.audit.verify();
        assert.deepEqual(result.problems, [
          { seq: 3, kind: 'broken-link' },
          { seq: 3, kind: 'altered' },
        ]);
      }));

    it('finds removed newest entries through the head, and a rewound head only through a noted hash', () =>
      withHarness(async ({ store, raw }) => {
        const stored = await store.audit.append(entries(1, 5));
        const noted = stored[4]?.hash as string;
        assert.equal((await store.audit.verify({ expectHead: noted })).anchorSeq, 5);
        await raw('delete from audit_log where seq >= 4');
        const cut = await store.audit.verify();
        assert.deepEqual(cut.problems, [{ seq: 4, kind: 'missing', lastSeq: 5, note: 'the chain head records newer entries than the table holds' }]);
        // A careful tamperer rewinds the head too: the chain itself is then consistent...
        await raw(`update audit_head set seq = 3, hash = '${stored[2]?.hash}' where id = 1`);
        assert.equal((await store.audit.verify()).ok, true);
        // ...but the head noted earlier is gone from it.
        const anchored = await store.audit.verify({ expectHead: noted });
        assert.equal(anchored.ok, false);
        assert.equal(anchored.anchorSeq, null);
        assert.equal(anchored.problemCount, 0);
      }));

    it('verifies 20,000 entries page by page', { timeout: 120_000 }, () =>
      withHarness(async ({ store, raw }) => {
        for (let start = 1; start <= 20_000; start += 2_000) await store.audit.append(entries(start, 2_000));
        const result = await store.audit.verify({ pageSize: 777 });
        assert.equal(result.ok, true);
        assert.equal(result.checked, 20_000);
        assert.equal(result.headSeq, 20_000);
        // Problems across page boundaries are still seen (777 * 13 = 10101).
        await raw('update audit_log set at_ms = at_ms + 1 where seq in (777, 778, 10101, 19999)');
        await raw('delete from audit_log where seq = 15000');
        const tampered = await store.audit.verify({ pageSize: 777 });
        assert.deepEqual(tampered.problems, [
          { seq: 777, kind: 'altered' },
          { seq: 778, kind: 'altered' },
          { seq: 10101, kind: 'altered' },
          { seq: 15000, kind: 'missing' },
          { seq: 19999, kind: 'altered' },
        ]);
        assert.equal(tampered.checked, 19_999);
      }));

    it('keeps one chain when two handles append concurrently', { timeout: 60_000 }, async (t) => {
      const harness = await open();
      if (!harness.second) {
        await harness.store.close();
        t.skip('this backend tests concurrent writers in separate processes');
        return;
      }
      const other = await harness.second();
      try {
        const writes: Array<Promise<unknown>> = [];
        for (let round = 0; round < 20; round += 1) {
          writes.push(harness.store.audit.append(entries(round * 100, 5)));
          writes.push(other.audit.append(entries(round * 100 + 50, 3)));
        }
        await Promise.all(writes);
        const result = await other.audit.verify();
        assert.deepEqual(result.problems, []);
        assert.equal(result.checked, 20 * 8);
        assert.equal((await harness.store.audit.head()).seq, 160);
      } finally {
        await Promise.all([harness.store.close(), other.close()]);
      }
    });
  });
}
