import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import OpenAI from 'openai';
import type { LedgerRow } from '../src/store/ledger-records.js';
import { startTestGateway, TEST_KEY, type TestGateway } from './helpers/gateway.js';

const dir = mkdtempSync(join(tmpdir(), 'bb-ledger-e2e-'));
const storePath = join(dir, 'records.db');

const YAML = `
store: { path: ${JSON.stringify(storePath)} }
auth:
  api_keys:
    - { name: test, key: ${TEST_KEY}, team: search, user: ada }
teams: { search: {} }
providers:
  down: { type: mock, failure: { status: 503 } }
  mock: { type: mock, reply: { mode: lorem, tokens: 12 } }
models:
  demo: { targets: [{ provider: mock, model: mock-1 }] }
  flaky: { targets: [{ provider: down, model: down-1 }, { provider: mock, model: mock-1 }] }
routing: { retries: { attempts: 0, max_retry_after_s: 0 } }
pricing: { overrides: { mock/mock-1: { input_per_mtok: 1, output_per_mtok: 2 } } }
ledger: { flush_ms: 50 }
`;

describe('ledger through the gateway', () => {
  let gateway: TestGateway;
  before(async () => {
    gateway = await startTestGateway(YAML);
  });
  after(async () => {
    await gateway?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function row(requestId: string): Promise<LedgerRow & { seq: number }> {
    await gateway.ledger.flush();
    const found = await gateway.store.ledger.getRequest(requestId);
    assert.ok(found, `no ledger row for ${requestId}`);
    // Never the key itself, anywhere in the row.
    assert.ok(!JSON.stringify(found).includes(TEST_KEY), 'the API key leaked into the ledger');
    return found;
  }

  it('a chat completion: principal by prefix, template, conversation, tags, customer, tokens, cost, attempt', async () => {
    const completion = await gateway.client.chat.completions.create(
      { model: 'demo', messages: [{ role: 'user', content: 'hello ledger' }], user: 'cus-7' },
      { headers: { 'x-request-id': 'ledger-chat-1', 'x-bb-template-id': 'tpl-greet', 'x-bb-template-version': '2', 'x-bb-conversation-id': 'conv-42', 'x-bb-tags': 'beta, eu' } },
    );
    const usage = completion.usage;
    assert.ok(usage);
    const stored = await row('ledger-chat-1');
    assert.ok(existsSync(join(dir, 'records.ledger-outbox.db')), 'the default outbox sits next to the store file');
    assert.equal(stored.endpoint, 'chat');
    assert.equal(stored.dialect, 'openai-chat');
    assert.equal(stored.method, 'POST');
    assert.equal(stored.path, '/v1/chat/completions');
    assert.equal(stored.status, 200);
    assert.equal(stored.error_code, null);
    assert.equal(stored.key_prefix, 'bb-test…');
    assert.equal(stored.key_name, 'test');
    assert.equal(stored.team_name, 'search');
    assert.equal(stored.user_name, 'ada');
    assert.equal(stored.customer, 'cus-7');
    assert.equal(stored.template_id, 'tpl-greet');
    assert.equal(stored.template_version, '2');
    assert.equal(stored.conversation_id, 'conv-42');
    assert.deepEqual(JSON.parse(stored.tags), ['beta', 'eu']);
    assert.equal(stored.requested_model, 'demo');
    assert.equal(stored.provider, 'mock');
    assert.equal(stored.served_model, 'mock-1');
    assert.equal(stored.stream, 0);
    assert.equal(stored.input_tokens, usage.prompt_tokens);
    assert.equal(stored.output_tokens, usage.completion_tokens);
    assert.equal(stored.usage_incomplete, 0);
    assert.ok(Math.abs((stored.cost_usd ?? -1) - (usage.prompt_tokens * 1 + usage.completion_tokens * 2) / 1e6) < 1e-12);
    assert.equal(stored.attempt_count, 1);
    const attempts = JSON.parse(stored.attempts) as Array<Record<string, unknown>>;
    assert.equal(attempts[0]?.outcome, 'ok');
    assert.equal(attempts[0]?.provider, 'mock');
    assert.equal(JSON.parse(stored.routing ?? '{}').group, 'demo');
    assert.deepEqual(JSON.parse(stored.access ?? '{}'), { decision: 'allow' });
    assert.deepEqual(JSON.parse(stored.limit_actions), []);
    assert.deepEqual(JSON.parse(stored.guards ?? 'null'), []);
    assert.ok(stored.total_ms > 0);
    assert.ok(stored.started_at_ms <= Date.now() && stored.started_at_ms > Date.now() - 60_000);
  });

  it('a fallback: both attempts and the routing trail are recorded', async () => {
    await gateway.client.chat.completions.create({ model: 'flaky', messages: [{ role: 'user', content: 'hi' }] }, { headers: { 'x-request-id': 'ledger-fallback-1' } });
    const stored = await row('ledger-fallback-1');
    assert.equal(stored.attempt_count, 2);
    const attempts = JSON.parse(stored.attempts) as Array<Record<string, unknown>>;
    assert.equal(attempts[0]?.provider, 'down');
    assert.notEqual(attempts[0]?.outcome, 'ok');
    assert.equal(attempts[0]?.upstream_status, 503);
    assert.equal(attempts[1]?.outcome, 'ok');
    assert.equal(typeof attempts[1]?.duration_ms, 'number');
    assert.deepEqual(JSON.parse(stored.routing ?? '{}').candidates.length, 2);
    assert.equal(stored.served_model, 'mock-1');
  });

  it('a stream: flagged, with time to first token and usage; template id from body metadata', async () => {
    const stream = await gateway.client.chat.completions.create(
      { model: 'demo', messages: [{ role: 'user', content: 'stream please' }], stream: true, stream_options: { include_usage: true }, metadata: { template_id: 'tpl-body', team_hint: 'x' } },
      { headers: { 'x-request-id': 'ledger-stream-1' } },
    );
    let outputTokens = 0;
    for await (const chunk of stream) if (chunk.usage) outputTokens = chunk.usage.completion_tokens;
    const stored = await row('ledger-stream-1');
    assert.equal(stored.stream, 1);
    assert.ok(stored.ttft_ms !== null && stored.ttft_ms >= 0);
    assert.equal(stored.output_tokens, outputTokens);
    assert.equal(stored.template_id, 'tpl-body');
    assert.equal(JSON.parse(stored.metadata ?? '{}').team_hint, 'x');
  });

  it('a refused request is recorded with its status and error code', async () => {
    await assert.rejects(
      gateway.client.chat.completions.create({ model: 'no-such-model', messages: [{ role: 'user', content: 'hi' }] }, { headers: { 'x-request-id': 'ledger-404-1' } }),
      (error: unknown) => error instanceof OpenAI.APIError && error.status === 404,
    );
    const stored = await row('ledger-404-1');
    assert.equal(stored.status, 404);
    assert.match(stored.error_code ?? '', /^BB_/);
    assert.equal(stored.attempt_count, 0);
    assert.equal(stored.cost_usd, null);
  });

  it('health probes are not recorded; every request is recorded once', async () => {
    const probe = await fetch(`${gateway.url}/healthz`, { headers: { 'x-request-id': 'ledger-probe-1' } });
    await probe.arrayBuffer();
    await gateway.ledger.flush();
    assert.equal(await gateway.store.ledger.countRequestId('ledger-probe-1'), 0);
    for (const id of ['ledger-chat-1', 'ledger-fallback-1', 'ledger-stream-1', 'ledger-404-1']) assert.equal(await gateway.store.ledger.countRequestId(id), 1);
    assert.equal(gateway.ledger.queueDepth(), 0);
  });
});
