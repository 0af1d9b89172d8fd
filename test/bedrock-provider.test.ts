import assert from 'node:assert/strict';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { after, before, describe, it } from 'node:test';
import { EventStreamCodec } from '@smithy/eventstream-codec';
import { fromUtf8, toUtf8 } from '@smithy/util-utf8';
import { APIError } from 'openai';
import type { ChatCompletionChunk, ChatCompletionMessageParam } from 'openai/resources/chat/completions';
import type { CanonicalRequest } from '../src/core/canonical.js';
import { GatewayError } from '../src/core/errors.js';
import type { RequestRecord } from '../src/core/request-record.js';
import { EventStreamDecoder, EventStreamError } from '../src/providers/bedrock/event-stream.js';
import { encodeModelId } from '../src/providers/bedrock/index.js';
import type { AttemptContext, ProviderAdapter } from '../src/providers/provider-adapter.js';
import {
  FAKE_GUARDRAIL_TEXT,
  FAKE_REASONING,
  FAKE_REPLY,
  FAKE_SIGNATURE,
  FAKE_TOOL_PREAMBLE,
  FAKE_USAGE,
  fakeTextPieces,
  fakeToolInput,
  fakeToolUseId,
  startFakeBedrock,
  type FakeBedrock,
  type RecordedRequest,
} from './fakes/bedrock-upstream.js';
import { apiError, bbCode } from './helpers/api-error.js';
import { ONE_ATTEMPT_PER_TARGET, startTestGateway, TEST_KEY, type TestGateway } from './helpers/gateway.js';
import { waitFor } from './helpers/wait.js';

const MODEL_ID = 'anthropic.claude-3-5-sonnet-20240620-v1:0';
const WRONG_SECRET = 'wrongSecret/Key+ZYXWVUTSRQPONMLKJIHGFEDCBA9876';
/** What Bedrock reports as prompt tokens, cache reads and writes included. */
const PROMPT_TOKENS = FAKE_USAGE.inputTokens + FAKE_USAGE.cacheReadInputTokens + FAKE_USAGE.cacheWriteInputTokens;

let fake: FakeBedrock;
let gateway: TestGateway;
const settled: RequestRecord[] = [];
const onSettled = (message: unknown) => settled.push(message as RequestRecord);

function config(): string {
  const provider = (secret: string, keyId = '${env:BB_AWS_KEY_ID}') => `
    type: bedrock
    region: us-east-1
    access_key_id: ${keyId}
    secret_access_key: \${env:${secret}}
    session_token: \${env:BB_AWS_SESSION_TOKEN}
    endpoint: ${fake.url}
    default_max_tokens: 777`;
  return `
${ONE_ATTEMPT_PER_TARGET}
providers:
  bedrock:${provider('BB_AWS_SECRET')}
  bedrock-wrong-secret:${provider('BB_AWS_WRONG_SECRET')}
  bedrock-unknown-key:${provider('BB_AWS_SECRET', 'AKIAUNKNOWNKEY000000')}
models:
  claude:
    targets: [{ provider: bedrock, model: ${MODEL_ID} }]
  claude-tuned:
    targets:
      - provider: bedrock
        model: ${MODEL_ID}
        params: { temperature: 0.25, top_p: 0.5, max_tokens: 99, stop: [END], additionalModelRequestFields: { top_k: 40 } }
  claude-twice:
    targets:
      - { provider: bedrock, model: ${MODEL_ID} }
      - { provider: bedrock, model: anthropic.claude-3-haiku-20240307-v1:0 }
  claude-wrong-secret:
    targets: [{ provider: bedrock-wrong-secret, model: ${MODEL_ID} }]
  claude-unknown-key:
    targets: [{ provider: bedrock-unknown-key, model: ${MODEL_ID} }]
`;
}

before(async () => {
  fake = await startFakeBedrock();
  subscribe('breakerbox:request:settled', onSettled);
  gateway = await startTestGateway(config(), {
    BB_AWS_KEY_ID: fake.credentials.accessKeyId,
    BB_AWS_SECRET: fake.credentials.secretAccessKey,
    BB_AWS_WRONG_SECRET: WRONG_SECRET,
    BB_AWS_SESSION_TOKEN: fake.credentials.sessionToken ?? '',
  });
});

after(async () => {
  unsubscribe('breakerbox:request:settled', onSettled);
  await gateway?.close();
  await fake?.close();
});

const user = (content: string): ChatCompletionMessageParam[] => [{ role: 'user', content }];

/** The requests the fake received whose body mentions `marker` (each test uses its own). */
function upstreamRequests(marker: string): RecordedRequest[] {
  return fake.requests.filter((request) => request.rawBody.includes(marker));
}

function upstreamRequest(marker: string): RecordedRequest {
  const found = upstreamRequests(marker);
  assert.equal(found.length, 1, `expected exactly one upstream request for ${marker}, got ${found.length}`);
  return found[0] as RecordedRequest;
}

function upstreamBody(marker: string): Record<string, unknown> {
  return upstreamRequest(marker).body as Record<string, unknown>;
}

async function settledRecord(requestId: string | null): Promise<RequestRecord> {
  assert.ok(requestId);
  await waitFor(() => settled.some((record) => record.requestId === requestId));
  return settled.find((record) => record.requestId === requestId) as RequestRecord;
}

/** Reads a stream to the end; an error event mid-stream is returned with what came before it. */
async function readStream(marker: string, extra: Record<string, unknown> = {}, model = 'claude') {
  const { data: stream, response } = await gateway.client.chat.completions
    .create({ model, messages: user(marker), stream: true, stream_options: { include_usage: true }, ...extra })
    .withResponse();
  const chunks: ChatCompletionChunk[] = [];
  let error: APIError | undefined;
  try {
    for await (const chunk of stream) chunks.push(chunk);
  } catch (thrown) {
    assert.ok(thrown instanceof APIError, `expected an APIError, got ${String(thrown)}`);
    error = thrown;
  }
  const text = chunks.map((chunk) => chunk.choices[0]?.delta.content ?? '').join('');
  const finish = chunks.map((chunk) => chunk.choices[0]?.finish_reason).find((reason) => reason);
  return { chunks, text, finish, error, requestId: response.headers.get('x-request-id') };
}

const weatherTools = ['get_weather', 'get_time', 'lookup_order'].map((name) => ({
  type: 'function' as const,
  function: { name, description: `The ${name} tool`, parameters: { type: 'object', properties: { city: { type: 'string' } } } },
}));

describe('bedrock provider: non-streaming chat', { timeout: 20_000 }, () => {
  it('answers a signed Converse call with text and usage, the model id encoded in the path', async () => {
    const marker = 'plain-converse-1';
    const { data, response } = await gateway.client.chat.completions.create({ model: 'claude', messages: user(marker), temperature: 0.7 }).withResponse();
    const choice = data.choices[0];
    assert.ok(choice);
    assert.equal(choice.message.content, FAKE_REPLY);
    assert.equal(choice.finish_reason, 'stop');
    assert.equal(data.model, MODEL_ID);
    assert.equal(data.usage?.prompt_tokens, PROMPT_TOKENS);
    assert.equal(data.usage?.completion_tokens, fakeTextPieces().length);
    assert.equal(data.usage?.prompt_tokens_details?.cached_tokens, FAKE_USAGE.cacheReadInputTokens);
    assert.equal(response.headers.get('x-breakerbox-provider'), 'bedrock');

    const upstream = upstreamRequest(marker);
    assert.equal(upstream.authError, undefined, 'the fake verified the SigV4 signature');
    assert.equal(upstream.operation, 'converse');
    assert.equal(upstream.path, '/model/anthropic.claude-3-5-sonnet-20240620-v1%3A0/converse');
    assert.equal(upstream.modelId, MODEL_ID);
    assert.equal(upstream.headers['x-amz-security-token'], fake.credentials.sessionToken);
    assert.match(String(upstream.headers.authorization), /^AWS4-HMAC-SHA256 Credential=AKIAFAKEBEDROCK0TEST\/\d{8}\/us-east-1\/bedrock\/aws4_request, /);
    assert.ok(!JSON.stringify(upstream.headers).includes(TEST_KEY), "the client's gateway key never reaches the upstream");
    const body = upstream.body as Record<string, unknown>;
    assert.deepEqual(body.messages, [{ role: 'user', content: [{ text: marker }] }]);
    assert.deepEqual(body.inferenceConfig, { maxTokens: 777, temperature: 0.7 }, 'default_max_tokens applies');
    assert.equal(body.system, undefined);
    assert.equal(body.toolConfig, undefined);
  });

  it('reports cache reads and writes in the settled usage', async () => {
    const marker = 'usage-cache-1';
    const { response } = await gateway.client.chat.completions.create({ model: 'claude', messages: user(marker) }).withResponse();
    const record = await settledRecord(response.headers.get('x-request-id'));
    assert.deepEqual(record.usage, {
      inputTokens: PROMPT_TOKENS,
      outputTokens: fakeTextPieces().length,
      cachedInputTokens: FAKE_USAGE.cacheReadInputTokens,
      cacheCreationTokens: FAKE_USAGE.cacheWriteInputTokens,
    });
  });

  it('returns one tool call after a text block', async () => {
    const marker = 'one-tool-1';
    const data = await gateway.client.chat.completions.create({ model: 'claude', messages: user(`${marker} [fake tools=1]`), tools: weatherTools });
    const choice = data.choices[0];
    assert.ok(choice);
    assert.equal(choice.finish_reason, 'tool_calls');
    assert.equal(choice.message.content, FAKE_TOOL_PREAMBLE);
    const calls = choice.message.tool_calls ?? [];
    assert.equal(calls.length, 1);
    const call = calls[0];
    assert.ok(call && call.type === 'function');
    assert.equal(call.id, fakeToolUseId(0));
    assert.equal(call.function.name, 'get_weather');
    assert.deepEqual(JSON.parse(call.function.arguments), fakeToolInput(0, 'get_weather'));
  });

  it('returns parallel tool calls in order', async () => {
    const marker = 'parallel-tools-1';
    const data = await gateway.client.chat.completions.create({ model: 'claude', messages: user(`${marker} [fake tools=4]`), tools: weatherTools });
    const calls = (data.choices[0]?.message.tool_calls ?? []).map((call) => (call.type === 'function' ? [call.id, call.function.name, JSON.parse(call.function.arguments)] : []));
    const names = ['get_weather', 'get_time', 'lookup_order', 'get_weather'];
    assert.deepEqual(calls, names.map((name, i) => [fakeToolUseId(i), name, fakeToolInput(i, name)]));
  });

  const stops: Array<[string, string]> = [
    ['end_turn', 'stop'],
    ['stop_sequence', 'stop'],
    ['max_tokens', 'length'],
    ['guardrail_intervened', 'content_filter'],
    ['content_filtered', 'content_filter'],
  ];
  for (const [stop, finish] of stops) {
    it(`maps stopReason ${stop} to finish_reason ${finish}`, async () => {
      const data = await gateway.client.chat.completions.create({ model: 'claude', messages: user(`stop-${stop} [fake stop=${stop}]`) });
      assert.equal(data.choices[0]?.finish_reason, finish);
      if (finish === 'content_filter') assert.equal(data.choices[0]?.message.content, FAKE_GUARDRAIL_TEXT);
    });
  }
});

describe('bedrock provider: request translation', { timeout: 20_000 }, () => {
  it('maps system, roles, tool calls, tool results, images and sampling to Converse', async () => {
    const marker = 'translate-all-1';
    const png = Buffer.from('89504e470d0a1a0a', 'hex').toString('base64');
    const messages: ChatCompletionMessageParam[] = [
      { role: 'system', content: 'You are terse.' },
      { role: 'developer', content: 'Answer in English.' },
      { role: 'user', content: [{ type: 'text', text: `${marker} look` }, { type: 'image_url', image_url: { url: `data:image/png;base64,${png}` } }] },
      {
        role: 'assistant',
        content: 'Checking both.',
        tool_calls: [
          { id: 'call_a', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Oslo"}' } },
          { id: 'call_b', type: 'function', function: { name: 'get_time', arguments: '' } },
        ],
      },
      { role: 'tool', tool_call_id: 'call_a', content: 'Rain, 7 C' },
      { role: 'tool', tool_call_id: 'call_b', content: [{ type: 'text', text: '14:05' }] },
      { role: 'user', content: 'Thanks. And tomorrow?' },
    ];
    await gateway.client.chat.completions.create({
      model: 'claude',
      messages,
      tools: weatherTools,
      tool_choice: 'auto',
      stop: ['###', 'END'],
      temperature: 0.3,
      top_p: 0.9,
      max_completion_tokens: 321,
      metadata: { team: 'search' },
    });
    const body = upstreamBody(marker);
    assert.deepEqual(body.system, [{ text: 'You are terse.' }, { text: 'Answer in English.' }]);
    assert.deepEqual(body.messages, [
      { role: 'user', content: [{ text: `${marker} look` }, { image: { format: 'png', source: { bytes: png } } }] },
      {
        role: 'assistant',
        content: [
          { text: 'Checking both.' },
          { toolUse: { toolUseId: 'call_a', name: 'get_weather', input: { city: 'Oslo' } } },
          { toolUse: { toolUseId: 'call_b', name: 'get_time', input: {} } },
        ],
      },
      {
        role: 'user',
        content: [
          { toolResult: { toolUseId: 'call_a', content: [{ text: 'Rain, 7 C' }] } },
          { toolResult: { toolUseId: 'call_b', content: [{ text: '14:05' }] } },
          { text: 'Thanks. And tomorrow?' },
        ],
      },
    ]);
    assert.deepEqual(body.inferenceConfig, { maxTokens: 321, temperature: 0.3, topP: 0.9, stopSequences: ['###', 'END'] });
    assert.deepEqual(body.toolConfig, {
      tools: weatherTools.map((tool) => ({
        toolSpec: { name: tool.function.name, description: tool.function.description, inputSchema: { json: tool.function.parameters } },
      })),
      toolChoice: { auto: {} },
    });
    assert.deepEqual(body.requestMetadata, { team: 'search' });
  });

  const choices: Array<[string, unknown, unknown]> = [
    ['required', 'required', { any: {} }],
    ['named', { type: 'function', function: { name: 'get_time' } }, { tool: { name: 'get_time' } }],
  ];
  for (const [label, choice, expected] of choices) {
    it(`maps tool_choice ${label}`, async () => {
      const marker = `tool-choice-${label}`;
      await gateway.client.chat.completions.create({ model: 'claude', messages: user(marker), tools: weatherTools, tool_choice: choice as 'required' });
      const toolConfig = upstreamBody(marker).toolConfig as { toolChoice: unknown; tools: unknown[] };
      assert.deepEqual(toolConfig.toolChoice, expected);
      assert.equal(toolConfig.tools.length, 3);
    });
  }

  it('sends no tools at all for tool_choice none', async () => {
    const marker = 'tool-choice-none';
    await gateway.client.chat.completions.create({ model: 'claude', messages: user(marker), tools: weatherTools, tool_choice: 'none' });
    assert.equal(upstreamBody(marker).toolConfig, undefined);
  });

  it("applies the target's params over the client's, Converse fields verbatim", async () => {
    const marker = 'target-params-1';
    await gateway.client.chat.completions.create({ model: 'claude-tuned', messages: user(marker), temperature: 1, top_p: 0.9, max_tokens: 5 });
    const body = upstreamBody(marker);
    assert.deepEqual(body.inferenceConfig, { maxTokens: 99, temperature: 0.25, topP: 0.5, stopSequences: ['END'] });
    assert.deepEqual(body.additionalModelRequestFields, { top_k: 40 });
  });

  it('maps response_format json_schema to outputConfig.textFormat', async () => {
    const marker = 'json-schema-1';
    const schema = { type: 'object', properties: { city: { type: 'string' } }, required: ['city'], additionalProperties: false };
    await gateway.client.chat.completions.create({
      model: 'claude',
      messages: user(marker),
      response_format: { type: 'json_schema', json_schema: { name: 'place', schema, strict: true } },
    });
    const outputConfig = upstreamBody(marker).outputConfig as { textFormat: { type: string; structure: { jsonSchema: { schema: string; name: string } } } };
    assert.equal(outputConfig.textFormat.type, 'json_schema');
    assert.equal(outputConfig.textFormat.structure.jsonSchema.name, 'place');
    assert.deepEqual(JSON.parse(outputConfig.textFormat.structure.jsonSchema.schema), schema);
  });

  const refusals: Array<[string, Record<string, unknown>, string]> = [
    ['an image link', { messages: [{ role: 'user', content: [{ type: 'text', text: 'refuse-link' }, { type: 'image_url', image_url: { url: 'https://example.com/cat.png' } }] }] }, 'messages[0].content[1]'],
    ['a bmp image', { messages: [{ role: 'user', content: [{ type: 'text', text: 'refuse-bmp' }, { type: 'image_url', image_url: { url: 'data:image/bmp;base64,Qk0=' } }] }] }, 'messages[0].content[1]'],
    ['response_format json_object', { messages: user('refuse-json-object'), response_format: { type: 'json_object' } }, 'response_format'],
    ['n=2', { messages: user('refuse-n'), n: 2 }, 'n'],
    ['presence_penalty', { messages: user('refuse-presence'), presence_penalty: 0.5 }, 'presence_penalty'],
  ];
  for (const [label, request, param] of refusals) {
    it(`refuses ${label} with a clear 400 before calling Bedrock`, async () => {
      const before = fake.requests.length;
      const error = await apiError(gateway.client.chat.completions.create({ model: 'claude', ...request } as never));
      assert.equal(error.status, 400);
      assert.equal(error.code, 'unsupported_parameter');
      assert.equal(error.param, param);
      assert.ok(error.message.length > 20, 'the message says what to do');
      assert.equal(fake.requests.length, before, 'nothing reached the upstream');
    });
  }
});

describe('bedrock provider: streaming', { timeout: 30_000 }, () => {
  it('decodes frames split at awkward offsets into text, finish and usage', async () => {
    const marker = 'stream-text-1';
    const result = await readStream(`${marker} [fake chunks=30]`);
    assert.equal(result.error, undefined);
    assert.equal(result.text, fakeTextPieces(30).join(''));
    assert.equal(result.chunks[0]?.choices[0]?.delta.role, 'assistant');
    assert.equal(result.finish, 'stop');
    const last = result.chunks.at(-1);
    assert.deepEqual(last?.choices, []);
    assert.equal(last?.usage?.prompt_tokens, PROMPT_TOKENS);
    assert.equal(last?.usage?.completion_tokens, 30);
    assert.equal(last?.usage?.prompt_tokens_details?.cached_tokens, FAKE_USAGE.cacheReadInputTokens);
    const upstream = upstreamRequest(marker);
    assert.equal(upstream.operation, 'converse-stream');
    assert.equal(upstream.path, '/model/anthropic.claude-3-5-sonnet-20240620-v1%3A0/converse-stream');
    assert.equal(upstream.authError, undefined);
    const stream = fake.streams.find((s) => s.request === upstream);
    assert.ok(stream && stream.state === 'completed');
    assert.ok(stream.writes > stream.framesPlanned, 'frames really were split across writes');
  });

  it('decodes a stream written one byte at a time', async () => {
    const result = await readStream('stream-bytewise [fake chunks=5 split=1]');
    assert.equal(result.error, undefined);
    assert.equal(result.text, fakeTextPieces(5).join(''));
    assert.equal(result.finish, 'stop');
  });

  it('streams parallel tool calls whose input fragments reassemble per call, in order', async () => {
    const result = await readStream('stream-tools-1 [fake tools=3]', { tools: weatherTools });
    assert.equal(result.error, undefined);
    assert.equal(result.text, FAKE_TOOL_PREAMBLE);
    assert.equal(result.finish, 'tool_calls');
    const calls = new Map<number, { id: string; name: string; arguments: string; deltas: number }>();
    for (const chunk of result.chunks) {
      for (const delta of chunk.choices[0]?.delta.tool_calls ?? []) {
        let call = calls.get(delta.index);
        if (!call) {
          assert.ok(delta.id, 'the first delta of a call carries its id');
          call = { id: delta.id, name: delta.function?.name ?? '', arguments: '', deltas: 0 };
          calls.set(delta.index, call);
        } else assert.equal(delta.id, undefined);
        call.arguments += delta.function?.arguments ?? '';
        call.deltas += 1;
      }
    }
    assert.deepEqual([...calls.keys()], [0, 1, 2]);
    ['get_weather', 'get_time', 'lookup_order'].forEach((name, i) => {
      const call = calls.get(i);
      assert.ok(call);
      assert.equal(call.id, fakeToolUseId(i));
      assert.equal(call.name, name);
      assert.deepEqual(JSON.parse(call.arguments), fakeToolInput(i, name));
      assert.ok(call.deltas > 3, 'arguments came in fragments');
    });
  });

  it('streams reasoning as reasoning_content before the answer', async () => {
    const result = await readStream('stream-reasoning [fake reasoning=1 chunks=3]');
    assert.equal(result.error, undefined);
    const reasoning = result.chunks.map((chunk) => (chunk.choices[0]?.delta as { reasoning_content?: string } | undefined)?.reasoning_content ?? '').join('');
    assert.equal(reasoning, FAKE_REASONING.join(''));
    assert.equal(result.text, fakeTextPieces(3).join(''));
  });

  it('maps a guardrail stop in a stream to content_filter', async () => {
    const result = await readStream('stream-guardrail [fake stop=guardrail_intervened]');
    assert.equal(result.finish, 'content_filter');
    assert.equal(result.text, FAKE_GUARDRAIL_TEXT);
  });

  for (const [exception, code] of [
    ['modelStreamErrorException', 'BB_UPSTREAM_OVERLOADED'],
    ['throttlingException', 'BB_UPSTREAM_RATE_LIMITED'],
  ] as const) {
    it(`ends with a terminal error after the text already sent on a mid-stream ${exception}`, async () => {
      // Frames: messageStart, then text deltas; the exception comes after 4 text deltas.
      const result = await readStream(`stream-exception-${exception} [fake chunks=10 exception=${exception} exception_after=5]`);
      assert.equal(result.text, fakeTextPieces(10).slice(0, 4).join(''), 'what came before the exception was delivered');
      assert.ok(result.error, 'a terminal error event');
      assert.equal(bbCode(result.error), code);
      const record = await settledRecord(result.requestId);
      assert.equal(record.errorCode, code);
      assert.ok(record.usage && record.usage.outputTokens > 0, 'usage of the text already generated is reported');
    });
  }

  it('ends with a terminal error when the stream stops before messageStop', async () => {
    const result = await readStream('stream-cut [fake chunks=10 cut_after=6]');
    assert.equal(result.text, fakeTextPieces(10).slice(0, 5).join(''));
    assert.ok(result.error);
    assert.equal(bbCode(result.error), 'BB_UPSTREAM_CONNECT');
    const record = await settledRecord(result.requestId);
    assert.ok(record.usage, 'usage is settled for a cut stream too');
  });

  it('ends with a terminal error when the stream stops in the middle of a frame', async () => {
    const result = await readStream('stream-cut-mid [fake chunks=10 cut_after=6 cut_mid=1]');
    assert.equal(result.text, fakeTextPieces(10).slice(0, 5).join(''));
    assert.ok(result.error);
    assert.equal(bbCode(result.error), 'BB_UPSTREAM_CONNECT');
  });

  it('closes the upstream connection within a second when the client aborts mid-stream', async () => {
    const marker = 'stream-client-abort';
    const controller = new AbortController();
    const stream = await gateway.client.chat.completions.create(
      { model: 'claude', messages: user(`${marker} [fake chunks=60 delay_ms=30 split=64]`), stream: true },
      { signal: controller.signal },
    );
    let received = 0;
    for await (const chunk of stream) {
      if (chunk.choices[0]?.delta.content) received += 1;
      if (received === 2) {
        controller.abort();
        break;
      }
    }
    const upstream = fake.streams.find((s) => s.request === upstreamRequest(marker));
    assert.ok(upstream);
    let timer: NodeJS.Timeout | undefined;
    const closedInTime = await Promise.race([
      upstream.closed.then(() => true),
      new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), 1_000))),
    ]);
    clearTimeout(timer);
    assert.ok(closedInTime, 'the upstream connection closed within 1 s');
    assert.equal(upstream.state, 'streaming', 'the fake did not get to finish');
  });

  it('estimates usage when the stream has no metadata event', async () => {
    const result = await readStream('stream-no-usage [fake chunks=4 no_usage=1]');
    assert.equal(result.error, undefined);
    const record = await settledRecord(result.requestId);
    assert.equal(record.usage?.estimated, true);
    assert.ok((record.usage?.outputTokens ?? 0) > 0);
  });
});

describe('bedrock provider: upstream errors', { timeout: 20_000 }, () => {
  const create = (marker: string, model = 'claude') => gateway.client.chat.completions.create({ model, messages: user(marker) });

  it('passes a ValidationException on as a 400 with its message', async () => {
    const error = await apiError(create('err-validation [fake error=validation]'));
    assert.equal(error.status, 400);
    assert.equal(bbCode(error), 'BB_UPSTREAM_BAD_REQUEST');
    assert.match(error.message, /temperature must be between 0 and 1/);
  });

  it('maps "Input is too long" to context_length_exceeded', async () => {
    const error = await apiError(create('err-too-long [fake error=too_long]'));
    assert.equal(error.status, 400);
    assert.equal(error.code, 'context_length_exceeded');
    assert.match(error.message, /Input is too long/);
  });

  it('maps a ThrottlingException to a retryable 429: the next target is tried', async () => {
    const marker = 'err-throttle';
    const error = await apiError(create(`${marker} [fake error=throttling]`, 'claude-twice'));
    assert.equal(error.status, 429);
    assert.equal(error.code, 'rate_limit_exceeded');
    assert.deepEqual(upstreamRequests(marker).map((request) => request.modelId), [MODEL_ID, 'anthropic.claude-3-haiku-20240307-v1:0']);
  });

  it('does not retry a ValidationException on the next target', async () => {
    const marker = 'err-validation-once';
    await apiError(create(`${marker} [fake error=validation]`, 'claude-twice'));
    assert.equal(upstreamRequests(marker).length, 1);
  });

  const statuses: Array<[string, number, string]> = [
    ['not_found', 404, 'BB_UPSTREAM_NOT_FOUND'],
    ['model_timeout', 504, 'BB_UPSTREAM_TIMEOUT'],
    ['internal', 503, 'BB_UPSTREAM_OVERLOADED'],
    ['unavailable', 503, 'BB_UPSTREAM_OVERLOADED'],
    ['model_error', 503, 'BB_UPSTREAM_OVERLOADED'],
  ];
  for (const [kind, status, code] of statuses) {
    it(`maps error ${kind} to ${status} ${code}`, async () => {
      const error = await apiError(create(`err-${kind} [fake error=${kind}]`));
      assert.equal(error.status, status);
      assert.equal(bbCode(error), code);
    });
  }

  /** Asserts no fragment of the AWS secrets shows in what the client received. */
  function assertNoSecrets(visible: string): void {
    for (const secret of [fake.credentials.secretAccessKey, fake.credentials.sessionToken ?? '', WRONG_SECRET]) {
      for (let at = 0; at + 8 <= secret.length; at += 1) {
        const fragment = secret.slice(at, at + 8);
        assert.ok(!visible.includes(fragment), `secret fragment ${JSON.stringify(fragment)} leaked`);
      }
    }
  }

  async function rawCall(model: string, marker: string): Promise<{ status: number; text: string }> {
    const response = await fetch(`${gateway.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TEST_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model, messages: user(marker) }),
    });
    return { status: response.status, text: (await response.text()) + JSON.stringify([...response.headers]) };
  }

  it('turns an AccessDeniedException into a 502 BB_UPSTREAM_AUTH without the upstream text', async () => {
    const { status, text } = await rawCall('claude', 'err-denied [fake error=access_denied]');
    assert.equal(status, 502);
    assert.match(text, /BB_UPSTREAM_AUTH/);
    assert.ok(!text.includes("don't have access"), 'the upstream message is not passed on');
  });

  it('a wrong secret key fails the signature check: 502 BB_UPSTREAM_AUTH, no secret shown', async () => {
    const marker = 'err-wrong-secret';
    const { status, text } = await rawCall('claude-wrong-secret', marker);
    assert.equal(status, 502);
    assert.match(text, /BB_UPSTREAM_AUTH/);
    assert.equal(upstreamRequest(marker).authError, 'InvalidSignatureException');
    assertNoSecrets(text);
  });

  it('an unknown access key id: UnrecognizedClientException becomes 502 BB_UPSTREAM_AUTH', async () => {
    const marker = 'err-unknown-key';
    const { status, text } = await rawCall('claude-unknown-key', marker);
    assert.equal(status, 502);
    assert.match(text, /BB_UPSTREAM_AUTH/);
    assert.equal(upstreamRequest(marker).authError, 'UnrecognizedClientException');
  });

  it('redacts the secret key and session token from an upstream message that quotes them', async () => {
    const { status, text } = await rawCall('claude', 'err-leaky [fake error=leaky]');
    assert.equal(status, 400);
    assert.match(text, /\[REDACTED\]/);
    assertNoSecrets(text);
  });

  it('refuses embeddings: Converse has none', async () => {
    const error = await apiError(gateway.client.embeddings.create({ model: 'claude', input: 'embed me' }));
    assert.equal(error.status, 400);
    assert.equal(bbCode(error), 'BB_UNSUPPORTED_OPERATION');
  });
});

describe('bedrock provider: adapter level', { timeout: 20_000 }, () => {
  function adapter(): ProviderAdapter {
    const found = gateway.runtime.providers.get('bedrock');
    assert.ok(found);
    return found;
  }

  function context(): AttemptContext {
    const controller = new AbortController();
    const signal = controller.signal;
    return {
      requestId: 'req-adapter-test',
      clientHeaders: {},
      forwardHeaders: {},
      signal: Object.assign(signal, { toAbortSignal: () => signal }),
    };
  }

  const request = (text: string, stream = false): CanonicalRequest => ({
    model: 'claude',
    messages: [{ role: 'user', content: text }],
    stream,
    streamUsage: stream,
    extra: {},
  });
  const target = { providerName: 'bedrock', model: MODEL_ID, params: undefined };

  it('parses reasoning, with its signature, from a Converse answer', async () => {
    const outcome = await adapter().chat(request('adapter-reasoning [fake reasoning=1]'), target, context());
    assert.equal(outcome.kind, 'response');
    if (outcome.kind !== 'response') return;
    const choice = outcome.response().choices[0];
    assert.deepEqual(choice?.reasoning, [{ text: FAKE_REASONING.join(''), signature: FAKE_SIGNATURE }]);
    assert.equal(choice?.content, FAKE_REPLY);
    assert.equal(outcome.usage.cacheCreationTokens, FAKE_USAGE.cacheWriteInputTokens);
  });

  it('sends reasoning blocks back first in an assistant turn', async () => {
    const marker = 'adapter-reasoning-back';
    const canonical = request(marker);
    canonical.messages = [
      { role: 'user', content: 'hi' },
      { role: 'assistant', content: 'Hello.', reasoning: [{ text: 'Greet.', signature: 'sig-1' }, { text: '', redacted: 'ZW5jcnlwdGVk' }] },
      { role: 'user', content: marker },
    ];
    await adapter().chat(canonical, target, context());
    const messages = upstreamBody(marker).messages as Array<{ content: unknown[] }>;
    assert.deepEqual(messages[1]?.content, [
      { reasoningContent: { reasoningText: { text: 'Greet.', signature: 'sig-1' } } },
      { reasoningContent: { redactedContent: 'ZW5jcnlwdGVk' } },
      { text: 'Hello.' },
    ]);
  });

  it('streams reasoning signature and ends with usage', async () => {
    const outcome = await adapter().chat(request('adapter-stream-reasoning [fake reasoning=1 chunks=2]', true), target, context());
    assert.equal(outcome.kind, 'stream');
    if (outcome.kind !== 'stream') return;
    const events = [];
    for await (const event of outcome.events) events.push(event);
    assert.equal(events[0]?.type, 'start');
    assert.ok(events.some((event) => event.type === 'reasoning' && event.signature === FAKE_SIGNATURE));
    const last = events.at(-1);
    assert.ok(last?.type === 'usage');
    assert.deepEqual(last.usage, {
      inputTokens: PROMPT_TOKENS,
      outputTokens: FAKE_REASONING.length + 2,
      cachedInputTokens: FAKE_USAGE.cacheReadInputTokens,
      cacheCreationTokens: FAKE_USAGE.cacheWriteInputTokens,
    });
  });

  it('classifies a ThrottlingException as retryable', async () => {
    const error = await adapter().chat(request('adapter-throttle [fake error=throttling]'), target, context()).catch((thrown: unknown) => thrown);
    assert.ok(error instanceof GatewayError);
    assert.equal(error.code, 'BB_UPSTREAM_RATE_LIMITED');
    assert.equal(error.retryable, true);
    assert.equal(error.upstreamStatus, 429);
  });

  it('encodes model ids and ARNs as one path segment', () => {
    assert.equal(encodeModelId(MODEL_ID), 'anthropic.claude-3-5-sonnet-20240620-v1%3A0');
    assert.equal(
      encodeModelId('arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.anthropic.claude-3-5-sonnet-20240620-v1:0'),
      'arn%3Aaws%3Abedrock%3Aus-east-1%3A123456789012%3Ainference-profile%2Fus.anthropic.claude-3-5-sonnet-20240620-v1%3A0',
    );
  });
});

describe('bedrock event-stream decoder', () => {
  const codec = new EventStreamCodec(toUtf8, fromUtf8);
  const frame = (type: string, payload: unknown) =>
    codec.encode({
      headers: {
        ':event-type': { type: 'string', value: type },
        ':content-type': { type: 'string', value: 'application/json' },
        ':message-type': { type: 'string', value: 'event' },
      },
      body: fromUtf8(JSON.stringify(payload)),
    });
  const frames = [frame('messageStart', { role: 'assistant' }), frame('contentBlockDelta', { contentBlockIndex: 0, delta: { text: 'héllo ✓' } }), frame('messageStop', { stopReason: 'end_turn' })];
  const bytes = Buffer.concat(frames);

  it('yields the same frames whatever two places the bytes are split at', () => {
    for (let first = 0; first <= bytes.length; first += 1) {
      for (let second = first; second <= bytes.length; second += 7) {
        const decoder = new EventStreamDecoder();
        const out = [bytes.subarray(0, first), bytes.subarray(first, second), bytes.subarray(second)].flatMap((part) => decoder.push(part));
        assert.deepEqual(
          out.map((f) => f.type),
          ['messageStart', 'contentBlockDelta', 'messageStop'],
          `split at ${first}/${second}`,
        );
        assert.equal(JSON.parse(out[1]?.body ?? '{}').delta.text, 'héllo ✓');
        assert.equal(decoder.idle, true);
      }
    }
  });

  it('reads an exception frame', () => {
    const exception = codec.encode({
      headers: {
        ':exception-type': { type: 'string', value: 'throttlingException' },
        ':content-type': { type: 'string', value: 'application/json' },
        ':message-type': { type: 'string', value: 'exception' },
      },
      body: fromUtf8('{"message":"slow down"}'),
    });
    assert.deepEqual(new EventStreamDecoder().push(exception), [{ messageType: 'exception', type: 'throttlingException', body: '{"message":"slow down"}' }]);
  });

  it('rejects a frame whose checksum is wrong', () => {
    const corrupt = Uint8Array.from(bytes);
    corrupt[20] = (corrupt[20] ?? 0) ^ 0xff;
    assert.throws(() => new EventStreamDecoder().push(corrupt), EventStreamError);
  });

  it('rejects an impossible frame length instead of buffering forever', () => {
    assert.throws(() => new EventStreamDecoder().push(Uint8Array.from([0xff, 0xff, 0xff, 0xff, 0, 0])), EventStreamError);
  });
});
