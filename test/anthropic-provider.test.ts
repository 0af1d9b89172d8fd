import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import Anthropic from '@anthropic-ai/sdk';
import { APIError } from 'openai';
import type {
  ChatCompletionChunk,
  ChatCompletionCreateParamsStreaming,
  ChatCompletionMessageParam,
  ChatCompletionTool,
} from 'openai/resources/chat/completions';
import type { AnthropicProviderConfig } from '../src/config/schema.js';
import type { CanonicalRequest, StreamEvent } from '../src/core/canonical.js';
import { ANTHROPIC_MESSAGES_DIALECT } from '../src/core/dialect-names.js';
import { GatewayError } from '../src/core/errors.js';
import { createAnthropicProvider } from '../src/providers/anthropic/index.js';
import type { AttemptContext, ProviderAdapter } from '../src/providers/provider-adapter.js';
import {
  FAKE_FORCED_INPUT,
  FAKE_PREAMBLE,
  FAKE_REDACTED,
  FAKE_REPLY,
  FAKE_SIGNATURE,
  FAKE_THINKING,
  FAKE_USAGE,
  FAKE_UTF8_REPLY,
  fakeOutputTokens,
  fakeTextPieces,
  fakeToolId,
  fakeToolInput,
  startFakeAnthropic,
  type FakeAnthropic,
  type RecordedRequest,
} from './fakes/anthropic-upstream.js';
import { apiError, bbCode } from './helpers/api-error.js';
import { ONE_ATTEMPT_PER_TARGET, startTestGateway, TEST_KEY, type TestGateway } from './helpers/gateway.js';

const UPSTREAM_MODEL = 'claude-sonnet-4-5';
const DEFAULT_MAX_TOKENS = 1234;
const WRONG_KEY = 'sk-ant-api03-WrongKeyZq8Xv2Lm9Tr4Wp7Ny3Kd5Hb';
const PROXY_TOKEN = 'proxy-token-7Hq2Lx9Vb4Nm';
/** Prompt tokens as the gateway reports them: uncached input plus cache writes plus cache reads. */
const PROMPT_TOKENS = FAKE_USAGE.inputTokens + FAKE_USAGE.cacheCreationTokens + FAKE_USAGE.cacheReadTokens;

let fake: FakeAnthropic;
let gateway: TestGateway;

function config(): string {
  return `
${ONE_ATTEMPT_PER_TARGET}
providers:
  anthropic:
    type: anthropic
    api_key: \${env:FAKE_ANTHROPIC_KEY}
    base_url: ${fake.url}
    default_max_tokens: ${DEFAULT_MAX_TOKENS}
    headers:
      X-Proxy-Token: \${env:PROXY_TOKEN}
  anthropic-backup:
    type: anthropic
    api_key: \${env:FAKE_ANTHROPIC_KEY}
    base_url: ${fake.url}
  anthropic-wrong-key:
    type: anthropic
    api_key: \${env:WRONG_ANTHROPIC_KEY}
    base_url: ${fake.url}
models:
  claude:
    targets: [{ provider: anthropic, model: ${UPSTREAM_MODEL} }]
  claude-tuned:
    targets: [{ provider: anthropic, model: ${UPSTREAM_MODEL}, params: { temperature: 0.3, top_k: 40, max_tokens: 777, stop: END } }]
  claude-twice:
    targets:
      - { provider: anthropic, model: ${UPSTREAM_MODEL} }
      - { provider: anthropic-backup, model: claude-haiku-4-5 }
  claude-wrong-key:
    targets: [{ provider: anthropic-wrong-key, model: ${UPSTREAM_MODEL} }]
`;
}

before(async () => {
  fake = await startFakeAnthropic();
  gateway = await startTestGateway(config(), { FAKE_ANTHROPIC_KEY: fake.apiKey, WRONG_ANTHROPIC_KEY: WRONG_KEY, PROXY_TOKEN });
});

after(async () => {
  await gateway?.close();
  await fake?.close();
});

// ---------------------------------------------------------------------------------------------
// Helpers.

function upstreamRequests(marker: string): RecordedRequest[] {
  return fake.requests.filter((request) => JSON.stringify(request.body).includes(marker));
}

function upstreamRequest(marker: string): RecordedRequest {
  const found = upstreamRequests(marker);
  assert.equal(found.length, 1, `expected exactly one upstream request for ${marker}, got ${found.length}`);
  return found[0] as RecordedRequest;
}

function upstreamBody(marker: string): Record<string, unknown> {
  return upstreamRequest(marker).body as Record<string, unknown>;
}

const user = (content: string): ChatCompletionMessageParam[] => [{ role: 'user', content }];

function weatherTools(names: string[]): ChatCompletionTool[] {
  return names.map((name) => ({
    type: 'function',
    function: { name, description: `Tool ${name}`, parameters: { type: 'object', properties: { city: { type: 'string' } } } },
  }));
}

interface Collected {
  chunks: ChatCompletionChunk[];
  text: string;
  reasoning: string;
  finish: string | null | undefined;
  error: APIError | undefined;
}

/** Reads a whole streamed answer through the gateway, keeping what came before any error. */
async function collectStream(body: Record<string, unknown>): Promise<Collected> {
  const out: Collected = { chunks: [], text: '', reasoning: '', finish: undefined, error: undefined };
  const stream = await gateway.client.chat.completions.create({ model: 'claude', ...body, stream: true } as ChatCompletionCreateParamsStreaming);
  try {
    for await (const chunk of stream) {
      out.chunks.push(chunk);
      const choice = chunk.choices[0];
      out.text += choice?.delta.content ?? '';
      out.reasoning += (choice?.delta as { reasoning_content?: string } | undefined)?.reasoning_content ?? '';
      if (choice?.finish_reason) out.finish = choice.finish_reason;
    }
  } catch (error) {
    assert.ok(error instanceof APIError, `expected an APIError, got ${String(error)}`);
    out.error = error;
  }
  return out;
}

/** An attempt context for calling the adapter directly. */
function attemptContext(clientHeaders: Record<string, string> = {}): AttemptContext {
  const signal = new AbortController().signal;
  return {
    requestId: 'req_direct',
    signal: Object.assign(signal, { toAbortSignal: () => signal }),
    clientHeaders,
    forwardHeaders: {},
  };
}

function directAdapter(): ProviderAdapter {
  const providerConfig: AnthropicProviderConfig = {
    type: 'anthropic',
    api_key: fake.apiKey,
    base_url: fake.url,
    version: '2023-06-01',
    default_max_tokens: DEFAULT_MAX_TOKENS,
    timeouts: { connect_ms: 2_000, first_byte_ms: 5_000, idle_ms: 5_000, total_ms: 10_000 },
    max_connections: 8,
    headers: { 'anthropic-beta': 'configured-beta-1' },
    trust: 'external',
  };
  return createAnthropicProvider('direct', providerConfig);
}

function canonical(text: string, overrides: Partial<CanonicalRequest> = {}): CanonicalRequest {
  return { model: 'claude', messages: [{ role: 'user', content: text }], stream: false, streamUsage: false, extra: {}, ...overrides };
}

async function drain(events: AsyncIterable<StreamEvent>): Promise<{ events: StreamEvent[]; error: unknown }> {
  const seen: StreamEvent[] = [];
  try {
    for await (const event of events) seen.push(event);
  } catch (error) {
    return { events: seen, error };
  }
  return { events: seen, error: undefined };
}

// ---------------------------------------------------------------------------------------------

describe('anthropic fake: the official Anthropic SDK reads its wire format', { timeout: 20_000 }, () => {
  /** A current model name, so the SDK prints no deprecation warning. */
  const SDK_MODEL = 'claude-sonnet-4-6';

  it('parses a message and a stream with thinking, text and parallel tool calls', async () => {
    const client = new Anthropic({ apiKey: fake.apiKey, baseURL: fake.url, maxRetries: 0 });
    const message = await client.messages.create({ model: SDK_MODEL, max_tokens: 100, messages: [{ role: 'user', content: 'sdk-plain' }] });
    assert.equal(message.content[0]?.type, 'text');
    assert.equal(message.content[0]?.type === 'text' ? message.content[0].text : '', FAKE_REPLY);
    assert.equal(message.usage.cache_read_input_tokens, FAKE_USAGE.cacheReadTokens);

    const stream = client.messages.stream({
      model: SDK_MODEL,
      max_tokens: 100,
      tools: [{ name: 'get_weather', input_schema: { type: 'object' } }],
      messages: [{ role: 'user', content: 'sdk-stream [fake tool_calls=2 preamble=1 thinking=1 crlf=1 pings=1 utf8=1]' }],
    });
    const final = await stream.finalMessage();
    assert.deepEqual(
      final.content.map((block) => block.type),
      ['thinking', 'text', 'tool_use', 'tool_use'],
    );
    const thinking = final.content[0];
    assert.ok(thinking?.type === 'thinking');
    assert.equal(thinking.thinking, FAKE_THINKING);
    assert.equal(thinking.signature, FAKE_SIGNATURE);
    const tool = final.content[3];
    assert.ok(tool?.type === 'tool_use');
    assert.deepEqual(tool.input, fakeToolInput(1, 'get_weather'));
    assert.equal(final.stop_reason, 'tool_use');
    assert.equal(final.usage.output_tokens, fakeOutputTokens({ textPieces: 1, toolCalls: 2, thinking: true }));
  });

  it('rejects a wrong key and a missing version header as the real API does', async () => {
    const wrong = new Anthropic({ apiKey: WRONG_KEY, baseURL: fake.url, maxRetries: 0 });
    await assert.rejects(wrong.messages.create({ model: SDK_MODEL, max_tokens: 10, messages: [{ role: 'user', content: 'x' }] }), (error: unknown) => {
      assert.ok(error instanceof Anthropic.AuthenticationError);
      return true;
    });
    const response = await fetch(`${fake.url}/v1/messages`, {
      method: 'POST',
      headers: { 'x-api-key': fake.apiKey, 'content-type': 'application/json' },
      body: JSON.stringify({ model: SDK_MODEL, max_tokens: 10, messages: [{ role: 'user', content: 'x' }] }),
    });
    assert.equal(response.status, 400);
    assert.deepEqual(((await response.json()) as { error: unknown }).error, { type: 'invalid_request_error', message: 'anthropic-version: header is required' });
  });
});

describe('anthropic provider: request translation', { timeout: 20_000 }, () => {
  it('sends the target model, x-api-key, anthropic-version and the default max_tokens; answers with mapped usage', async () => {
    const marker = 'plain-1';
    const { data, response } = await gateway.client.chat.completions.create({ model: 'claude', messages: user(marker) }).withResponse();
    const choice = data.choices[0];
    assert.ok(choice);
    assert.equal(choice.message.content, FAKE_REPLY);
    assert.equal(choice.finish_reason, 'stop');
    assert.equal(data.model, UPSTREAM_MODEL);
    const completion = fakeOutputTokens({ textPieces: fakeTextPieces().length });
    assert.equal(data.usage?.prompt_tokens, PROMPT_TOKENS, 'prompt tokens include cache reads and writes');
    assert.equal(data.usage?.completion_tokens, completion);
    assert.equal(data.usage?.total_tokens, PROMPT_TOKENS + completion);
    assert.equal(data.usage?.prompt_tokens_details?.cached_tokens, FAKE_USAGE.cacheReadTokens);
    assert.equal(response.headers.get('x-breakerbox-provider'), 'anthropic');

    const upstream = upstreamRequest(marker);
    assert.equal(upstream.path, '/v1/messages');
    assert.equal(upstream.headers['x-api-key'], fake.apiKey);
    assert.equal(upstream.headers['anthropic-version'], '2023-06-01');
    assert.match(String(upstream.headers['content-type']), /^application\/json/);
    assert.equal(upstream.headers['x-proxy-token'], PROXY_TOKEN, 'configured headers are sent');
    assert.equal(upstream.headers.authorization, undefined);
    assert.ok(!JSON.stringify(upstream.headers).includes(TEST_KEY), "the client's gateway key never reaches the upstream");
    assert.deepEqual(upstream.body, { model: UPSTREAM_MODEL, messages: [{ role: 'user', content: marker }], max_tokens: DEFAULT_MAX_TOKENS });
  });

  it('moves system and developer messages to `system` and merges consecutive same-role messages', async () => {
    const marker = 'system-merge-1';
    await gateway.client.chat.completions.create({
      model: 'claude',
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'first', name: 'alice' },
        { role: 'user', content: [{ type: 'text', text: 'second' }] },
        { role: 'assistant', content: 'one' },
        { role: 'assistant', content: 'two' },
        { role: 'developer', content: 'Also be polite.' },
        { role: 'user', content: marker },
      ],
    });
    const body = upstreamBody(marker);
    assert.deepEqual(body.system, [
      { type: 'text', text: 'Be brief.' },
      { type: 'text', text: 'Also be polite.' },
    ]);
    assert.deepEqual(body.messages, [
      { role: 'user', content: [{ type: 'text', text: 'first' }, { type: 'text', text: 'second' }] },
      { role: 'assistant', content: [{ type: 'text', text: 'one' }, { type: 'text', text: 'two' }] },
      { role: 'user', content: marker },
    ]);
  });

  it('sends one system message as a plain string', async () => {
    const marker = 'system-single-1';
    await gateway.client.chat.completions.create({ model: 'claude', messages: [{ role: 'system', content: 'You are terse.' }, ...user(marker)] });
    assert.equal(upstreamBody(marker).system, 'You are terse.');
  });

  it('turns tool calls into tool_use blocks and tool results into tool_result blocks leading a user turn', async () => {
    const marker = 'tool-results-1';
    const [first, second] = [fakeToolId(0), fakeToolId(1)];
    await gateway.client.chat.completions.create({
      model: 'claude',
      tools: weatherTools(['get_weather']),
      messages: [
        { role: 'user', content: 'Weather in Paris and Rome?' },
        {
          role: 'assistant',
          content: 'Checking both.',
          tool_calls: [
            { id: first, type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } },
            { id: second, type: 'function', function: { name: 'get_weather', arguments: '{"city":"Rome"}' } },
          ],
        },
        { role: 'tool', tool_call_id: first, content: '18C, sunny' },
        { role: 'tool', tool_call_id: second, content: [{ type: 'text', text: '21C, clear' }] },
        { role: 'user', content: `${marker} and tomorrow?` },
      ],
    });
    const body = upstreamBody(marker);
    assert.deepEqual(body.messages, [
      { role: 'user', content: 'Weather in Paris and Rome?' },
      {
        role: 'assistant',
        content: [
          { type: 'text', text: 'Checking both.' },
          { type: 'tool_use', id: first, name: 'get_weather', input: { city: 'Paris' } },
          { type: 'tool_use', id: second, name: 'get_weather', input: { city: 'Rome' } },
        ],
      },
      {
        role: 'user',
        content: [
          { type: 'tool_result', tool_use_id: first, content: '18C, sunny' },
          { type: 'tool_result', tool_use_id: second, content: [{ type: 'text', text: '21C, clear' }] },
          { type: 'text', text: `${marker} and tomorrow?` },
        ],
      },
    ]);
  });

  it('puts tool results first in a merged user turn even when user text came before them', async () => {
    const marker = 'tool-results-order-1';
    const id = fakeToolId(5);
    await gateway.client.chat.completions.create({
      model: 'claude',
      tools: weatherTools(['get_weather']),
      messages: [
        { role: 'user', content: 'Weather?' },
        { role: 'assistant', content: null, tool_calls: [{ id, type: 'function', function: { name: 'get_weather', arguments: '' } }] },
        { role: 'user', content: marker },
        { role: 'tool', tool_call_id: id, content: 'sunny' },
      ],
    });
    const messages = upstreamBody(marker).messages as unknown[];
    assert.deepEqual(messages.slice(1), [
      { role: 'assistant', content: [{ type: 'tool_use', id, name: 'get_weather', input: {} }] },
      {
        role: 'user',
        content: [
          { type: 'tool_result', tool_use_id: id, content: 'sunny' },
          { type: 'text', text: marker },
        ],
      },
    ]);
  });

  it('refuses tool call arguments that are not a JSON object before calling the upstream', async () => {
    const marker = 'bad-args-1';
    const error = await apiError(
      gateway.client.chat.completions.create({
        model: 'claude',
        messages: [
          { role: 'user', content: marker },
          { role: 'assistant', content: null, tool_calls: [{ id: 'toolu_x', type: 'function', function: { name: 'f', arguments: '{not json' } }] },
          { role: 'tool', tool_call_id: 'toolu_x', content: 'ok' },
        ],
      }),
    );
    assert.equal(error.status, 400);
    assert.equal(error.param, 'messages[1].tool_calls[0].function.arguments');
    assert.equal(upstreamRequests(marker).length, 0);
  });

  it('sends data: URL images as base64 sources and http URLs as url sources', async () => {
    const marker = 'images-1';
    const png = Buffer.from('fake-png-bytes').toString('base64');
    await gateway.client.chat.completions.create({
      model: 'claude',
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: marker },
            { type: 'image_url', image_url: { url: `data:image/png;base64,${png}`, detail: 'high' } },
            { type: 'image_url', image_url: { url: 'https://example.com/cat.jpg' } },
          ],
        },
      ],
    });
    assert.deepEqual(upstreamBody(marker).messages, [
      {
        role: 'user',
        content: [
          { type: 'text', text: marker },
          { type: 'image', source: { type: 'base64', media_type: 'image/png', data: png } },
          { type: 'image', source: { type: 'url', url: 'https://example.com/cat.jpg' } },
        ],
      },
    ]);
  });

  it('maps tools and every tool_choice, with parallel_tool_calls=false as disable_parallel_tool_use', async () => {
    const cases: Array<[string, unknown, boolean | undefined, unknown]> = [
      ['auto', 'auto', undefined, { type: 'auto' }],
      ['none', 'none', undefined, { type: 'none' }],
      ['required', 'required', undefined, { type: 'any' }],
      ['named', { type: 'function', function: { name: 'get_time' } }, undefined, { type: 'tool', name: 'get_time' }],
      ['serial', undefined, false, { type: 'auto', disable_parallel_tool_use: true }],
      ['required-serial', 'required', false, { type: 'any', disable_parallel_tool_use: true }],
    ];
    for (const [label, toolChoice, parallel, expected] of cases) {
      const marker = `tool-choice-${label}`;
      await gateway.client.chat.completions.create({
        model: 'claude',
        messages: user(marker),
        tools: weatherTools(['get_weather', 'get_time']),
        ...(toolChoice !== undefined ? { tool_choice: toolChoice as 'auto' } : {}),
        ...(parallel !== undefined ? { parallel_tool_calls: parallel } : {}),
      });
      const body = upstreamBody(marker);
      assert.deepEqual(body.tool_choice, expected, label);
      assert.deepEqual(body.tools, [
        { name: 'get_weather', description: 'Tool get_weather', input_schema: { type: 'object', properties: { city: { type: 'string' } } } },
        { name: 'get_time', description: 'Tool get_time', input_schema: { type: 'object', properties: { city: { type: 'string' } } } },
      ]);
    }
  });

  it('maps stop, temperature, top_p, max_completion_tokens and user', async () => {
    const marker = 'sampling-1';
    await gateway.client.chat.completions.create({
      model: 'claude',
      messages: user(marker),
      stop: ['###', 'END'],
      temperature: 0.7,
      top_p: 0.9,
      max_completion_tokens: 321,
      user: 'user-42',
    });
    const body = upstreamBody(marker);
    assert.deepEqual(body.stop_sequences, ['###', 'END']);
    assert.equal(body.temperature, 0.7);
    assert.equal(body.top_p, 0.9);
    assert.equal(body.max_tokens, 321);
    assert.deepEqual(body.metadata, { user_id: 'user-42' });
    assert.equal('stop' in body || 'user' in body || 'max_completion_tokens' in body, false);
  });

  it("applies the target's params in Anthropic's names, passing unknown ones (top_k) through", async () => {
    const marker = 'params-1';
    await gateway.client.chat.completions.create({ model: 'claude-tuned', messages: user(marker), temperature: 0.9 });
    const body = upstreamBody(marker);
    assert.equal(body.temperature, 0.3);
    assert.equal(body.top_k, 40);
    assert.equal(body.max_tokens, 777);
    assert.deepEqual(body.stop_sequences, ['END']);
  });

  it('maps reasoning_effort to extended thinking with a budget on top of the default max_tokens', async () => {
    const marker = 'reasoning-effort-1';
    await gateway.client.chat.completions.create({ model: 'claude', messages: user(marker), reasoning_effort: 'low' });
    const body = upstreamBody(marker);
    assert.deepEqual(body.thinking, { type: 'enabled', budget_tokens: 1024 });
    assert.equal(body.max_tokens, DEFAULT_MAX_TOKENS + 1024);
  });

  it('shows thinking to OpenAI clients as reasoning_content, also without streaming', async () => {
    const answer = await gateway.client.chat.completions.create({ model: 'claude', messages: user('openai-thinking-1 [fake thinking=1]') });
    const message = answer.choices[0]?.message as { reasoning_content?: string } | undefined;
    assert.equal(message?.reasoning_content, FAKE_THINKING);
  });

  it('refuses n > 1 and penalties with a 400 unsupported_parameter, without calling the upstream', async () => {
    for (const [param, extra] of [
      ['n', { n: 2 }],
      ['presence_penalty', { presence_penalty: 0.5 }],
      ['frequency_penalty', { frequency_penalty: 0.5 }],
    ] as const) {
      const marker = `unsupported-${param}`;
      const error = await apiError(gateway.client.chat.completions.create({ model: 'claude', messages: user(marker), ...extra }));
      assert.equal(error.status, 400);
      assert.equal(error.code, 'unsupported_parameter');
      assert.equal(error.param, param);
      assert.equal(upstreamRequests(marker).length, 0);
    }
  });
});

describe('anthropic provider: response_format as a forced tool', { timeout: 20_000 }, () => {
  const schema = { type: 'object', properties: { answer: { type: 'string' } }, required: ['answer'] };

  it('json_schema: forces a tool with that schema and returns its input as the JSON answer', async () => {
    const marker = 'json-schema-1';
    const data = await gateway.client.chat.completions.create({
      model: 'claude',
      messages: user(marker),
      response_format: { type: 'json_schema', json_schema: { name: 'final_answer', schema, description: 'The answer.' } },
    });
    const choice = data.choices[0];
    assert.ok(choice);
    assert.deepEqual(JSON.parse(choice.message.content ?? ''), FAKE_FORCED_INPUT);
    assert.equal(choice.finish_reason, 'stop');
    assert.equal(choice.message.tool_calls, undefined);
    const body = upstreamBody(marker);
    assert.deepEqual(body.tools, [{ name: 'final_answer', description: 'The answer.', input_schema: schema }]);
    assert.deepEqual(body.tool_choice, { type: 'tool', name: 'final_answer', disable_parallel_tool_use: true });
  });

  it('json_object: forces a tool taking any object; streamed, its input arrives as text', async () => {
    const marker = 'json-object-stream-1';
    const result = await collectStream({ messages: user(marker), response_format: { type: 'json_object' } });
    assert.equal(result.error, undefined);
    assert.deepEqual(JSON.parse(result.text), FAKE_FORCED_INPUT);
    assert.equal(result.finish, 'stop');
    assert.ok(result.chunks.every((chunk) => chunk.choices[0]?.delta.tool_calls === undefined), 'no tool call is shown');
    const body = upstreamBody(marker);
    assert.deepEqual((body.tools as Array<{ name: string; input_schema: unknown }>).map((tool) => [tool.name, tool.input_schema]), [['json_response', { type: 'object' }]]);
  });

  it('refuses a schema that is not an object, and response_format with reasoning_effort', async () => {
    const notObject = await apiError(
      gateway.client.chat.completions.create({
        model: 'claude',
        messages: user('json-array-1'),
        response_format: { type: 'json_schema', json_schema: { name: 'list', schema: { type: 'array', items: { type: 'string' } } } },
      }),
    );
    assert.equal(notObject.status, 400);
    assert.equal(notObject.param, 'response_format.json_schema.schema');
    const withThinking = await apiError(
      gateway.client.chat.completions.create({ model: 'claude', messages: user('json-thinking-1'), reasoning_effort: 'high', response_format: { type: 'json_object' } }),
    );
    assert.equal(withThinking.status, 400);
    assert.equal(withThinking.param, 'response_format');
    assert.equal(upstreamRequests('json-array-1').length + upstreamRequests('json-thinking-1').length, 0);
  });

  it("refuses response_format together with the client's own tools", async () => {
    const marker = 'json-with-tools-1';
    const error = await apiError(
      gateway.client.chat.completions.create({ model: 'claude', messages: user(marker), tools: weatherTools(['f']), response_format: { type: 'json_object' } }),
    );
    assert.equal(error.status, 400);
    assert.equal(error.code, 'unsupported_parameter');
    assert.equal(error.param, 'response_format');
    assert.equal(upstreamRequests(marker).length, 0);
  });
});

describe('anthropic provider: answers', { timeout: 20_000 }, () => {
  it('returns one tool call', async () => {
    const marker = 'one-tool-1';
    const data = await gateway.client.chat.completions.create({ model: 'claude', messages: user(`${marker} [fake tool_calls=1]`), tools: weatherTools(['get_weather']) });
    const choice = data.choices[0];
    assert.ok(choice);
    assert.equal(choice.finish_reason, 'tool_calls');
    assert.equal(choice.message.content, null);
    const call = choice.message.tool_calls?.[0];
    assert.ok(call && call.type === 'function');
    assert.equal(call.id, fakeToolId(0));
    assert.equal(call.function.name, 'get_weather');
    assert.deepEqual(JSON.parse(call.function.arguments), fakeToolInput(0, 'get_weather'));
    assert.equal(data.usage?.completion_tokens, fakeOutputTokens({ textPieces: 0, toolCalls: 1 }));
  });

  it('returns parallel tool calls after a preamble text', async () => {
    const marker = 'parallel-tools-1';
    const names = ['get_weather', 'get_time'];
    const data = await gateway.client.chat.completions.create({ model: 'claude', messages: user(`${marker} [fake tool_calls=3 preamble=1]`), tools: weatherTools(names) });
    const choice = data.choices[0];
    assert.ok(choice);
    assert.equal(choice.message.content, FAKE_PREAMBLE);
    assert.equal(choice.finish_reason, 'tool_calls');
    const calls = (choice.message.tool_calls ?? []).map((call) => (call.type === 'function' ? [call.id, call.function.name, JSON.parse(call.function.arguments)] : []));
    assert.deepEqual(
      calls,
      [0, 1, 2].map((i) => [fakeToolId(i), names[i % 2], fakeToolInput(i, names[i % 2] as string)]),
    );
  });

  it('maps every stop reason', async () => {
    const cases = [
      ['end_turn', 'stop'],
      ['max_tokens', 'length'],
      ['stop_sequence', 'stop'],
      ['refusal', 'content_filter'],
      ['pause_turn', 'stop'],
    ] as const;
    for (const [stop, expected] of cases) {
      const data = await gateway.client.chat.completions.create({ model: 'claude', messages: user(`stop-${stop} [fake stop=${stop}]`), stop: ['###'] });
      assert.equal(data.choices[0]?.finish_reason, expected, stop);
      const streamed = await collectStream({ messages: user(`stop-stream-${stop} [fake stop=${stop}]`), stop: ['###'] });
      assert.equal(streamed.finish, expected, `${stop} (streamed)`);
    }
  });

  it('keeps thinking out of the answer text and exposes it as canonical reasoning', async () => {
    const marker = 'thinking-plain-1';
    const data = await gateway.client.chat.completions.create({ model: 'claude', messages: user(`${marker} [fake thinking=1 redacted=1]`) });
    assert.equal(data.choices[0]?.message.content, FAKE_REPLY);

    const outcome = await directAdapter().chat(canonical(`thinking-direct [fake thinking=1 redacted=1]`), { providerName: 'direct', model: UPSTREAM_MODEL, params: undefined }, attemptContext());
    assert.equal(outcome.kind, 'response');
    if (outcome.kind !== 'response') return;
    const choice = outcome.response().choices[0];
    assert.deepEqual(choice?.reasoning, [
      { text: FAKE_THINKING, signature: FAKE_SIGNATURE },
      { text: '', redacted: FAKE_REDACTED },
    ]);
    assert.equal(choice?.content, FAKE_REPLY);
    assert.equal(outcome.usage.outputTokens, fakeOutputTokens({ textPieces: fakeTextPieces().length, thinking: true }));
    assert.equal(outcome.usage.reasoningTokens, FAKE_USAGE.thinkingTokens, 'thinking tokens from output_tokens_details');
  });

  it('reports stop sequences on the canonical answer', async () => {
    const outcome = await directAdapter().chat(
      canonical('stop-seq-direct [fake stop=stop_sequence]', { stop: ['</answer>'] }),
      { providerName: 'direct', model: UPSTREAM_MODEL, params: undefined },
      attemptContext(),
    );
    assert.ok(outcome.kind === 'response');
    assert.equal(outcome.response().choices[0]?.stopSequence, '</answer>');
    assert.equal(outcome.usage.cacheCreationTokens, FAKE_USAGE.cacheCreationTokens);
    assert.equal(outcome.usage.cachedInputTokens, FAKE_USAGE.cacheReadTokens);
    assert.equal(outcome.usage.inputTokens, PROMPT_TOKENS);
  });
});

describe('anthropic provider: streaming', { timeout: 20_000 }, () => {
  it('streams text and ends with the mapped usage', async () => {
    const marker = 'stream-text-1';
    const result = await collectStream({ messages: user(`${marker} [fake chunks=9]`), stream_options: { include_usage: true } });
    assert.equal(result.error, undefined);
    assert.equal(result.text, fakeTextPieces({ chunks: 9, utf8: false }).join(''));
    assert.equal(result.finish, 'stop');
    assert.equal(result.chunks[0]?.choices[0]?.delta.role, 'assistant');
    assert.equal(result.chunks[0]?.model, UPSTREAM_MODEL);
    const last = result.chunks.at(-1);
    assert.deepEqual(last?.choices, []);
    assert.equal(last?.usage?.prompt_tokens, PROMPT_TOKENS);
    assert.equal(last?.usage?.completion_tokens, 9);
    assert.equal(last?.usage?.prompt_tokens_details?.cached_tokens, FAKE_USAGE.cacheReadTokens);
    const body = upstreamBody(marker);
    assert.equal(body.stream, true);
    assert.equal(body.stream_options, undefined, 'OpenAI-only fields do not go upstream');
  });

  it('streams parallel tool calls whose argument fragments reassemble per call, in order', async () => {
    const marker = 'stream-tools-1';
    const names = ['get_weather', 'get_time', 'lookup_order'];
    const result = await collectStream({ messages: user(`${marker} [fake tool_calls=4 arg_fragment=5 preamble=1]`), tools: weatherTools(names) });
    assert.equal(result.error, undefined);
    assert.equal(result.text, FAKE_PREAMBLE);
    assert.equal(result.finish, 'tool_calls');
    const calls = new Map<number, { id: string; name: string; arguments: string; deltas: number }>();
    const order: number[] = [];
    for (const chunk of result.chunks) {
      for (const delta of chunk.choices[0]?.delta.tool_calls ?? []) {
        order.push(delta.index);
        let call = calls.get(delta.index);
        if (!call) {
          assert.ok(delta.id, 'the first delta of a call carries its id');
          call = { id: delta.id, name: delta.function?.name ?? '', arguments: '', deltas: 0 };
          calls.set(delta.index, call);
        } else {
          assert.equal(delta.id, undefined);
        }
        call.arguments += delta.function?.arguments ?? '';
        call.deltas += 1;
      }
    }
    assert.deepEqual([...new Set(order)], [0, 1, 2, 3]);
    assert.deepEqual(order, [...order].sort((a, b) => a - b), 'calls stream one after the other');
    for (const [index, call] of calls) {
      const name = names[index % names.length] as string;
      assert.equal(call.id, fakeToolId(index));
      assert.equal(call.name, name);
      assert.equal(call.arguments, JSON.stringify(fakeToolInput(index, name)));
      assert.ok(call.deltas > 3, 'arguments really came in fragments');
    }
  });

  it('streams thinking as reasoning and the answer as content, with reasoning tokens in the usage', async () => {
    const result = await collectStream({ messages: user('stream-thinking-1 [fake thinking=1 redacted=1]'), stream_options: { include_usage: true } });
    assert.equal(result.error, undefined);
    assert.equal(result.reasoning, FAKE_THINKING);
    assert.equal(result.text, FAKE_REPLY);
    assert.equal(result.chunks.at(-1)?.usage?.completion_tokens_details?.reasoning_tokens, FAKE_USAGE.thinkingTokens);
  });

  it('streams thinking and signatures as canonical reasoning events', async () => {
    const outcome = await directAdapter().chat(
      canonical('stream-thinking-direct [fake thinking=1]', { stream: true }),
      { providerName: 'direct', model: UPSTREAM_MODEL, params: undefined },
      attemptContext(),
    );
    assert.ok(outcome.kind === 'stream');
    const { events, error } = await drain(outcome.events);
    assert.equal(error, undefined);
    const reasoning = events.filter((event) => event.type === 'reasoning');
    assert.equal(reasoning.map((event) => event.text).join(''), FAKE_THINKING);
    assert.deepEqual(reasoning.at(-1), { type: 'reasoning', index: 0, text: '', signature: FAKE_SIGNATURE });
    assert.deepEqual(events.at(-1), {
      type: 'usage',
      usage: {
        inputTokens: PROMPT_TOKENS,
        outputTokens: fakeOutputTokens({ textPieces: fakeTextPieces().length, thinking: true }),
        cachedInputTokens: FAKE_USAGE.cacheReadTokens,
        cacheCreationTokens: FAKE_USAGE.cacheCreationTokens,
        reasoningTokens: FAKE_USAGE.thinkingTokens,
      },
    });
  });

  for (const [label, directive] of [
    ['CRLF line ends', 'crlf=1'],
    ['a ping after every event', 'pings=1'],
    ['UTF-8 characters split across writes', 'utf8=1'],
    ['all of them at once', 'crlf=1 pings=1 utf8=1'],
  ] as const) {
    it(`parses an awkward stream: ${label}`, async () => {
      const utf8 = directive.includes('utf8');
      const result = await collectStream({ messages: user(`awkward ${label} [fake ${directive}]`), stream_options: { include_usage: true } });
      assert.equal(result.error, undefined);
      assert.equal(result.text, utf8 ? FAKE_UTF8_REPLY : FAKE_REPLY);
      assert.equal(result.finish, 'stop');
      assert.equal(result.chunks.at(-1)?.usage?.prompt_tokens, PROMPT_TOKENS);
    });
  }

  it('gives the client the text sent, usage, then a terminal error when an error event arrives mid-stream', async () => {
    // Events: message_start, ping, content_block_start, then deltas: after 6 events, 3 deltas went out.
    const result = await collectStream({ messages: user('mid-stream-error [fake chunks=10 error_after=6]'), stream_options: { include_usage: true } });
    assert.equal(result.text, fakeTextPieces({ chunks: 10, utf8: false }).slice(0, 3).join(''));
    assert.ok(result.error, 'the stream ended with an error');
    assert.equal(bbCode(result.error), 'BB_UPSTREAM_OVERLOADED');
    const usage = result.chunks.at(-1)?.usage;
    assert.equal(usage?.prompt_tokens, PROMPT_TOKENS, 'usage still reported, input from message_start');
    assert.ok((usage?.completion_tokens ?? 0) >= 3, 'output estimated from what was generated');
  });

  it('gives the client a terminal error when the stream is cut off before message_stop', async () => {
    const result = await collectStream({ messages: user('cut-off [fake chunks=10 cut_after=6]') });
    assert.equal(result.text, fakeTextPieces({ chunks: 10, utf8: false }).slice(0, 3).join(''));
    assert.ok(result.error);
    assert.equal(bbCode(result.error), 'BB_UPSTREAM_CONNECT');
  });

  it('gives the client a terminal error when the upstream drops the connection', async () => {
    const result = await collectStream({ messages: user('disconnect [fake chunks=10 disconnect_after=6]') });
    assert.equal(result.text, fakeTextPieces({ chunks: 10, utf8: false }).slice(0, 3).join(''));
    assert.ok(result.error);
    assert.equal(bbCode(result.error), 'BB_UPSTREAM_CONNECT');
  });

  it('ends a failed stream with a usage event before the error (adapter level)', async () => {
    const outcome = await directAdapter().chat(
      canonical('usage-on-error [fake chunks=10 error_after=7]', { stream: true }),
      { providerName: 'direct', model: UPSTREAM_MODEL, params: undefined },
      attemptContext(),
    );
    assert.ok(outcome.kind === 'stream');
    const { events, error } = await drain(outcome.events);
    assert.ok(error instanceof GatewayError);
    assert.equal(error.code, 'BB_UPSTREAM_OVERLOADED');
    assert.equal(error.retryable, true);
    const last = events.at(-1);
    assert.ok(last?.type === 'usage');
    assert.equal(last.usage.inputTokens, PROMPT_TOKENS);
    assert.equal(last.usage.cachedInputTokens, FAKE_USAGE.cacheReadTokens);
    assert.equal(last.usage.estimated, true);
    assert.ok(last.usage.outputTokens >= 4);
    assert.equal(events.filter((event) => event.type === 'text').length, 4);
  });
});

describe('anthropic provider: upstream errors', { timeout: 20_000 }, () => {
  const create = (marker: string, model = 'claude') => gateway.client.chat.completions.create({ model, messages: user(marker) });

  it('passes a 400 invalid_request_error on with its message', async () => {
    const error = await apiError(create('err-400 [fake error=invalid_request]'));
    assert.equal(error.status, 400);
    assert.equal(bbCode(error), 'BB_UPSTREAM_BAD_REQUEST');
    assert.match(error.message, /temperature: range: 0\.\.1/);
  });

  it('maps "prompt is too long" to context_length_exceeded', async () => {
    const error = await apiError(create('err-ctx [fake error=prompt_too_long]'));
    assert.equal(error.status, 400);
    assert.equal(error.code, 'context_length_exceeded');
    assert.equal(bbCode(error), 'BB_CONTEXT_LENGTH_EXCEEDED');
    assert.match(error.message, /prompt is too long/);
  });

  it('maps not_found_error to model_not_found', async () => {
    const error = await apiError(create('err-404 [fake error=not_found]'));
    assert.equal(error.status, 404);
    assert.equal(error.code, 'model_not_found');
  });

  it('maps request_too_large to 413', async () => {
    const error = await apiError(create('err-413 [fake error=too_large]'));
    assert.equal(error.status, 413);
    assert.equal(bbCode(error), 'BB_BODY_TOO_LARGE');
  });

  it('passes a 429 on with its Retry-After', async () => {
    const error = await apiError(create('err-429 [fake error=rate_limit retry_after=9]'));
    assert.equal(error.status, 429);
    assert.equal(error.code, 'rate_limit_exceeded');
    assert.equal(error.headers?.get('retry-after'), '9');
  });

  for (const [kind, status] of [
    ['api_error', 500],
    ['overloaded', 529],
  ] as const) {
    it(`maps ${kind} (${status}) to a retryable 503 BB_UPSTREAM_OVERLOADED and tries the next target`, async () => {
      const marker = `err-${kind}`;
      const error = await apiError(create(`${marker} [fake error=${kind}]`, 'claude-twice'));
      assert.equal(error.status, 503);
      assert.equal(bbCode(error), 'BB_UPSTREAM_OVERLOADED');
      assert.deepEqual(
        upstreamRequests(marker).map((request) => (request.body as { model: string }).model),
        [UPSTREAM_MODEL, 'claude-haiku-4-5'],
        'retryable: the second target was tried',
      );
    });
  }

  it('does not try the next target after a non-retryable 400', async () => {
    const marker = 'err-400-once';
    await apiError(create(`${marker} [fake error=invalid_request]`, 'claude-twice'));
    assert.equal(upstreamRequests(marker).length, 1);
  });

  it('maps permission_error (403) to a 502 BB_UPSTREAM_AUTH without the upstream text', async () => {
    const error = await apiError(create('err-403 [fake error=permission]'));
    assert.equal(error.status, 502);
    assert.equal(bbCode(error), 'BB_UPSTREAM_AUTH');
    assert.doesNotMatch(error.message, /permission to use/);
  });

  it("maps a refused key (401) to a 502 that shows no part of the gateway's upstream key", async () => {
    const marker = 'err-401-wrong-key';
    const response = await fetch(`${gateway.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TEST_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'claude-wrong-key', messages: user(marker) }),
    });
    const text = await response.text();
    assert.equal(response.status, 502);
    assert.equal((JSON.parse(text) as { error: { bb_code: string } }).error.bb_code, 'BB_UPSTREAM_AUTH');
    assert.equal(upstreamRequest(marker).headers['x-api-key'], WRONG_KEY);
    assertNoSecrets(text + JSON.stringify([...response.headers]));
  });

  it('redacts the key and configured header values from upstream messages passed on', async () => {
    const marker = 'err-leaky';
    const response = await fetch(`${gateway.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TEST_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'claude', messages: user(`${marker} [fake error=leaky]`) }),
    });
    const text = await response.text();
    assert.equal(response.status, 400);
    assert.match(text, /\[REDACTED\]/, 'the upstream message is passed on, redacted');
    assertNoSecrets(text + JSON.stringify([...response.headers]));
  });

  it('streams: an error answer before the stream began is a normal error response', async () => {
    const error = await apiError(gateway.client.chat.completions.create({ model: 'claude', messages: user('err-stream-529 [fake error=overloaded]'), stream: true }));
    assert.equal(error.status, 503);
    assert.equal(bbCode(error), 'BB_UPSTREAM_OVERLOADED');
  });
});

function assertNoSecrets(visible: string): void {
  for (const secret of [WRONG_KEY, fake.apiKey, PROXY_TOKEN]) {
    for (let at = 0; at + 8 <= secret.length; at += 1) {
      const fragment = secret.slice(at, at + 8);
      assert.ok(!visible.includes(fragment), `secret fragment ${JSON.stringify(fragment)} leaked`);
    }
  }
}

describe('anthropic provider: passthrough for Anthropic-dialect clients (adapter level)', { timeout: 20_000 }, () => {
  const target = { providerName: 'direct', model: UPSTREAM_MODEL, params: { temperature: 0.1, stop: 'HALT' } };

  function sourceRequest(body: Record<string, unknown>, stream: boolean): CanonicalRequest {
    return canonical('ignored: the source body is what goes upstream', { stream, source: { dialect: ANTHROPIC_MESSAGES_DIALECT, body } });
  }

  it('forwards the client body with the target model and params, and returns the upstream body raw', async () => {
    const marker = 'passthrough-plain';
    const clientBody = {
      model: 'claude-public-name',
      system: [{ type: 'text', text: 'Cached system prompt.', cache_control: { type: 'ephemeral' } }],
      messages: [{ role: 'user', content: [{ type: 'text', text: marker, cache_control: { type: 'ephemeral' } }] }],
      top_k: 5,
      metadata: { user_id: 'u-1' },
      future_field: { kept: true },
    };
    const adapter = directAdapter();
    assert.equal(adapter.dialect, ANTHROPIC_MESSAGES_DIALECT);
    const outcome = await adapter.chat(sourceRequest(clientBody, false), target, attemptContext({ 'anthropic-beta': 'client-beta-2' }));
    const upstream = upstreamRequest(marker);
    assert.deepEqual(upstream.body, { ...clientBody, model: UPSTREAM_MODEL, temperature: 0.1, stop_sequences: ['HALT'], max_tokens: DEFAULT_MAX_TOKENS });
    assert.equal(upstream.headers['anthropic-beta'], 'configured-beta-1,client-beta-2');
    assert.ok(outcome.kind === 'response');
    assert.equal(outcome.raw?.dialect, ANTHROPIC_MESSAGES_DIALECT);
    const raw = JSON.parse(outcome.raw?.body ?? '{}') as Record<string, unknown>;
    assert.equal(raw.type, 'message');
    assert.equal(raw.model, UPSTREAM_MODEL);
    assert.deepEqual(raw.content, [{ type: 'text', text: FAKE_REPLY, citations: null }]);
    assert.deepEqual(outcome.usage, {
      inputTokens: PROMPT_TOKENS,
      outputTokens: fakeOutputTokens({ textPieces: fakeTextPieces().length }),
      cachedInputTokens: FAKE_USAGE.cacheReadTokens,
      cacheCreationTokens: FAKE_USAGE.cacheCreationTokens,
    });
    assert.equal(outcome.response().choices[0]?.content, FAKE_REPLY, 'the canonical form is still available');
  });

  it("keeps the client's own max_tokens", async () => {
    const marker = 'passthrough-max-tokens';
    await directAdapter().chat(sourceRequest({ model: 'x', max_tokens: 55, messages: [{ role: 'user', content: marker }] }, false), { ...target, params: undefined }, attemptContext());
    assert.equal(upstreamBody(marker).max_tokens, 55);
  });

  it('forwards every upstream SSE event raw, in order, then the usage', async () => {
    const marker = 'passthrough-stream';
    const outcome = await directAdapter().chat(
      sourceRequest({ model: 'x', messages: [{ role: 'user', content: `${marker} [fake tool_calls=2 preamble=1 thinking=1 crlf=1]` }], tools: [{ name: 't', input_schema: { type: 'object' } }] }, true),
      target,
      attemptContext(),
    );
    assert.ok(outcome.kind === 'stream');
    const { events, error } = await drain(outcome.events);
    assert.equal(error, undefined);
    assert.equal(upstreamBody(marker).stream, true);
    const raw = events.filter((event) => event.type === 'raw');
    assert.equal(raw.length, events.length - 1, 'only raw events, then the usage');
    const names = raw.map((event) => event.event);
    assert.equal(names[0], 'message_start');
    assert.equal(names.at(-1), 'message_stop');
    assert.ok(names.includes('ping') && names.includes('content_block_delta') && names.includes('message_delta'));
    for (const event of raw) {
      assert.equal(event.dialect, ANTHROPIC_MESSAGES_DIALECT);
      assert.equal((JSON.parse(event.data) as { type: string }).type, event.event, 'the data is the upstream JSON as sent');
    }
    const deltas = raw.map((event) => JSON.parse(event.data) as { delta?: { partial_json?: string } });
    const argumentsText = deltas.map((event) => event.delta?.partial_json ?? '').join('');
    assert.equal(argumentsText, JSON.stringify(fakeToolInput(0, 't')) + JSON.stringify(fakeToolInput(1, 't')));
    assert.deepEqual(events.at(-1), {
      type: 'usage',
      usage: {
        inputTokens: PROMPT_TOKENS,
        outputTokens: fakeOutputTokens({ textPieces: 1, toolCalls: 2, thinking: true }),
        cachedInputTokens: FAKE_USAGE.cacheReadTokens,
        cacheCreationTokens: FAKE_USAGE.cacheCreationTokens,
        reasoningTokens: FAKE_USAGE.thinkingTokens,
      },
    });
  });

  it('does not forward an error event raw: it ends the stream as a GatewayError after the usage', async () => {
    const outcome = await directAdapter().chat(
      sourceRequest({ model: 'x', messages: [{ role: 'user', content: 'passthrough-error [fake chunks=5 error_after=5]' }] }, true),
      target,
      attemptContext(),
    );
    assert.ok(outcome.kind === 'stream');
    const { events, error } = await drain(outcome.events);
    assert.ok(error instanceof GatewayError);
    assert.equal(error.code, 'BB_UPSTREAM_OVERLOADED');
    assert.deepEqual(
      events.filter((event) => event.type === 'raw').map((event) => event.event),
      ['message_start', 'ping', 'content_block_start', 'content_block_delta', 'content_block_delta'],
    );
    assert.equal(events.at(-1)?.type, 'usage');
  });

  it('translates a canonical request from another dialect instead of forwarding its body', async () => {
    const marker = 'translated-direct';
    await directAdapter().chat(
      canonical(marker, { source: { dialect: 'openai-chat', body: { model: 'claude', messages: [{ role: 'user', content: marker }], logprobs: true } } }),
      { ...target, params: undefined },
      attemptContext(),
    );
    assert.deepEqual(upstreamBody(marker), { model: UPSTREAM_MODEL, messages: [{ role: 'user', content: marker }], max_tokens: DEFAULT_MAX_TOKENS });
  });
});
