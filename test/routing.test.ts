import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import OpenAI from 'openai';
import { request } from 'undici';
import { startFakeOpenAI, type FakeOpenAI } from './fakes/openai-upstream.js';
import { startTestGateway, TEST_KEY, type TestGateway } from './helpers/gateway.js';
import { recordRequests } from './helpers/records.js';

const user = (content: string) => [{ role: 'user' as const, content }];
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface TargetReport {
  target: string;
  state: string;
}

async function breakerState(gateway: TestGateway, target: string): Promise<string | undefined> {
  const response = await request(`${gateway.url}/readyz`);
  const body = (await response.body.json()) as { targets: TargetReport[] };
  return body.targets.find((entry) => entry.target === target)?.state;
}

describe('examples/routing.yaml', () => {
  let gateway: TestGateway;
  before(async () => {
    const yaml = (await readFile(new URL('../examples/routing.yaml', import.meta.url), 'utf8')).replace(/port: 8080/, 'port: 0');
    gateway = await startTestGateway(`${yaml}\nlogging: { level: silent }\nstore: { path: ':memory:' }`);
    gateway.client = new OpenAI({ apiKey: 'bb-quickstart-key', baseURL: `${gateway.url}/v1`, maxRetries: 0 });
  });
  after(() => gateway.close());

  it('sends a short summary to cheap-model and legal drafting to strong-model, and says which rule decided', async () => {
    const cases = [
      { prompt: 'Please summarize this article about honey bees in three bullet points.', model: 'cheap-model', rule: 'short-summaries' },
      { prompt: 'Draft an indemnification clause for our vendor contract.', model: 'strong-model', rule: 'legal-drafting' },
      { prompt: 'What is the capital of France?', model: 'strong-model', rule: null },
    ];
    for (const { prompt, model, rule } of cases) {
      const { data, response } = await gateway.client.chat.completions.create({ model: 'smart', messages: user(prompt) }).withResponse();
      assert.equal(data.model, model, prompt);
      assert.equal(response.headers.get('x-breakerbox-model'), model);
      assert.equal(response.headers.get('x-breakerbox-rule'), rule);
    }
  });

  it('a long text that asks for a summary is no longer a short summary', async () => {
    const long = `Summarize this: ${'the quick brown fox jumps over the lazy dog '.repeat(250)}`;
    const data = await gateway.client.chat.completions.create({ model: 'smart', messages: user(long) });
    assert.equal(data.model, 'strong-model');
  });

  it('serves every request to `resilient` from backup-model, skipping the primary once its breaker opens', async () => {
    const attempts: string[] = [];
    for (let i = 0; i < 10; i += 1) {
      const { data, response } = await gateway.client.chat.completions.create({ model: 'resilient', messages: user('hi') }).withResponse();
      assert.equal(data.model, 'backup-model');
      attempts.push(response.headers.get('x-breakerbox-attempts') ?? '');
    }
    assert.ok(Number(attempts[0]) >= 2, 'the first request tried the primary first');
    assert.equal(attempts.at(-1), '1', 'with the breaker open the fallback serves at once');
    assert.equal(await breakerState(gateway, 'broken/primary-model'), 'open');
  });
});

describe('retries, Retry-After, retry budget, circuit breakers', () => {
  let upstream: FakeOpenAI;
  let gateway: TestGateway;
  before(async () => {
    upstream = await startFakeOpenAI();
    gateway = await startTestGateway(
      `
providers:
  fake: { type: openai, api_key: '\${env:FAKE_KEY}', base_url: ${upstream.url} }
  mock: { type: mock, reply: { mode: fixed, text: served by mock } }
models:
  pair:
    targets:
      - { provider: fake, model: fake-model }
      - { provider: mock, model: mock-model }
  flaky-pair:
    targets:
      - { provider: fake, model: flaky-model }
      - { provider: mock, model: mock-model }
  strict-pair:
    targets:
      - { provider: fake, model: strict-model }
      - { provider: mock, model: mock-model }
  lonely:
    targets: [{ provider: fake, model: lonely-model }]
routing:
  retries: { attempts: 1, backoff_ms: 5, max_backoff_ms: 20 }
  breaker: { consecutive_failures: 5, eject_ms: 400, max_eject_ms: 2000 }
`,
      { FAKE_KEY: upstream.apiKey },
    );
  });
  after(async () => {
    await gateway.close();
    await upstream.close();
  });

  it('429 with Retry-After: 2: the target gets nothing for 2 s while the other target serves', async () => {
    upstream.clear();
    upstream.setBehavior('error=rate_limit retry_after=2');
    try {
      const started = Date.now();
      while (Date.now() - started < 2600) {
        const data = await gateway.client.chat.completions.create({ model: 'pair', messages: user('hello') });
        assert.equal(data.choices[0]?.message.content, 'served by mock');
        await sleep(50);
      }
      const hits = upstream.requests.map((entry) => entry.receivedAt);
      assert.ok(hits.length >= 2, `the target was tried again after its pause (hits: ${hits.length})`);
      assert.ok(hits.length <= 3, `no more than once per pause (hits: ${hits.length})`);
      for (let i = 1; i < hits.length; i += 1) assert.ok((hits[i] as number) - (hits[i - 1] as number) >= 1990, 'never sooner than Retry-After');
    } finally {
      upstream.setBehavior(undefined);
    }
  });

  it('an upstream failing every request sees at most about 1.2x the client requests', async () => {
    upstream.clear();
    upstream.setBehavior('error=server_error');
    try {
      const clientRequests = 150;
      for (let i = 0; i < clientRequests; i += 10) {
        const batch = Array.from({ length: 10 }, () => gateway.client.chat.completions.create({ model: 'lonely', messages: user('hi') }).then(
          () => 'ok',
          (error: unknown) => (error instanceof OpenAI.APIError ? error.status : 'other'),
        ));
        for (const outcome of await Promise.all(batch)) assert.equal(outcome, 503);
      }
      const ratio = upstream.requests.length / clientRequests;
      assert.ok(ratio >= 1 && ratio <= 1.2, `upstream requests per client request: ${ratio}`);
    } finally {
      upstream.setBehavior(undefined);
    }
  });

  it('5 consecutive 5xx open the breaker; the other target serves at once; a half-open probe closes it again', async () => {
    upstream.clear();
    upstream.setBehavior('error=server_error');
    try {
      for (let i = 0; i < 5; i += 1) {
        const { data, response } = await gateway.client.chat.completions.create({ model: 'flaky-pair', messages: user('hi') }).withResponse();
        // The other target answers before a retry of the failed one would be due.
        assert.equal(response.headers.get('x-breakerbox-attempts'), '2');
        assert.equal(data.model, 'mock-model');
        if (i < 4) assert.equal(await breakerState(gateway, 'fake/flaky-model'), 'closed');
      }
      assert.equal(await breakerState(gateway, 'fake/flaky-model'), 'open');
      const before = upstream.requests.length;
      const { data, response } = await gateway.client.chat.completions.create({ model: 'flaky-pair', messages: user('hi') }).withResponse();
      assert.equal(data.model, 'mock-model');
      assert.equal(response.headers.get('x-breakerbox-attempts'), '1');
      assert.equal(upstream.requests.length, before, 'an open breaker sends nothing upstream');
    } finally {
      upstream.setBehavior(undefined);
    }
    await sleep(450);
    const { data } = await gateway.client.chat.completions.create({ model: 'flaky-pair', messages: user('hi') }).withResponse();
    assert.equal(data.model, 'flaky-model', 'the half-open probe went to the recovered target');
    assert.equal(await breakerState(gateway, 'fake/flaky-model'), 'closed');
  });

  for (const [kind, status] of [['invalid_param', 400], ['invalid_api_key', 502], ['content_filter', 400]] as const) {
    it(`${kind}: no retry and no fallback`, async () => {
      upstream.clear();
      const error = await gateway.client.chat.completions.create({ model: 'strict-pair', messages: user(`[fake error=${kind}]`) }).catch((e: unknown) => e);
      assert.ok(error instanceof OpenAI.APIError);
      assert.equal(error.status, status);
      assert.equal(error.headers?.get('x-breakerbox-attempts'), '1');
      assert.equal(upstream.requests.length, 1);
    });
  }
});

describe('fallbacks by error class, context windows, degrade modes, the recorded trail', () => {
  let upstream: FakeOpenAI;
  let gateway: TestGateway;
  before(async () => {
    upstream = await startFakeOpenAI();
    gateway = await startTestGateway(
      `
auth:
  api_keys:
    - { name: free, key: bb-free-key-0123456789, plan: free }
    - { name: paid, key: ${TEST_KEY}, plan: paid }
plans:
  free: { fallback_to: same-or-cheaper }
  paid: {}
providers:
  fake: { type: openai, api_key: '\${env:FAKE_KEY}', base_url: ${upstream.url} }
  mock: { type: mock, reply: { mode: lorem, tokens: 12 } }
pricing:
  overrides:
    fake/small-model: { input_per_mtok: 0.1, output_per_mtok: 0.4 }
    mock/big-model: { input_per_mtok: 3, output_per_mtok: 15 }
    mock/tiny-model: { input_per_mtok: 0.1, output_per_mtok: 0.4 }
models:
  small:
    targets: [{ provider: fake, model: small-model, context_window: 8000 }]
    fallbacks: [{ model: big }]
  big:
    targets: [{ provider: mock, model: big-model, context_window: 200000 }]
  sized:
    targets:
      - { provider: mock, model: tiny-model, context_window: 300 }
      - { provider: mock, model: big-model, context_window: 200000 }
  filtered:
    targets: [{ provider: fake, model: small-model }]
    fallbacks: [{ model: big, on: [content_filter] }]
`,
      { FAKE_KEY: upstream.apiKey },
    );
  });
  after(async () => {
    await gateway.close();
    await upstream.close();
  });

  it('context_length_exceeded falls back to the larger-context model', async () => {
    const { data, response } = await gateway.client.chat.completions.create({ model: 'small', messages: user('[fake error=context_length]') }).withResponse();
    assert.equal(data.model, 'big-model');
    assert.equal(response.headers.get('x-breakerbox-attempts'), '2');
  });

  it('skips a target whose context window is smaller than the estimated prompt', async () => {
    const short = await gateway.client.chat.completions.create({ model: 'sized', messages: user('hello') });
    assert.equal(short.model, 'tiny-model');
    const long = await gateway.client.chat.completions.create({ model: 'sized', messages: user('word '.repeat(600)) });
    assert.equal(long.model, 'big-model');
  });

  it('a fallback that names content_filter takes a filtered prompt', async () => {
    const data = await gateway.client.chat.completions.create({ model: 'filtered', messages: user('[fake error=content_filter]') });
    assert.equal(data.model, 'big-model');
  });

  it('the free plan (same-or-cheaper) never falls back to a costlier model; paid does', async () => {
    const free = new OpenAI({ apiKey: 'bb-free-key-0123456789', baseURL: `${gateway.url}/v1`, maxRetries: 0 });
    const error = await free.chat.completions.create({ model: 'small', messages: user('[fake error=server_error]') }).catch((e: unknown) => e);
    assert.ok(error instanceof OpenAI.APIError);
    assert.equal(error.status, 503);
    const paid = await gateway.client.chat.completions.create({ model: 'small', messages: user('[fake error=server_error]') });
    assert.equal(paid.model, 'big-model');
  });

  it('records the routing trail: group, candidates, and every attempt with its outcome', async () => {
    const { records, stop } = recordRequests();
    try {
      const { response } = await gateway.client.chat.completions.create({ model: 'small', messages: user('[fake error=context_length]') }).withResponse();
      const id = response.headers.get('x-request-id');
      const record = records.find((entry) => entry.requestId === id);
      assert.ok(record);
      assert.deepEqual(record.routing, { group: 'small', strategy: 'priority', candidates: ['fake/small-model'] });
      assert.deepEqual(
        record.attempts.map((attempt) => [attempt.target, attempt.outcome, attempt.upstreamStatus]),
        [
          ['fake/small-model', 'BB_CONTEXT_LENGTH_EXCEEDED', 400],
          ['mock/big-model', 'ok', undefined],
        ],
      );
    } finally {
      stop();
    }
  });
});

describe('streams and fallbacks', () => {
  let gateway: TestGateway;
  before(async () => {
    gateway = await startTestGateway(`
providers:
  mock-a: { type: mock, reply: { mode: lorem, tokens: 30 } }
  mock-b: { type: mock, reply: { mode: fixed, text: served by b } }
models:
  demo:
    targets:
      - { provider: mock-a, model: a-1 }
      - { provider: mock-b, model: b-1 }
`);
  });
  after(() => gateway.close());

  it('an upstream dying mid-stream ends the stream with a terminal error: no fallback, no repeated text, usage incomplete', async () => {
    const { records, stop } = recordRequests();
    try {
      const full = await gateway.client.chat.completions.create({ model: 'demo', messages: user('hi') }, { headers: { 'x-mock-behavior': 'provider=mock-b; status=500' } });
      const fullText = full.choices[0]?.message.content ?? '';
      const stream = await gateway.client.chat.completions.create({ model: 'demo', messages: user('hi'), stream: true }, { headers: { 'x-mock-behavior': 'provider=mock-a; disconnect_after=8' } });
      let text = '';
      const error = await (async () => {
        for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
      })().catch((e: unknown) => e);
      assert.ok(error instanceof OpenAI.APIError, 'a terminal error event');
      assert.ok(text.length > 0 && fullText.startsWith(text), 'what arrived is a prefix of the answer, nothing repeated');
      assert.doesNotMatch(text, /served by b/);
      await sleep(50);
      const record = records.find((entry) => entry.stream && entry.requestedModel === 'demo');
      assert.ok(record);
      assert.equal(record.usageIncomplete, true);
      assert.equal(record.attempts.length, 1);
    } finally {
      stop();
    }
  });

  it('an upstream failing before the first token falls back, since nothing was sent yet', async () => {
    const stream = await gateway.client.chat.completions.create({ model: 'demo', messages: user('hi'), stream: true }, { headers: { 'x-mock-behavior': 'provider=mock-a; disconnect_after=0' } });
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
    assert.equal(text, 'served by b');
  });
});
