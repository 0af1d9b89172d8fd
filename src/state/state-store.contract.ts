import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, describe, it } from 'node:test';
import type { ReserveItem, StateStore } from './state-store.js';

/*
 * The behaviour every StateStore backend must show. Each test opens its own store and uses fresh
 * keys, so tests are independent (and a shared Redis prefix is fine).
 */

const HOUR = 3_600_000;

function fresh(name: string): string {
  return `${name}:${randomUUID()}`;
}

function item(store: StateStore, key: string, limit: number, amount: number, extra: Partial<ReserveItem> = {}): ReserveItem {
  return { key, limit, amount, expiresAtMs: store.now() + HOUR, kind: 'rate', ...extra };
}

/** Registers the shared contract suite for one backend; `cleanup` runs once after it. */
export function describeStateStoreContract(name: string, open: () => Promise<StateStore>, cleanup?: () => Promise<void>): void {
  describe(`state store contract: ${name}`, () => {
    const opened: StateStore[] = [];
    after(async () => {
      await Promise.all(opened.splice(0).map((store) => store.close()));
      await cleanup?.();
    });
    async function use(): Promise<StateStore> {
      const store = await open();
      opened.push(store);
      return store;
    }

    it('now() is a millisecond clock close to this machine', async () => {
      const store = await use();
      assert.ok(Math.abs(store.now() - Date.now()) < 1_000);
    });

    it('reserves within the limit and reports use after the reservation', async () => {
      const store = await use();
      const [a, b] = [fresh('a'), fresh('b')];
      assert.deepEqual(await store.reserve(fresh('r'), [item(store, a, 10, 3), item(store, b, 100, 40)], 60_000), { ok: true, used: [3, 40] });
      assert.deepEqual(await store.reserve(fresh('r'), [item(store, a, 10, 7)], 60_000), { ok: true, used: [10] });
      assert.deepEqual(await store.read([a, b]), [{ spent: 0, reserved: 10 }, { spent: 0, reserved: 40 }]);
    });

    it('over the limit: names the failing item and its use, and reserves nothing anywhere', async () => {
      const store = await use();
      const [a, b, c] = [fresh('a'), fresh('b'), fresh('c')];
      await store.reserve(fresh('r'), [item(store, b, 10, 8)], 60_000);
      const result = await store.reserve(fresh('r'), [item(store, a, 10, 1), item(store, b, 10, 3), item(store, c, 10, 1)], 60_000);
      assert.deepEqual(result, { ok: false, index: 1, used: 8 });
      assert.deepEqual(await store.read([a, b, c]), [
        { spent: 0, reserved: 0 },
        { spent: 0, reserved: 8 },
        { spent: 0, reserved: 0 },
      ]);
    });

    it('a limit of L admits exactly L of 5L concurrent reserves of 1', async () => {
      const store = await use();
      const key = fresh('rpm');
      const limit = 20;
      const results = await Promise.all(Array.from({ length: limit * 5 }, () => store.reserve(fresh('r'), [item(store, key, limit, 1)], 60_000)));
      assert.equal(results.filter((r) => r.ok).length, limit);
      assert.deepEqual(await store.read([key]), [{ spent: 0, reserved: limit }]);
    });

    it('settle replaces the reserved amount by the actual one', async () => {
      const store = await use();
      const [a, b] = [fresh('a'), fresh('b')];
      const id = fresh('r');
      await store.reserve(id, [item(store, a, 1000, 500), item(store, b, 5, 1)], 60_000);
      await store.settle(id, [
        { key: a, amount: 123, expiresAtMs: store.now() + HOUR },
        { key: b, amount: 0, expiresAtMs: store.now() + HOUR },
      ]);
      assert.deepEqual(await store.read([a, b]), [{ spent: 123, reserved: 0 }, { spent: 0, reserved: 0 }]);
    });

    it('a second settle of the same reservation is a no-op', async () => {
      const store = await use();
      const key = fresh('tpm');
      const id = fresh('r');
      await store.reserve(id, [item(store, key, 1000, 500)], 60_000);
      await store.reserve(fresh('r'), [item(store, key, 1000, 100)], 60_000);
      const actual = [{ key, amount: 200, expiresAtMs: store.now() + HOUR }];
      await store.settle(id, actual);
      await store.settle(id, actual);
      assert.deepEqual(await store.read([key]), [{ spent: 200, reserved: 100 }]);
    });

    it('settle with no reservation (or no items) still bills the actual amount once', async () => {
      const store = await use();
      const key = fresh('usd');
      const id = fresh('r');
      await store.settle(id, [{ key, amount: 2.5, expiresAtMs: store.now() + HOUR }]);
      await store.settle(id, [{ key, amount: 2.5, expiresAtMs: store.now() + HOUR }]);
      await store.settle(fresh('r'), []);
      assert.deepEqual(await store.read([key]), [{ spent: 2.5, reserved: 0 }]);
    });

    it('a reservation lapses after its TTL and frees its amount', async () => {
      const store = await use();
      const key = fresh('conc');
      assert.equal((await store.reserve(fresh('r'), [item(store, key, 1, 1)], 150)).ok, true);
      assert.equal((await store.reserve(fresh('r'), [item(store, key, 1, 1)], 150)).ok, false);
      await sleep(300);
      assert.deepEqual(await store.read([key]), [{ spent: 0, reserved: 0 }]);
      assert.deepEqual(await store.reserve(fresh('r'), [item(store, key, 1, 1)], 150), { ok: true, used: [1] });
    });

    it('settle after the reservation lapsed adds the actual amount and does not subtract twice', async () => {
      const store = await use();
      const key = fresh('tpm');
      const id = fresh('r');
      await store.reserve(id, [item(store, key, 100, 5)], 150);
      await store.reserve(fresh('r'), [item(store, key, 100, 3)], 60_000);
      await sleep(300);
      await store.settle(id, [{ key, amount: 4, expiresAtMs: store.now() + HOUR }]);
      assert.deepEqual(await store.read([key]), [{ spent: 4, reserved: 3 }]);
    });

    it('counters are forgotten once expiresAtMs has passed', async () => {
      const store = await use();
      const key = fresh('rps');
      const end = store.now() + 150;
      await store.reserve(fresh('r'), [{ key, limit: 5, amount: 2, expiresAtMs: end, kind: 'rate' }], 60_000);
      await store.settle(fresh('r'), [{ key, amount: 3, expiresAtMs: end }]);
      assert.deepEqual(await store.read([key]), [{ spent: 3, reserved: 2 }]);
      await sleep(300);
      assert.deepEqual(await store.read([key]), [{ spent: 0, reserved: 0 }]);
      assert.deepEqual(await store.reserve(fresh('r'), [item(store, key, 5, 5)], 60_000), { ok: true, used: [5] });
    });

    it('fractional amounts add up exactly: 20 x 0.05 fill a limit of 1 and a 21st is refused', async () => {
      const store = await use();
      const key = fresh('usd');
      const budget = (amount: number) => item(store, key, 1, amount, { kind: 'budget' });
      const results = await Promise.all(Array.from({ length: 25 }, () => store.reserve(fresh('r'), [budget(0.05)], 60_000)));
      assert.equal(results.filter((r) => r.ok).length, 20);
      assert.deepEqual(await store.read([key]), [{ spent: 0, reserved: 1 }]);
      const other = fresh('usd');
      for (let i = 0; i < 10; i += 1) await store.settle(fresh('r'), [{ key: other, amount: 0.1, expiresAtMs: store.now() + HOUR }]);
      assert.deepEqual(await store.read([other]), [{ spent: 1, reserved: 0 }]);
      assert.equal((await store.reserve(fresh('r'), [item(store, other, 1, 0.000001)], 60_000)).ok, false);
    });

    it('amount 0 checks the counter without adding to it (admits while spent + reserved <= limit)', async () => {
      const store = await use();
      const key = fresh('usd');
      await store.settle(fresh('r'), [{ key, amount: 10, expiresAtMs: store.now() + HOUR }]);
      assert.deepEqual(await store.reserve(fresh('r'), [item(store, key, 10, 0)], 60_000), { ok: true, used: [10] });
      assert.deepEqual(await store.reserve(fresh('r'), [item(store, key, 9.5, 0)], 60_000), { ok: false, index: 0, used: 10 });
      // A positive amount, however small, checks strictly below the limit.
      assert.equal((await store.reserve(fresh('r'), [item(store, key, 10, 1e-9)], 60_000)).ok, false);
      assert.deepEqual(await store.read([key, fresh('never')]), [{ spent: 10, reserved: 0 }, { spent: 0, reserved: 0 }]);
    });

    it('reading unknown keys gives zeros', async () => {
      const store = await use();
      assert.deepEqual(await store.read([fresh('x'), fresh('y')]), [{ spent: 0, reserved: 0 }, { spent: 0, reserved: 0 }]);
      assert.deepEqual(await store.read([]), []);
    });

    it('independent counters do not interfere', async () => {
      const store = await use();
      const [a, b] = [fresh('a'), fresh('b')];
      for (let i = 0; i < 3; i += 1) await store.reserve(fresh('r'), [item(store, a, 3, 1)], 60_000);
      assert.equal((await store.reserve(fresh('r'), [item(store, a, 3, 1)], 60_000)).ok, false);
      assert.deepEqual(await store.reserve(fresh('r'), [item(store, b, 3, 1)], 60_000), { ok: true, used: [1] });
      assert.deepEqual(await store.read([a, b]), [{ spent: 0, reserved: 3 }, { spent: 0, reserved: 1 }]);
    });

    it('many keys in one reserve: all or nothing', async () => {
      const store = await use();
      const keys = Array.from({ length: 60 }, (_, i) => fresh(`k${i}`));
      const id = fresh('r');
      const result = await store.reserve(id, keys.map((key, i) => item(store, key, 100, i + 1)), 60_000);
      assert.deepEqual(result, { ok: true, used: keys.map((_, i) => i + 1) });
      const refused = await store.reserve(fresh('r'), keys.map((key, i) => item(store, key, 100, i === 59 ? 50 : 1)), 60_000);
      assert.deepEqual(refused, { ok: false, index: 59, used: 60 });
      await store.settle(id, keys.map((key) => ({ key, amount: 1, expiresAtMs: store.now() + HOUR })));
      const counters = await store.read(keys);
      assert.ok(counters.every((u) => u.spent === 1 && u.reserved === 0));
    });

    it('the same key twice in one reserve counts both amounts against the limit', async () => {
      const store = await use();
      const key = fresh('dup');
      assert.deepEqual(await store.reserve(fresh('r'), [item(store, key, 5, 3), item(store, key, 5, 3)], 60_000), { ok: false, index: 1, used: 0 });
      const id = fresh('r');
      assert.deepEqual(await store.reserve(id, [item(store, key, 5, 2), item(store, key, 5, 3)], 60_000), { ok: true, used: [2, 5] });
      await store.settle(id, []);
      assert.deepEqual(await store.read([key]), [{ spent: 0, reserved: 0 }]);
    });

    it('a second reserve under the same id merges into it; one settle ends both', async () => {
      const store = await use();
      const [a, b] = [fresh('a'), fresh('b')];
      const id = fresh('r');
      await store.reserve(id, [item(store, a, 10, 2)], 60_000);
      await store.reserve(id, [item(store, a, 10, 3), item(store, b, 10, 1)], 60_000);
      assert.deepEqual(await store.read([a, b]), [{ spent: 0, reserved: 5 }, { spent: 0, reserved: 1 }]);
      await store.settle(id, [{ key: a, amount: 1, expiresAtMs: store.now() + HOUR }]);
      assert.deepEqual(await store.read([a, b]), [{ spent: 1, reserved: 0 }, { spent: 0, reserved: 0 }]);
    });

    it('rejects amounts that are not finite numbers >= 0 (a caller bug, not an outage)', async () => {
      const store = await use();
      const key = fresh('bad');
      await assert.rejects(store.reserve(fresh('r'), [item(store, key, 5, -1)], 60_000), RangeError);
      await assert.rejects(store.reserve(fresh('r'), [item(store, key, 5, Number.NaN)], 60_000), RangeError);
      await assert.rejects(store.settle(fresh('r'), [{ key, amount: Number.POSITIVE_INFINITY, expiresAtMs: store.now() + HOUR }]), RangeError);
      assert.deepEqual(await store.reserve(fresh('r'), [item(store, key, Number.POSITIVE_INFINITY, 1e9)], 60_000), { ok: true, used: [1e9] });
    });
  });
}
