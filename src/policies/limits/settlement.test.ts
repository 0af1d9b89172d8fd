import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { SettleItem, StateStore } from '../../state/state-store.js';
import { MemoryStateStore } from '../../state/memory/memory-state-store.js';
import { ConversationMemory } from './ladder.js';
import { LIMIT_DEFS, type LimitField } from './limit-defs.js';
import type { PlannedItem } from './items.js';
import { Settlement } from './settlement.js';

const def = (field: LimitField) => LIMIT_DEFS.find((candidate) => candidate.field === field) ?? assert.fail(field);

function item(field: LimitField, key: string, expiresAtMs: number): PlannedItem {
  const limitDef = def(field);
  return { def: limitDef, label: "plan 'test'", windowEndMs: expiresAtMs, overrun: 'cut', reserve: { key, limit: 1_000_000, amount: 1, expiresAtMs, kind: limitDef.kind } };
}

/** A store stand-in that records settles, synchronous or not, and can fail. */
function recordingStore(options: { sync: boolean; fail?: boolean }) {
  const settled: Array<{ id: string; items: readonly SettleItem[] }> = [];
  const record = (id: string, items: readonly SettleItem[]) => {
    if (options.fail) throw new Error('store is down');
    settled.push({ id, items });
  };
  const store = new MemoryStateStore() as StateStore;
  const fake: StateStore = options.sync
    ? Object.assign(Object.create(store) as StateStore, { settleNow: record })
    : Object.assign(Object.create(store) as StateStore, { settleNow: undefined, settle: async (id: string, items: readonly SettleItem[]) => record(id, items) });
  return { store: fake, settled };
}

describe('limit settlement', () => {
  const items = [
    item('requests_per_minute', 'rpm:key:k1:100', 6_000),
    item('tokens_per_minute', 'tpm:key:k1:100', 6_000),
    item('spend_per_month_usd', 'usdmo:key:k1:7', 90_000),
    item('concurrent_requests', 'conc:key:k1', 3_000),
    item('conversation_output_tokens', 'conv:key:k1:chat-9', 50_000),
  ];
  const usage = { inputTokens: 30, outputTokens: 12 };

  it('books each counter its actual use, with its key and window end, once', () => {
    const { store, settled } = recordingStore({ sync: true });
    const conversations = new ConversationMemory(10);
    const settlement = new Settlement({ store, conversations, warn: () => assert.fail('no warning expected') }, 'req-1', items, 'key:k1:chat-9', () => 0.25);
    settlement.settle(usage, undefined);
    settlement.settle(usage, undefined);
    assert.equal(settled.length, 1, 'a second settle books nothing');
    assert.equal(settled[0]?.id, 'req-1');
    assert.deepEqual(settled[0]?.items, [
      { key: 'rpm:key:k1:100', amount: 1, expiresAtMs: 6_000 },
      { key: 'tpm:key:k1:100', amount: 42, expiresAtMs: 6_000 },
      { key: 'usdmo:key:k1:7', amount: 0.25, expiresAtMs: 90_000 },
      { key: 'conc:key:k1', amount: 0, expiresAtMs: 3_000 },
      { key: 'conv:key:k1:chat-9', amount: 12, expiresAtMs: 50_000 },
    ]);
    assert.equal(conversations.used('key:k1:chat-9'), 12, 'the ladder sees the answer at once, without a round trip');
  });

  it('without a conversation, nothing is remembered for one; no usage books zero tokens', () => {
    const { store, settled } = recordingStore({ sync: true });
    const conversations = new ConversationMemory(10);
    new Settlement({ store, conversations, warn: () => undefined }, 'req-2', items.slice(0, 2), undefined, () => 0).settle(undefined, undefined);
    assert.deepEqual(settled[0]?.items.map((entry) => entry.amount), [1, 0]);
    assert.equal(conversations.used('key:k1:chat-9'), 0);
  });

  it('a store that fails is reported as a warning naming the request, never thrown', async () => {
    for (const sync of [true, false]) {
      const warnings: string[] = [];
      const { store } = recordingStore({ sync, fail: true });
      new Settlement({ store, conversations: new ConversationMemory(10), warn: (message) => warnings.push(message) }, 'req-3', items, undefined, () => 0).settle(usage, undefined);
      await new Promise((resolve) => setImmediate(resolve));
      assert.deepEqual(warnings, ['could not settle limits for request req-3: store is down'], `sync ${sync}`);
    }
  });
});
