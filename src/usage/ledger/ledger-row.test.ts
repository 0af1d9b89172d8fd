import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { RequestRecord } from '../../core/request-record.js';
import { ledgerRowFromOutbox, toLedgerRow } from './ledger-row.js';
import { sampleRecord } from './test-fixtures.js';

describe('ledger row mapping', () => {
  it('maps every field of a settled record to its column', () => {
    const record = sampleRecord('map-1', {
      startedAt: 1_700_000_000_123,
      customer: 'cus-1',
      conversationId: 'conv-1',
      templateId: 'tpl-1',
      templateVersion: '7',
      tags: ['a', 'b'],
      metadata: { env: 'prod' },
      limitActions: ['clamped:100'],
      stream: true,
      usage: { inputTokens: 40, outputTokens: 12, cachedInputTokens: 8, reasoningTokens: 3, cacheCreationTokens: 2, estimated: true },
      usageIncomplete: true,
      errorCode: 'BB_UPSTREAM_TIMEOUT',
      status: 504,
      ttftMs: 4.5,
      maxTokens: 100,
      finishReasons: ['length'],
      rejectedLimit: 'tokens_per_minute',
      trace: { traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7', sampled: true },
      guards: [{ guard: 'pii', entity: 'email', action: 'mask', where: 'input' }],
      attempts: [
        { target: 'a', provider: 'p', model: 'm', outcome: 'BB_UPSTREAM_OVERLOADED', durationMs: 3, upstreamStatus: 529 },
        { target: 'a', provider: 'p', model: 'm', outcome: 'ok', durationMs: 5, retry: 1 },
      ],
    });
    const row = toLedgerRow(record);
    assert.equal(row.request_id, 'map-1');
    assert.equal(row.started_at_ms, 1_700_000_000_123);
    assert.deepEqual(
      [row.key_source, row.key_id, row.key_prefix, row.key_name, row.team_name, row.plan, row.user_name, row.org_id],
      ['static-key', 'static:test', 'bb-test…', 'test', 'search', 'pro', null, null],
    );
    assert.deepEqual([row.customer, row.conversation_id, row.template_id, row.template_version], ['cus-1', 'conv-1', 'tpl-1', '7']);
    assert.deepEqual([row.tags, row.metadata, row.limit_actions], ['["a","b"]', '{"env":"prod"}', '["clamped:100"]']);
    assert.deepEqual(
      [row.input_tokens, row.output_tokens, row.cached_tokens, row.reasoning_tokens, row.cache_creation_tokens, row.usage_estimated, row.usage_incomplete, row.stream],
      [40, 12, 8, 3, 2, 1, 1, 1],
    );
    assert.deepEqual([row.status, row.error_code, row.ttft_ms, row.cost_usd], [504, 'BB_UPSTREAM_TIMEOUT', 4.5, 0.0001]);
    assert.deepEqual([row.max_tokens, row.finish_reasons, row.rejected_limit, row.trace_id], [100, '["length"]', 'tokens_per_minute', '4bf92f3577b34da6a3ce929d0e0e4736']);
    assert.deepEqual(JSON.parse(row.guards ?? ''), [{ guard: 'pii', entity: 'email', action: 'mask', where: 'input' }]);
    assert.equal(row.attempt_count, 2);
    assert.deepEqual(JSON.parse(row.attempts), [
      { target: 'a', provider: 'p', model: 'm', outcome: 'BB_UPSTREAM_OVERLOADED', duration_ms: 3, upstream_status: 529 },
      { target: 'a', provider: 'p', model: 'm', outcome: 'ok', duration_ms: 5, retry: 1 },
    ]);
    assert.deepEqual(JSON.parse(row.routing ?? ''), { group: 'demo', strategy: 'ordered', candidates: ['mock/mock-1'] });
    assert.equal(row.cache_hit, 0);
  });

  it('a record read back from an older outbox (fields missing) still maps; NUL characters are dropped', () => {
    const older = JSON.parse(JSON.stringify({ requestId: 'old-1', startedAt: 5, method: 'POST', path: '/v1/x', endpoint: 'chat', status: 200, customer: 'a\u0000b' })) as RequestRecord;
    const row = toLedgerRow(older);
    assert.equal(row.customer, 'ab');
    assert.deepEqual([row.tags, row.limit_actions, row.attempts, row.guards], ['[]', '[]', '[]', '[]']);
    assert.deepEqual([row.input_tokens, row.attempt_count, row.cost_usd, row.routing, row.metadata, row.total_ms], [0, 0, null, null, null, 0]);
  });
});

describe('ledger rows from outbox text', () => {
  it('reads the rows this version writes and the whole records older versions left behind, alike', () => {
    const record = sampleRecord('mixed-1', { templateId: 'tpl-a' });
    const fromRow = ledgerRowFromOutbox(JSON.stringify(toLedgerRow(record)));
    const fromRecord = ledgerRowFromOutbox(JSON.stringify(record));
    assert.deepEqual(fromRow, fromRecord);
    assert.equal(fromRow.request_id, 'mixed-1');
    assert.equal(fromRow.template_id, 'tpl-a');
  });

  it('refuses text that is neither (the shipper sets it aside)', () => {
    assert.throws(() => ledgerRowFromOutbox('{"hello":1}'), /neither|not a ledger row/);
    assert.throws(() => ledgerRowFromOutbox('not json'));
  });
});
