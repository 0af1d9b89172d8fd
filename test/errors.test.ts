import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import OpenAI from 'openai';
import { request } from 'undici';
import { ONE_ATTEMPT_PER_TARGET, startTestGateway, TEST_KEY, type TestGateway } from './helpers/gateway.js';

// Error shapes, one upstream call each: retries and Retry-After pauses are routing's (test/routing.test.ts).
const CONFIG = `
${ONE_ATTEMPT_PER_TARGET}
server: { host: 127.0.0.1, port: 0, max_body_bytes: 2kb, shutdown_grace_ms: 200 }
auth:
  api_keys:
    - { name: test, key: ${TEST_KEY} }
    - { name: limited, key: bb-limited-key-123456, models: [demo] }
providers:
  mock: { type: mock, reply: { mode: lorem, tokens: 8 } }
models:
  demo: { targets: [{ provider: mock, model: mock-1 }] }
  secret-model: { targets: [{ provider: mock, model: mock-2 }] }
`;

interface ErrorBody {
  error: { message: string; type: string; param: string | null; code: string; bb_code: string };
}

describe('client-visible errors are in OpenAI shape with the right status', () => {
  let gateway: TestGateway;
  before(async () => {
    gateway = await startTestGateway(CONFIG);
  });
  after(() => gateway.close());

  async function call(path: string, init: { method?: string; headers?: Record<string, string>; body?: string } = {}) {
    const response = await request(`${gateway.url}${path}`, {
      method: (init.method ?? 'POST') as 'POST',
      headers: { authorization: `Bearer ${TEST_KEY}`, 'content-type': 'application/json', ...init.headers },
      ...(init.body !== undefined ? { body: init.body } : {}),
    });
    const text = await response.body.text();
    return { status: response.statusCode, headers: response.headers, text, json: JSON.parse(text) as ErrorBody };
  }

  function assertClean(text: string) {
    assert.doesNotMatch(text, /\bat .+\.(ts|js):\d+/, 'no stack trace');
    assert.ok(!text.includes(TEST_KEY), 'no key');
  }

  it('malformed JSON is 400 BB_INVALID_JSON', async () => {
    const result = await call('/v1/chat/completions', { body: '{"model": "demo", "messages": [' });
    assert.equal(result.status, 400);
    assert.equal(result.json.error.bb_code, 'BB_INVALID_JSON');
    assert.equal(result.json.error.type, 'invalid_request_error');
    assertClean(result.text);
  });

  it('a missing field is 400 naming the field', async () => {
    const result = await call('/v1/chat/completions', { body: JSON.stringify({ model: 'demo' }) });
    assert.equal(result.status, 400);
    assert.equal(result.json.error.param, 'messages');
    assert.match(result.json.error.message, /'messages' is required/);
  });

  it('a field of the wrong type is 400 naming its path', async () => {
    const result = await call('/v1/chat/completions', {
      body: JSON.stringify({ model: 'demo', messages: [{ role: 'user', content: 42 }] }),
    });
    assert.equal(result.status, 400);
    assert.equal(result.json.error.param, 'messages[0].content');
  });

  it('an out-of-range value is 400', async () => {
    const result = await call('/v1/chat/completions', {
      body: JSON.stringify({ model: 'demo', messages: [{ role: 'user', content: 'x' }], temperature: 7 }),
    });
    assert.equal(result.status, 400);
    assert.equal(result.json.error.param, 'temperature');
  });

  it('a body over the limit is 413, also without a content-length', async () => {
    const big = JSON.stringify({ model: 'demo', messages: [{ role: 'user', content: 'x'.repeat(4096) }] });
    const declared = await call('/v1/chat/completions', { body: big });
    assert.equal(declared.status, 413);
    assert.equal(declared.json.error.bb_code, 'BB_BODY_TOO_LARGE');
    // Chunked upload: the limit holds while reading.
    const chunked = await request(`${gateway.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TEST_KEY}`, 'content-type': 'application/json' },
      body: Readable.from(
        (async function* () {
          for (let i = 0; i < 8; i += 1) yield Buffer.from('x'.repeat(1024));
        })(),
      ),
    });
    const chunkedBody = (await chunked.body.json()) as ErrorBody;
    assert.equal(chunked.statusCode, 413);
    assert.equal(chunkedBody.error.code, 'request_too_large');
  });

  it('a non-JSON content type is 415', async () => {
    const result = await call('/v1/chat/completions', { headers: { 'content-type': 'text/plain' }, body: '{}' });
    assert.equal(result.status, 415);
    assert.equal(result.json.error.bb_code, 'BB_UNSUPPORTED_MEDIA_TYPE');
  });

  it('an unknown model is 404 model_not_found; a model the key may not use is 403 naming the rule, not the allowed models', async () => {
    await assert.rejects(gateway.client.chat.completions.create({ model: 'gpt-9', messages: [{ role: 'user', content: 'x' }] }), (error: unknown) => {
      assert.ok(error instanceof OpenAI.NotFoundError);
      assert.equal((error as InstanceType<typeof OpenAI.APIError>).code, 'model_not_found');
      return true;
    });
    const limited = new OpenAI({ apiKey: 'bb-limited-key-123456', baseURL: `${gateway.url}/v1`, maxRetries: 0 });
    const forbidden = await limited.chat.completions.create({ model: 'secret-model', messages: [{ role: 'user', content: 'x' }] }).catch((e: unknown) => e);
    const unknown = await limited.chat.completions.create({ model: 'no-such-model', messages: [{ role: 'user', content: 'x' }] }).catch((e: unknown) => e);
    assert.ok(forbidden instanceof OpenAI.PermissionDeniedError, String(forbidden));
    assert.ok(unknown instanceof OpenAI.NotFoundError);
    assert.match(forbidden.message, /denied by the model list of key 'limited'/);
    // The denial names the rule, never what the key may use instead.
    assert.doesNotMatch(forbidden.message, /demo/);
    const models = await limited.models.list();
    assert.deepEqual(
      models.data.map((model) => model.id),
      ['demo'],
    );
  });

  it('an unknown route is 404 and a wrong method is 405 with Allow', async () => {
    const missing = await call('/v1/nothing-here', { body: '{}' });
    assert.equal(missing.status, 404);
    assert.equal(missing.json.error.bb_code, 'BB_ROUTE_NOT_FOUND');
    const wrongMethod = await call('/v1/chat/completions', { method: 'GET' });
    assert.equal(wrongMethod.status, 405);
    assert.equal(wrongMethod.headers.allow, 'POST');
    assert.equal(wrongMethod.json.error.bb_code, 'BB_METHOD_NOT_ALLOWED');
  });

  it('a missing key is 401 missing_api_key and a wrong key is 401 invalid_api_key', async () => {
    const missing = await call('/v1/models', { method: 'GET', headers: { authorization: '' } });
    assert.equal(missing.status, 401);
    assert.equal(missing.json.error.code, 'missing_api_key');
    const wrong = new OpenAI({ apiKey: 'bb-wrong-key-000000', baseURL: `${gateway.url}/v1`, maxRetries: 0 });
    await assert.rejects(wrong.models.list(), (error: unknown) => {
      assert.ok(error instanceof OpenAI.AuthenticationError);
      assert.equal((error as InstanceType<typeof OpenAI.APIError>).code, 'invalid_api_key');
      assert.ok(!(error as Error).message.includes('bb-wrong-key-000000'));
      return true;
    });
  });

  it('an injected upstream 429 passes its Retry-After through', async () => {
    const error = await gateway.client.chat.completions
      .create({ model: 'demo', messages: [{ role: 'user', content: 'x' }] }, { headers: { 'x-mock-behavior': 'status=429; retry_after=7' } })
      .catch((e: unknown) => e);
    assert.ok(error instanceof OpenAI.RateLimitError);
    assert.equal(error.headers?.get('retry-after'), '7');
    assert.equal(error.code, 'rate_limit_exceeded');
  });

  it('an injected upstream 500 is a 503 the client may retry', async () => {
    const result = await call('/v1/chat/completions', {
      headers: { 'x-mock-behavior': 'status=500' },
      body: JSON.stringify({ model: 'demo', messages: [{ role: 'user', content: 'x' }] }),
    });
    assert.equal(result.status, 503);
    assert.equal(result.json.error.bb_code, 'BB_UPSTREAM_OVERLOADED');
    assert.equal(result.json.error.type, 'server_error');
  });

  it('health endpoints answer without a key', async () => {
    const health = await request(`${gateway.url}/healthz`);
    assert.equal(health.statusCode, 200);
    assert.deepEqual(await health.body.json(), { status: 'ok' });
    const ready = await request(`${gateway.url}/readyz`);
    assert.equal(ready.statusCode, 200);
    const body = (await ready.body.json()) as { status: string; checks: { config: string } };
    assert.equal(body.status, 'ready');
    assert.equal(body.checks.config, 'ok');
  });
});
