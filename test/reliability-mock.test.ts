import assert from 'node:assert/strict';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { PassThrough } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import OpenAI from 'openai';
import { parseConfigText } from '../src/config/load.js';
import type { RequestRecord } from '../src/core/request-record.js';
import { startGateway } from '../src/gateway.js';
import { waitFor } from './helpers/wait.js';
import { startTestGateway, TEST_KEY, type TestGateway } from './helpers/gateway.js';

const CONFIG = `
providers:
  mock-a:
    type: mock
    reply: { mode: lorem, tokens: 20 }
    timeouts: { first_byte_ms: 300, idle_ms: 300, total_ms: 400 }
  mock-b:
    type: mock
    reply: { mode: fixed, text: served by b }
models:
  demo:
    targets:
      - { provider: mock-a, model: a-1 }
      - { provider: mock-b, model: b-1 }
  only-a:
    targets:
      - { provider: mock-a, model: a-1 }
`;

const messages = [{ role: 'user' as const, content: 'hello' }];

function recordsFor(requestId: string) {
  const records: RequestRecord[] = [];
  const onRecord = (message: unknown) => {
    if ((message as RequestRecord).requestId === requestId) records.push(message as RequestRecord);
  };
  subscribe('breakerbox:request:settled', onRecord);
  return { records, stop: () => unsubscribe('breakerbox:request:settled', onRecord) };
}

describe('failures, fallbacks and timeouts (mock provider)', () => {
  let gateway: TestGateway;
  before(async () => {
    gateway = await startTestGateway(CONFIG);
  });
  after(() => gateway.close());

  it('falls back to the next target on a retryable failure before anything was sent', async () => {
    const { data, response } = await gateway.client.chat.completions
      .create({ model: 'demo', messages }, { headers: { 'x-mock-behavior': 'status=503; provider=mock-a' } })
      .withResponse();
    assert.equal(data.choices[0]?.message.content, 'served by b');
    assert.equal(response.headers.get('x-breakerbox-provider'), 'mock-b');
    assert.equal(response.headers.get('x-breakerbox-attempts'), '2');
  });

  it('says how many targets were tried when all of them failed', async () => {
    const error = await gateway.client.chat.completions
      .create({ model: 'demo', messages }, { headers: { 'x-mock-behavior': 'status=503' } })
      .catch((e: unknown) => e);
    assert.ok(error instanceof OpenAI.APIError);
    assert.equal(error.status, 503);
    // Each target once, then each retried once (routing.retries.attempts defaults to 1).
    assert.equal(error.headers?.get('x-breakerbox-attempts'), '4');
  });

  it('does not fall back on a client error (400)', async () => {
    const error = await gateway.client.chat.completions
      .create({ model: 'demo', messages }, { headers: { 'x-mock-behavior': 'status=400; provider=mock-a' } })
      .catch((e: unknown) => e);
    assert.ok(error instanceof OpenAI.BadRequestError);
  });

  it('a non-streaming answer slower than total_ms is a 504', async () => {
    const error = await gateway.client.chat.completions
      .create({ model: 'only-a', messages }, { headers: { 'x-mock-behavior': 'ttft_ms=3000' } })
      .catch((e: unknown) => e);
    assert.ok(error instanceof OpenAI.APIError);
    assert.equal(error.status, 504);
    assert.match(error.message, /total timeout/);
  });

  it('a stream whose first token is later than first_byte_ms is a 504 before anything was sent', async () => {
    // Nothing reached the client yet, so the failure is an ordinary error reply (and could fall back).
    const error = await gateway.client.chat.completions
      .create({ model: 'only-a', messages, stream: true }, { headers: { 'x-mock-behavior': 'ttft_ms=3000' } })
      .catch((e: unknown) => e);
    assert.ok(error instanceof OpenAI.APIError);
    assert.equal(error.status, 504);
    assert.match(error.message, /first-byte timeout/);
  });

  it('a stream that stalls longer than idle_ms ends with a terminal error event after what was sent', async () => {
    const stream = await gateway.client.chat.completions.create(
      { model: 'only-a', messages, stream: true },
      { headers: { 'x-mock-behavior': 'stall_after=2' } },
    );
    let text = '';
    await assert.rejects(
      (async () => {
        for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
      })(),
      (error: unknown) => error instanceof OpenAI.APIError && /idle timeout/.test(error.message),
    );
    assert.equal(text, 'Lorem ipsum');
  });

  it('an upstream disconnect mid-stream is a terminal error, and the tokens sent are recorded', async () => {
    const watch = recordsFor('disconnect-1');
    try {
      const stream = await gateway.client.chat.completions.create(
        { model: 'only-a', messages, stream: true },
        { headers: { 'x-mock-behavior': 'disconnect_after=3; tokens_per_second=200', 'x-request-id': 'disconnect-1' } },
      );
      await assert.rejects(
        (async () => {
          for await (const _chunk of stream) {
            // read until the error
          }
        })(),
        (error: unknown) => error instanceof OpenAI.APIError && /dropped the connection/.test(error.message),
      );
      await waitFor(() => watch.records.length === 1);
    } finally {
      watch.stop();
    }
    assert.equal(watch.records[0]?.errorCode, 'BB_UPSTREAM_CONNECT');
    assert.equal(watch.records[0]?.usage?.outputTokens, 3);
    assert.equal(watch.records[0]?.usageIncomplete, true);
  });

  it('a client that goes away mid-stream is settled as BB_CLIENT_CLOSED', async () => {
    const watch = recordsFor('abort-1');
    try {
      const controller = new AbortController();
      const stream = await gateway.client.chat.completions.create(
        { model: 'demo', messages, stream: true },
        { headers: { 'x-mock-behavior': 'tokens_per_second=20', 'x-request-id': 'abort-1' }, signal: controller.signal },
      );
      let chunks = 0;
      // The SDK ends the iteration quietly when its own signal aborts it.
      await (async () => {
        for await (const _chunk of stream) {
          chunks += 1;
          if (chunks === 2) controller.abort();
        }
      })().catch(() => undefined);
      assert.equal(chunks, 2);
      await waitFor(() => watch.records.length === 1);
    } finally {
      watch.stop();
    }
    assert.equal(watch.records[0]?.errorCode, 'BB_CLIENT_CLOSED');
    assert.ok((watch.records[0]?.usage?.outputTokens ?? 0) < 20);
  });
});

describe('request logs', () => {
  it('writes one JSON line per request and never a key', async () => {
    const sink = new PassThrough();
    const lines: string[] = [];
    sink.on('data', (chunk: Buffer) => lines.push(...chunk.toString('utf8').split('\n').filter(Boolean)));
    const config = parseConfigText(
      `
server: { host: 127.0.0.1, port: 0 }
store: { path: ':memory:' }
auth: { api_keys: [{ name: logged, key: ${TEST_KEY} }] }
logging: { level: info }
providers: { mock: { type: mock } }
models: { demo: { targets: [{ provider: mock, model: m }] } }
`,
      'log-test.yaml',
    );
    const gateway = await startGateway(config, { logDestination: sink });
    try {
      const client = new OpenAI({ apiKey: TEST_KEY, baseURL: `${gateway.url}/v1`, maxRetries: 0 });
      await client.chat.completions.create({ model: 'demo', messages }, { headers: { 'x-request-id': 'log-1' } });
      await client.chat.completions.create({ model: 'missing', messages }, { headers: { 'x-request-id': 'log-2' } }).catch(() => undefined);
      await waitFor(() => lines.filter((line) => line.includes('"msg":"request"')).length === 2);
    } finally {
      await gateway.close();
    }
    const requests = lines.map((line) => JSON.parse(line) as Record<string, unknown>).filter((line) => line.msg === 'request');
    assert.deepEqual(
      requests.map((line) => [line.request_id, line.status, line.key]),
      [
        ['log-1', 200, 'logged'],
        ['log-2', 404, 'logged'],
      ],
    );
    assert.equal(requests[1]?.error_code, 'BB_MODEL_NOT_FOUND');
    for (const line of lines) assert.ok(!line.includes(TEST_KEY), 'a log line holds the key');
  });
});
