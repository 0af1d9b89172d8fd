import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import Anthropic from '@anthropic-ai/sdk';
import { APIError } from 'openai';
import { request } from 'undici';
import { requestSettledChannel, type RequestRecord } from '../src/core/request-record.js';
import { apiError, bbCode } from './helpers/api-error.js';
import { startTestGateway, TEST_KEY } from './helpers/gateway.js';

describe('graceful drain', () => {
  it('lets an open stream finish, refuses new work with 503, and reports not ready', async () => {
    const gateway = await startTestGateway(`
server: { host: 127.0.0.1, port: 0, shutdown_grace_ms: 5000 }
providers:
  mock: { type: mock, reply: { mode: lorem, tokens: 10 }, tokens_per_second: 20 }
models:
  demo: { targets: [{ provider: mock, model: m }] }
`);
    const stream = await gateway.client.chat.completions.create({ model: 'demo', messages: [{ role: 'user', content: 'hi' }], stream: true });
    const closing = gateway.close();
    // A request on a new connection during the drain is refused or answered 503, never served.
    const during = await request(`${gateway.url}/v1/models`, { headers: { authorization: 'Bearer x' } }).then(
      async (response) => {
        await response.body.dump();
        return response.statusCode;
      },
      () => 'refused',
    );
    assert.ok(during === 503 || during === 'refused', `got ${String(during)}`);
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
    assert.ok(text.startsWith('Lorem ipsum'));
    assert.equal(text.split(' ').length >= 5, true);
    await closing;
  });

  it('ends streams still open at the deadline with a terminal error event in their dialect, and settles every request', async () => {
    const gateway = await startTestGateway(`
server: { host: 127.0.0.1, port: 0, shutdown_grace_ms: 800 }
providers:
  mock: { type: mock, reply: { mode: lorem, tokens: 200 }, tokens_per_second: 20 }
models:
  demo: { targets: [{ provider: mock, model: m }] }
`);
    const records: RequestRecord[] = [];
    const onSettled = (message: unknown) => records.push(message as RequestRecord);
    requestSettledChannel.subscribe(onSettled);
    try {
      const long = await gateway.client.chat.completions.create({ model: 'demo', messages: [{ role: 'user', content: 'hi' }], stream: true });
      const short = await gateway.client.chat.completions.create(
        { model: 'demo', messages: [{ role: 'user', content: 'hi' }], stream: true },
        { headers: { 'x-mock-behavior': 'tokens=4' } },
      );
      const anthropic = new Anthropic({ apiKey: TEST_KEY, baseURL: gateway.url, maxRetries: 0 });
      const anthropicStream = await anthropic.messages.create({ model: 'demo', max_tokens: 500, messages: [{ role: 'user', content: 'hi' }], stream: true });
      // A plain request still waiting on the upstream at the deadline gets a 503 it may retry elsewhere.
      const waiting = apiError(
        gateway.client.chat.completions.create({ model: 'demo', messages: [{ role: 'user', content: 'hi' }] }, { headers: { 'x-mock-behavior': 'ttft_ms=30000' } }),
      );
      await new Promise((resolve) => setTimeout(resolve, 50));
      const started = Date.now();
      const closing = gateway.close();

      const longOutcome = (async () => {
        let text = '';
        try {
          for await (const chunk of long) text += chunk.choices[0]?.delta.content ?? '';
        } catch (error) {
          return { text, error };
        }
        return { text, error: undefined };
      })();
      let shortText = '';
      for await (const chunk of short) shortText += chunk.choices[0]?.delta.content ?? '';
      assert.equal(shortText.split(' ').length >= 2, true, 'a short stream finishes normally');

      const anthropicError = await (async () => {
        try {
          for await (const event of anthropicStream) void event;
        } catch (error) {
          return error;
        }
        return undefined;
      })();
      const { text, error } = await longOutcome;
      assert.ok(error instanceof APIError, `expected an APIError, got ${String(error)}`);
      assert.match(error.message, /shutting down/);
      assert.ok(text.startsWith('Lorem ipsum'), 'text sent before the deadline is kept');
      assert.ok(anthropicError instanceof Anthropic.APIError, `expected an Anthropic APIError, got ${String(anthropicError)}`);
      assert.match(anthropicError.message, /shutting down/);
      assert.ok(Date.now() - started < 800 + 300, 'the terminal events come before the grace is over');
      const refused = await waiting;
      assert.equal(refused.status, 503);
      assert.equal(bbCode(refused), 'BB_SHUTTING_DOWN');
      assert.equal(refused.headers?.get('retry-after'), '1');
      await closing;
      const chats = records.filter((record) => record.endpoint === 'chat');
      assert.equal(chats.length, 4, 'every request settled');
      assert.deepEqual(chats.map((record) => record.errorCode ?? 'ok').sort(), ['BB_SHUTTING_DOWN', 'BB_SHUTTING_DOWN', 'BB_SHUTTING_DOWN', 'ok']);
      assert.ok(chats.filter((record) => record.stream && record.errorCode).every((record) => record.usageIncomplete));
    } finally {
      requestSettledChannel.unsubscribe(onSettled);
    }
  });
});
