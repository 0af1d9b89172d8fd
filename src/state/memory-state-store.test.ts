import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, it } from 'node:test';
import { MemoryStateStore } from './memory/memory-state-store.js';
import { describeStateStoreContract } from './state-store.contract.js';

describeStateStoreContract('memory', async () => new MemoryStateStore());

describe('memory state store', () => {
  it('the sweep drops ended counters, lapsed reservations and old settle markers nobody touches', async () => {
    const store = new MemoryStateStore({ sweepIntervalMs: 50, settledMarkerMs: 100 });
    try {
      const inner = store as unknown as { counters: Map<string, unknown>; reservations: Map<string, unknown>; settled: Map<string, number> };
      const end = store.now() + 100;
      await store.reserve('r1', [{ key: 'k', limit: 5, amount: 1, expiresAtMs: end, kind: 'rate' }], 100);
      await store.settle('r2', [{ key: 'k2', amount: 1, expiresAtMs: end }]);
      assert.equal(store.hasReservation('r1'), true);
      assert.equal(inner.counters.size, 2);
      assert.equal(inner.settled.size, 1);
      await sleep(250);
      assert.equal(inner.counters.size, 0);
      assert.equal(inner.reservations.size, 0);
      assert.equal(inner.settled.size, 0);
      assert.equal(store.hasReservation('r1'), false);
    } finally {
      await store.close();
    }
  });

  it('now() is this machine clock', () => {
    const store = new MemoryStateStore();
    const before = Date.now();
    const now = store.now();
    assert.ok(now >= before && now <= Date.now());
    void store.close();
  });
});
