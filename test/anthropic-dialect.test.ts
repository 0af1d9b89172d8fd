import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import Anthropic from '@anthropic-ai/sdk';
import { countTextTokens } from '../src/usage/token-estimate.js';
import { startFakeOpenAI } from './fakes/openai-upstream.js';
import { startTestGateway, TEST_KEY, type TestGateway } from './helpers/gateway.js';

type FakeOpenAI = Awaited<ReturnType<typeof startFakeOpenAI>>;

const weatherTool: Anthropic.Tool = {
  name: 'get_weather',
  description: 'Weather for a city',
  input_schema: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
};

describe('Anthropic Messages endpoint (@anthropic-ai/sdk) against the mock and an OpenAI upstream', () => {
  let gateway: TestGateway;
  let fake: FakeOpenAI;
  let anthropic: Anthropic;

  before(async () => {
    fake = await startFakeOpenAI();
    gateway = await startTestGateway(
      `
providers:
  mock: { type: mock, reply: { mode: lorem, tokens: 12 } }
  openai: { type: openai, api_key: "\${env:FAKE_KEY}", base_url: "${fake.url}" }
models:
  demo: { targets: [{ provider: mock, model: mock-1 }] }
  gpt: { targets: [{ provider: openai, model: gpt-4o-mini }] }
`,
      { FAKE_KEY: fake.apiKey },
    );
    anthropic = new Anthropic({ apiKey: TEST_KEY, baseURL: gateway.url, maxRetries: 0 });
  });
  after(async () => {
    await gateway.close();
    await fake.close();
  });

  it('answers a message in Anthropic shape, with usage', async () => {
    const message = await anthropic.messages.create({
      model: 'demo',
      max_tokens: 100,
      system: 'Be brief.',
      messages: [{ role: 'user', content: 'Hello there' }],
    });
    assert.equal(message.type, 'message');
    assert.equal(message.role, 'assistant');
    assert.equal(message.stop_reason, 'end_turn');
    const block = message.content[0];
    assert.equal(block?.type, 'text');
    const text = block?.type === 'text' ? block.text : '';
    assert.ok(text.startsWith('Lorem ipsum'));
    assert.equal(message.usage.output_tokens, countTextTokens(text));
    assert.ok(message.usage.input_tokens > 0);
  });

  it('streams text deltas that the SDK assembles into the same message', async () => {
    const whole = await anthropic.messages.create({ model: 'demo', max_tokens: 100, messages: [{ role: 'user', content: 'Hi' }] });
    const stream = anthropic.messages.stream({ model: 'demo', max_tokens: 100, messages: [{ role: 'user', content: 'Hi' }] });
    let deltas = '';
    stream.on('text', (text) => (deltas += text));
    const final = await stream.finalMessage();
    const wholeText = whole.content[0]?.type === 'text' ? whole.content[0].text : '';
    assert.equal(deltas, wholeText);
    assert.equal(final.content[0]?.type === 'text' ? final.content[0].text : '', wholeText);
    assert.equal(final.stop_reason, 'end_turn');
    assert.equal(final.usage.output_tokens, whole.usage.output_tokens);
    assert.equal(final.usage.input_tokens, whole.usage.input_tokens);
  });

  it('cuts at max_tokens with stop_reason max_tokens', async () => {
    const message = await anthropic.messages.create({ model: 'demo', max_tokens: 3, messages: [{ role: 'user', content: 'Hi' }] });
    assert.equal(message.stop_reason, 'max_tokens');
    assert.equal(message.usage.output_tokens, 3);
  });

  it('returns tool_use blocks, streaming and not', async () => {
    const request = {
      model: 'demo',
      max_tokens: 100,
      tools: [weatherTool],
      tool_choice: { type: 'any' as const },
      messages: [{ role: 'user' as const, content: 'Weather in Paris?' }],
    };
    const message = await anthropic.messages.create(request);
    assert.equal(message.stop_reason, 'tool_use');
    const toolUse = message.content.find((block) => block.type === 'tool_use');
    assert.equal(toolUse?.type === 'tool_use' ? toolUse.name : '', 'get_weather');
    assert.deepEqual(toolUse?.type === 'tool_use' ? toolUse.input : undefined, { city: 'example' });
    const final = await anthropic.messages.stream(request).finalMessage();
    const streamed = final.content.find((block) => block.type === 'tool_use');
    assert.deepEqual(streamed?.type === 'tool_use' ? streamed.input : undefined, { city: 'example' });
    assert.equal(final.stop_reason, 'tool_use');
  });

  it('translates to an OpenAI upstream: system, tool history and tool results', async () => {
    fake.clear();
    // top_k is an Anthropic-only field: it must not reach the OpenAI body.
    const params = {
      model: 'gpt',
      max_tokens: 50,
      top_k: 5,
      system: 'You are terse.',
      tools: [weatherTool],
      messages: [
        { role: 'user', content: 'Weather in Paris?' },
        { role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_1', name: 'get_weather', input: { city: 'Paris' } }] },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_1', content: 'Sunny, 21C' }, { type: 'text', text: 'Thanks!' }] },
      ],
    } as Anthropic.MessageCreateParamsNonStreaming;
    const message = await anthropic.messages.create(params);
    assert.equal(message.type, 'message');
    assert.ok(message.content.some((block) => block.type === 'text'));
    const sent = fake.requests.at(-1)?.body as { model: string; messages: Array<Record<string, unknown>>; max_completion_tokens?: number; tools?: unknown[] };
    assert.equal(sent.model, 'gpt-4o-mini');
    assert.equal(sent.max_completion_tokens, 50);
    assert.deepEqual(
      sent.messages.map((entry) => entry.role),
      ['system', 'user', 'assistant', 'tool', 'user'],
    );
    assert.equal(sent.messages[0]?.content, 'You are terse.');
    assert.deepEqual(sent.messages[2]?.tool_calls, [{ id: 'toolu_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }]);
    assert.equal(sent.messages[3]?.tool_call_id, 'toolu_1');
    assert.equal(sent.messages[3]?.content, 'Sunny, 21C');
    assert.equal(sent.tools?.length, 1);
    // Anthropic-only fields stay out of an OpenAI body.
    assert.equal('top_k' in sent, false);
  });

  it('streams from an OpenAI upstream in Anthropic events, with usage', async () => {
    const final = await anthropic.messages.stream({ model: 'gpt', max_tokens: 50, messages: [{ role: 'user', content: 'Hi' }] }).finalMessage();
    assert.equal(final.content[0]?.type, 'text');
    assert.ok(final.usage.output_tokens > 0);
    assert.ok(final.usage.input_tokens > 0);
    assert.equal(final.stop_reason, 'end_turn');
  });

  it('counts tokens', async () => {
    const counted = await anthropic.messages.countTokens({ model: 'demo', messages: [{ role: 'user', content: 'Count these words please' }] });
    assert.ok(counted.input_tokens >= countTextTokens('Count these words please'));
  });

  it('answers errors in Anthropic shape', async () => {
    await assert.rejects(anthropic.messages.create({ model: 'nope', max_tokens: 10, messages: [{ role: 'user', content: 'x' }] }), (error: unknown) => {
      assert.ok(error instanceof Anthropic.NotFoundError);
      assert.equal((error.error as { error?: { type?: string } }).error?.type, 'not_found_error');
      return true;
    });
    const missing = await fetch(`${gateway.url}/v1/messages`, {
      method: 'POST',
      headers: { 'x-api-key': TEST_KEY, 'anthropic-version': '2023-06-01', 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'demo', messages: [{ role: 'user', content: 'x' }] }),
    });
    const body = (await missing.json()) as { type: string; error: { type: string; message: string } };
    assert.equal(missing.status, 400);
    assert.equal(body.type, 'error');
    assert.equal(body.error.type, 'invalid_request_error');
    assert.match(body.error.message, /'max_tokens' is required/);
    const wrongKey = new Anthropic({ apiKey: 'bb-wrong-key-000000', baseURL: gateway.url, maxRetries: 0 });
    await assert.rejects(wrongKey.messages.create({ model: 'demo', max_tokens: 5, messages: [{ role: 'user', content: 'x' }] }), Anthropic.AuthenticationError);
    const overloaded = await anthropic.messages
      .create({ model: 'demo', max_tokens: 5, messages: [{ role: 'user', content: 'x' }] }, { headers: { 'x-mock-behavior': 'status=529' } })
      .catch((error: unknown) => error);
    assert.ok(overloaded instanceof Anthropic.APIError);
    assert.equal(overloaded.status, 503);
    assert.equal((overloaded.error as { error?: { type?: string } }).error?.type, 'overloaded_error');
  });

  it('ends a stream that fails mid-way with an Anthropic error event', async () => {
    const stream = anthropic.messages.stream(
      { model: 'demo', max_tokens: 100, messages: [{ role: 'user', content: 'Hi' }] },
      { headers: { 'x-mock-behavior': 'disconnect_after=3; tokens_per_second=500' } },
    );
    let text = '';
    stream.on('text', (delta) => (text += delta));
    await assert.rejects(stream.finalMessage(), (error: unknown) => error instanceof Error && /dropped the connection/.test(error.message));
    assert.equal(text, 'Lorem ipsum dolor');
  });
});
