import assert from 'node:assert/strict';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { after, before, describe, it } from 'node:test';
import type { CanonicalRequest } from '../src/core/canonical.js';
import { anthropicMessagesDialect } from '../src/dialects/anthropic-messages/index.js';
import { openAIChatDialect } from '../src/dialects/openai-chat/index.js';
import { startFakeOpenAI, type FakeOpenAI } from './fakes/openai-upstream.js';
import { startTestGateway, TEST_KEY, type TestGateway } from './helpers/gateway.js';

// This file runs in its own process (node --test), so exposing a collector here touches no other test.
setFlagsFromString('--expose-gc');
const collectGarbage = runInNewContext('gc') as () => void;

/**
 * An open stream must not keep its prompt alive: a stream can last minutes, thousands at once, and
 * an agent's prompt can be hundreds of KB. Each dialect's decode is wrapped to watch the request's
 * messages through a WeakRef; once the first chunk arrived (and the prompt's tokens were counted at
 * admission, as a token limit does), a full collection must free them while the stream is open.
 */
describe('an open stream lets go of its prompt', () => {
  let fake: FakeOpenAI;
  let gateway: TestGateway;
  const watched: Array<WeakRef<object>> = [];
  const originals = { openai: openAIChatDialect.decodeChat, anthropic: anthropicMessagesDialect.decodeChat };

  before(async () => {
    fake = await startFakeOpenAI();
    const watch = (decode: (body: unknown) => CanonicalRequest) => (body: unknown) => {
      const request = decode(body);
      watched.push(new WeakRef(request.messages));
      return request;
    };
    openAIChatDialect.decodeChat = watch(originals.openai);
    anthropicMessagesDialect.decodeChat = watch(originals.anthropic);
    gateway = await startTestGateway(
      `
providers:
  openai:
    type: openai
    api_key: \${env:FAKE_OPENAI_KEY}
    base_url: ${fake.url}
  mock: { type: mock, reply: { mode: lorem, tokens: 8 }, tokens_per_second: 8 }
models:
  gpt: { targets: [{ provider: openai, model: gpt-4o-mini }] }
  slow: { targets: [{ provider: mock, model: mock-1 }] }
plans:
  metered: { limits: { tokens_per_minute: 100000000 } }
auth: { default_plan: metered, api_keys: [{ name: test, key: ${TEST_KEY} }] }
`,
      { FAKE_OPENAI_KEY: fake.apiKey },
    );
  });

  after(async () => {
    openAIChatDialect.decodeChat = originals.openai;
    anthropicMessagesDialect.decodeChat = originals.anthropic;
    await gateway.close();
    await fake.close();
  });

  /** Collects until the watched messages are gone (a few rounds: finalizers and weak cells settle). */
  async function released(ref: WeakRef<object>): Promise<boolean> {
    for (let round = 0; round < 10; round += 1) {
      collectGarbage();
      if (ref.deref() === undefined) return true;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    return false;
  }

  const prompt = (directive: string) => `${directive} Summarise this contract clause for a customer. ${'The party of the first part agrees. '.repeat(200)}`;

  it('through the OpenAI provider (its stream parser) to an OpenAI client', async () => {
    const stream = await gateway.client.chat.completions.create({ model: 'gpt', stream: true, messages: [{ role: 'user', content: prompt('[fake chunks=6 delay_ms=150]') }] });
    const iterator = stream[Symbol.asyncIterator]();
    assert.equal((await iterator.next()).done, false);
    const ref = watched.at(-1) as WeakRef<object>;
    assert.equal(await released(ref), true, 'the prompt is still reachable while the stream is open');
    let chunks = 1;
    while (!(await iterator.next()).done) chunks += 1;
    assert.ok(chunks >= 6);
    assert.equal(fake.streams.at(-1)?.state, 'completed', 'the stream was still open when the prompt was let go');
  });

  it('through the mock provider to an Anthropic client (its encoder counts the prompt itself)', async () => {
    const response = await fetch(`${gateway.url}/v1/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': TEST_KEY, 'anthropic-version': '2023-06-01' },
      body: JSON.stringify({ model: 'slow', max_tokens: 64, stream: true, messages: [{ role: 'user', content: prompt('') }] }),
    });
    assert.equal(response.status, 200);
    const reader = (response.body as ReadableStream<Uint8Array>).getReader();
    let text = new TextDecoder().decode((await reader.read()).value);
    const ref = watched.at(-1) as WeakRef<object>;
    assert.equal(await released(ref), true, 'the prompt is still reachable while the stream is open');
    for (let part = await reader.read(); !part.done; part = await reader.read()) text += new TextDecoder().decode(part.value);
    assert.match(text, /event: message_stop/);
    assert.match(text, /"input_tokens":\d{3,}/, 'the prompt was counted before it was let go');
  });
});
