import assert from 'node:assert/strict';
import { describe } from 'node:test';
import type { LedgerRow } from './ledger-records.js';
import type { RecordStore } from './record-store.js';

/*
 * The ledger part of the RecordStore contract (src/store/record-store.contract.ts runs it for
 * every backend): idempotent inserts by request id, ingestion order, retention.
 */

/** A full row; every column set, so a round trip checks each one. */
export function ledgerRow(requestId: string, extra: Partial<LedgerRow> = {}): LedgerRow {
  return {
    request_id: requestId,
    started_at_ms: 1_700_000_000_123,
    endpoint: 'chat',
    dialect: 'openai-chat',
    method: 'POST',
    path: '/v1/chat/completions',
    status: 200,
    error_code: null,
    key_source: 'virtual-key',
    key_id: 'key_1',
    key_prefix: 'bb-live-ab12…',
    key_name: 'search key',
    user_name: 'ada',
    team_name: 'search',
    org_id: 'org_1',
    plan: 'pro',
    customer: 'cus_9',
    requested_model: 'demo',
    provider: 'mock',
    served_model: 'mock-1',
    template_id: 'tpl-greet',
    template_version: '3',
    conversation_id: 'conv-1',
    tags: '["a","b"]',
    metadata: '{"env":"test"}',
    stream: 1,
    input_tokens: 40,
    output_tokens: 12,
    cached_tokens: 8,
    reasoning_tokens: 3,
    cache_creation_tokens: 2,
    usage_estimated: 0,
    usage_incomplete: 0,
    cost_usd: 0.000_123_45,
    total_ms: 12.5,
    ttft_ms: 4.25,
    upstream_ms: 10.125,
    overhead_ms: 2.375,
    attempt_count: 2,
    attempts: '[{"target":"a","outcome":"BB_UPSTREAM_OVERLOADED"},{"target":"b","outcome":"ok"}]',
    routing: '{"group":"demo","strategy":"ordered","candidates":["a","b"]}',
    access: '{"decision":"allow"}',
    limit_actions: '["clamped:100"]',
    guards: '[{"guard":"pii","entity":"email","action":"mask","where":"input"}]',
    rejected_limit: null,
    max_tokens: 256,
    finish_reasons: '["stop"]',
    trace_id: '4bf92f3577b34da6a3ce929d0e0e4736',
    request_body: 'user: write to [EMAIL]',
    response_body: 'Done.',
    cache_hit: 0,
    ...extra,
  };
}

type StoreTest = (title: string, body: (store: RecordStore) => Promise<void>) => void;

export function describeLedgerContract(test: StoreTest): void {
  describe('ledger', () => {
    test('a row round-trips every column; seq is assigned', async (store) => {
      const row = ledgerRow('req-1');
      assert.equal(await store.ledger.insertRequests([row]), 1);
      const stored = await store.ledger.getRequest('req-1');
      assert.ok(stored);
      const { seq, ...columns } = stored;
      assert.ok(Number.isInteger(seq) && seq > 0);
      assert.deepEqual(columns, row);
      const nulls = ledgerRow('req-2', { dialect: null, cost_usd: null, ttft_ms: null, metadata: null, routing: null, access: null, customer: null });
      await store.ledger.insertRequests([nulls]);
      assert.deepEqual({ ...(await store.ledger.getRequest('req-2')), seq: 0 }, { ...nulls, seq: 0 });
      assert.equal(await store.ledger.getRequest('missing'), undefined);
      // A writer that does not know the guards column yet gets its default.
      const { guards: _guards, rejected_limit: _limit, max_tokens: _max, finish_reasons: _finish, trace_id: _trace, request_body: _request, response_body: _response, ...older } = ledgerRow('req-3');
      await store.ledger.insertRequests([older]);
      const defaults = await store.ledger.getRequest('req-3');
      assert.equal(defaults?.guards, '[]');
      assert.deepEqual([defaults?.rejected_limit, defaults?.max_tokens, defaults?.finish_reasons, defaults?.trace_id, defaults?.request_body, defaults?.response_body], [null, null, null, null, null, null]);
    });

    test('inserts are idempotent by request id, in one batch and across batches; a late replay gets a higher seq', async (store) => {
      assert.equal(await store.ledger.insertRequests([ledgerRow('a'), ledgerRow('b'), ledgerRow('a', { status: 500 })]), 2);
      assert.equal(await store.ledger.insertRequests([ledgerRow('b'), ledgerRow('c')]), 1);
      assert.equal(await store.ledger.countRequests(), 3);
      for (const id of ['a', 'b', 'c']) assert.equal(await store.ledger.countRequestId(id), 1);
      // The first write wins: a replay never rewrites a row.
      assert.equal((await store.ledger.getRequest('a'))?.status, 200);
      const seqA = (await store.ledger.getRequest('a'))?.seq ?? 0;
      const seqC = (await store.ledger.getRequest('c'))?.seq ?? 0;
      assert.ok(seqC > seqA, 'ingestion order');
      assert.equal(await store.ledger.insertRequests([]), 0);
    });

    test('a batch larger than one statement is written whole; ledger writes leave the revision alone', async (store) => {
      const revision = await store.revision();
      const rows = Array.from({ length: 450 }, (_, i) => ledgerRow(`bulk-${i}`, { started_at_ms: 1_700_000_000_000 + i }));
      assert.equal(await store.ledger.insertRequests(rows), 450);
      assert.equal(await store.ledger.countRequests(), 450);
      assert.equal(await store.revision(), revision);
    });

    test('deleteOlderThan removes rows that started before the cutoff, only those', async (store) => {
      const base = 1_700_000_000_000;
      await store.ledger.insertRequests(Array.from({ length: 30 }, (_, i) => ledgerRow(`r-${i}`, { started_at_ms: base + i * 1000 })));
      assert.equal(await store.ledger.deleteOlderThan(base + 10_000), 10);
      assert.equal(await store.ledger.countRequests(), 20);
      assert.equal(await store.ledger.countRequestId('r-9'), 0);
      assert.equal(await store.ledger.countRequestId('r-10'), 1);
      assert.equal(await store.ledger.deleteOlderThan(base), 0);
    });

    test('clearBodiesOlderThan clears prompt and answer text of older rows and keeps the rows', async (store) => {
      const base = 1_700_000_000_000;
      await store.ledger.insertRequests([
        ledgerRow('old', { started_at_ms: base }),
        ledgerRow('new', { started_at_ms: base + 5000 }),
        ledgerRow('none', { started_at_ms: base, request_body: null, response_body: null }),
      ]);
      assert.equal(await store.ledger.clearBodiesOlderThan(base + 1000), 1);
      assert.equal(await store.ledger.countRequests(), 3);
      assert.equal(await store.ledger.clearBodiesOlderThan(base + 1000), 0, 'already cleared');
      const [old, recent] = [await store.ledger.getRequest('old'), await store.ledger.getRequest('new')];
      assert.deepEqual([old?.request_body, old?.response_body], [null, null]);
      assert.equal(recent?.response_body, 'Done.');
    });
  });
}
