import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import Anthropic from '@anthropic-ai/sdk';
import { request } from 'undici';
import { apiError, bbCode } from './helpers/api-error.js';
import { parseTestConfig, startTestGateway, TEST_KEY, type TestGateway } from './helpers/gateway.js';

function configYaml(maxInFlight: number): string {
  return `
server: { host: 127.0.0.1, port: 0, shutdown_grace_ms: 200, max_in_flight: ${maxInFlight} }
providers:
  mock: { type: mock, reply: { mode: lorem, tokens: 8 } }
models:
  demo: { targets: [{ provider: mock, model: m }] }
`;
}

/** Holds `count` streams open (the mock sends two tokens a second) until the returned function ends them. */
async function openSlowStreams(gateway: TestGateway, count: number): Promise<() => Promise<void>> {
  const controllers = Array.from({ length: count }, () => new AbortController());
  await Promise.all(
    controllers.map((controller) =>
      gateway.client.chat.completions.create(
        { model: 'demo', messages: [{ role: 'user', content: 'hi' }], stream: true },
        { signal: controller.signal, headers: { 'x-mock-behavior': 'tokens=60; tokens_per_second=2' } },
      ),
    ),
  );
  return async () => {
    for (const controller of controllers) controller.abort();
    // The gateway notices the closed connections on its next turn.
    await new Promise((resolve) => setTimeout(resolve, 100));
  };
}

describe('load shedding (server.max_in_flight)', () => {
  const MAX = 3;
  let gateway: TestGateway;
  before(async () => {
    gateway = await startTestGateway(configYaml(MAX));
  });
  after(() => gateway.close());

  it('answers past the limit with a fast 503 BB_GATEWAY_BUSY and Retry-After in the OpenAI shape', async () => {
    const release = await openSlowStreams(gateway, MAX);
    try {
      const response = await request(`${gateway.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${TEST_KEY}`, 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'demo', messages: [{ role: 'user', content: 'hi' }] }),
      });
      const body = (await response.body.json()) as { error: { type: string; code: string; bb_code: string; retryable: boolean } };
      assert.equal(response.statusCode, 503);
      assert.equal(response.headers['retry-after'], '1');
      assert.deepEqual({ ...body.error, message: undefined, param: undefined }, {
        message: undefined,
        param: undefined,
        type: 'server_error',
        code: 'bb_gateway_busy',
        bb_code: 'BB_GATEWAY_BUSY',
        retryable: true,
      });
      const error = await apiError(gateway.client.chat.completions.create({ model: 'demo', messages: [{ role: 'user', content: 'hi' }] }));
      assert.equal(error.status, 503);
      assert.equal(bbCode(error), 'BB_GATEWAY_BUSY');
    } finally {
      await release();
    }
    const served = await gateway.client.chat.completions.create({ model: 'demo', messages: [{ role: 'user', content: 'hi' }] });
    assert.ok(served.choices[0]?.message.content);
  });

  it('answers /v1/messages in the Anthropic error shape', async () => {
    const release = await openSlowStreams(gateway, MAX);
    try {
      const anthropic = new Anthropic({ apiKey: TEST_KEY, baseURL: gateway.url, maxRetries: 0 });
      const error = await anthropic.messages.create({ model: 'demo', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] }).then(
        () => assert.fail('expected 503'),
        (thrown: unknown) => thrown,
      );
      assert.ok(error instanceof Anthropic.APIError, String(error));
      assert.equal(error.status, 503);
      assert.equal(error.headers?.get('retry-after'), '1');
      const body = error.error as { type: string; error: { type: string; bb_code: string } };
      assert.equal(body.type, 'error');
      assert.equal(body.error.type, 'overloaded_error');
      assert.equal(body.error.bb_code, 'BB_GATEWAY_BUSY');
    } finally {
      await release();
    }
  });

  it('never sheds /healthz and /readyz', async () => {
    const release = await openSlowStreams(gateway, MAX);
    try {
      for (const path of ['/healthz', '/readyz']) {
        const response = await request(`${gateway.url}${path}`);
        assert.equal(response.statusCode, 200, path);
        await response.body.dump();
      }
    } finally {
      await release();
    }
  });

  it('is turned off by max_in_flight 0, also through a reload', async () => {
    await gateway.reload(parseTestConfig(configYaml(0)));
    const release = await openSlowStreams(gateway, MAX + 2);
    try {
      const served = await gateway.client.chat.completions.create({ model: 'demo', messages: [{ role: 'user', content: 'hi' }] });
      assert.ok(served.choices[0]?.message.content);
    } finally {
      await release();
    }
  });
});
