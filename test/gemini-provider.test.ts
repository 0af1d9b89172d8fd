import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { APIError } from 'openai';
import type { ChatCompletionChunk, ChatCompletionMessageParam } from 'openai/resources/chat/completions';
import {
  FAKE_GEMINI_EMBEDDING_DIMENSIONS,
  FAKE_GEMINI_REPLY,
  FAKE_GEMINI_RESPONSE_ID,
  FAKE_GEMINI_THOUGHT,
  FAKE_GEMINI_USAGE,
  FAKE_GEMINI_UTF8_REPLY,
  fakeGeminiArgs,
  fakeGeminiEmbedding,
  fakeGeminiPieces,
  startFakeGemini,
  type FakeGemini,
  type GeminiRecordedRequest,
} from './fakes/gemini-upstream.js';
import { apiError, bbCode } from './helpers/api-error.js';
import { ONE_ATTEMPT_PER_TARGET, startTestGateway, TEST_KEY, type TestGateway } from './helpers/gateway.js';

const MODEL = 'gemini-2.5-flash';
/** The key the `gemini-wrong-key` provider is (wrongly) configured with. */
const WRONG_KEY = 'AIzaSyWRONG-9f8e7d6c5b4a3210zyxw';
const PNG_1X1 = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII=';
const DEFAULT_PIECES = fakeGeminiPieces({ chunks: undefined, reply: 'text' });

let fake: FakeGemini;
let gateway: TestGateway;

function config(): string {
  return `
${ONE_ATTEMPT_PER_TARGET}
providers:
  gemini:
    type: gemini
    api_key: \${env:FAKE_GEMINI_KEY}
    base_url: ${fake.url}
  gemini-wrong-key:
    type: gemini
    api_key: \${env:WRONG_GEMINI_KEY}
    base_url: ${fake.url}
  gemini-v1:
    type: gemini
    api_key: \${env:FAKE_GEMINI_KEY}
    base_url: ${fake.url}/
    api_version: v1
    headers: { X-Goog-User-Project: demo-project }
models:
  gemini-flash:
    targets: [{ provider: gemini, model: ${MODEL} }]
  gemini-tuned:
    targets:
      - provider: gemini
        model: ${MODEL}
        params: { temperature: 0.2, top_k: 32, safetySettings: [{ category: HARM_CATEGORY_HARASSMENT, threshold: BLOCK_ONLY_HIGH }] }
  gemini-wrong-key:
    targets: [{ provider: gemini-wrong-key, model: ${MODEL} }]
  gemini-stable:
    targets: [{ provider: gemini-v1, model: gemini-2.0-flash }]
  gemini-embed:
    targets: [{ provider: gemini, model: gemini-embedding-001 }]
`;
}

function upstreamRequest(marker: string): GeminiRecordedRequest {
  const found = fake.requests.filter((request) => JSON.stringify(request.body).includes(marker));
  assert.equal(found.length, 1, `expected exactly one upstream request for ${marker}, got ${found.length}`);
  return found[0] as GeminiRecordedRequest;
}

function upstreamBody(marker: string): Record<string, unknown> {
  return upstreamRequest(marker).body as Record<string, unknown>;
}

const user = (content: string): ChatCompletionMessageParam[] => [{ role: 'user', content }];
const create = (content: string, extra: Record<string, unknown> = {}) =>
  gateway.client.chat.completions.create({ model: 'gemini-flash', messages: user(content), ...extra });

/** Streams a request, collecting chunks until the end or a terminal error. */
async function stream(content: string, extra: Record<string, unknown> = {}) {
  const chunks: ChatCompletionChunk[] = [];
  let error: APIError | undefined;
  const response = await gateway.client.chat.completions.create({
    model: 'gemini-flash',
    messages: user(content),
    stream: true,
    stream_options: { include_usage: true },
    ...extra,
  });
  try {
    for await (const chunk of response) chunks.push(chunk);
  } catch (thrown) {
    assert.ok(thrown instanceof APIError, `expected an APIError, got ${String(thrown)}`);
    error = thrown;
  }
  const text = chunks.map((chunk) => chunk.choices[0]?.delta.content ?? '').join('');
  const reasoning = chunks.map((chunk) => (chunk.choices[0]?.delta as { reasoning_content?: string } | undefined)?.reasoning_content ?? '').join('');
  const finish = chunks.map((chunk) => chunk.choices[0]?.finish_reason).find((reason) => reason);
  const usage = chunks.find((chunk) => chunk.usage)?.usage;
  return { chunks, text, reasoning, finish, usage, error };
}

before(async () => {
  fake = await startFakeGemini();
  gateway = await startTestGateway(config(), { FAKE_GEMINI_KEY: fake.apiKey, WRONG_GEMINI_KEY: WRONG_KEY });
});

after(async () => {
  await gateway?.close();
  await fake?.close();
});

describe('gemini provider: request translation', { timeout: 20_000 }, () => {
  it('maps roles, system and developer messages, images, tool calls and results, tools, tool_choice and generation settings', async () => {
    const marker = 'translate-all';
    const weatherParams = {
      type: 'object',
      properties: {
        city: { type: 'string', description: 'City name' },
        unit: { type: ['string', 'null'], enum: ['c', 'f', null] },
      },
      required: ['city'],
      additionalProperties: false,
    };
    await gateway.client.chat.completions.create({
      model: 'gemini-flash',
      messages: [
        { role: 'system', content: 'You are terse.' },
        { role: 'developer', content: 'Answer in English.' },
        { role: 'user', content: [{ type: 'text', text: `Look at this ${marker}` }, { type: 'image_url', image_url: { url: `data:image/png;base64,${PNG_1X1}` } }] },
        {
          role: 'assistant',
          content: 'Let me check.',
          tool_calls: [
            { id: 'call_a', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } },
            { id: 'call_b', type: 'function', function: { name: 'get_time', arguments: '' } },
          ],
        },
        { role: 'tool', tool_call_id: 'call_a', content: '{"temp_c":21}' },
        { role: 'tool', tool_call_id: 'call_b', content: 'It is 14:00.' },
        { role: 'user', content: 'Thanks. And tomorrow?' },
      ],
      tools: [
        { type: 'function', function: { name: 'get_weather', description: 'Weather now', parameters: weatherParams, strict: true } },
        { type: 'function', function: { name: 'get_time', parameters: { type: 'object', properties: {} } } },
      ],
      tool_choice: { type: 'function', function: { name: 'get_weather' } },
      temperature: 0.4,
      top_p: 0.9,
      max_tokens: 300,
      stop: ['END', 'STOP'],
      seed: 7,
      presence_penalty: 0.1,
      frequency_penalty: 0.2,
    });
    const upstream = upstreamRequest(marker);
    assert.equal(upstream.pathname, `/v1beta/models/${MODEL}:generateContent`);
    assert.deepEqual(upstream.query, {});
    assert.deepEqual(upstream.body, {
      systemInstruction: { parts: [{ text: 'You are terse.' }, { text: 'Answer in English.' }] },
      contents: [
        { role: 'user', parts: [{ text: `Look at this ${marker}` }, { inlineData: { mimeType: 'image/png', data: PNG_1X1 } }] },
        {
          role: 'model',
          parts: [
            { text: 'Let me check.' },
            { functionCall: { name: 'get_weather', args: { city: 'Paris' } }, thoughtSignature: 'skip_thought_signature_validator' },
            { functionCall: { name: 'get_time', args: {} } },
          ],
        },
        {
          role: 'user',
          parts: [
            { functionResponse: { name: 'get_weather', response: { temp_c: 21 } } },
            { functionResponse: { name: 'get_time', response: { output: 'It is 14:00.' } } },
            { text: 'Thanks. And tomorrow?' },
          ],
        },
      ],
      tools: [
        {
          functionDeclarations: [
            {
              name: 'get_weather',
              description: 'Weather now',
              parameters: {
                type: 'OBJECT',
                properties: { city: { type: 'STRING', description: 'City name' }, unit: { type: 'STRING', nullable: true, enum: ['c', 'f'] } },
                required: ['city'],
              },
            },
            { name: 'get_time' },
          ],
        },
      ],
      toolConfig: { functionCallingConfig: { mode: 'ANY', allowedFunctionNames: ['get_weather'] } },
      generationConfig: { maxOutputTokens: 300, temperature: 0.4, topP: 0.9, stopSequences: ['END', 'STOP'], seed: 7, presencePenalty: 0.1, frequencyPenalty: 0.2 },
    });
  });

  it('maps tool_choice auto, none and required to AUTO, NONE and ANY', async () => {
    const tools = [{ type: 'function' as const, function: { name: 'lookup', parameters: { type: 'object', properties: { q: { type: 'string' } } } } }];
    for (const [choice, mode] of [['auto', 'AUTO'], ['none', 'NONE'], ['required', 'ANY']] as const) {
      const marker = `tool-choice-${choice}`;
      await create(marker, { tools, tool_choice: choice });
      assert.deepEqual(upstreamBody(marker).toolConfig, { functionCallingConfig: { mode } });
    }
  });

  it('maps response_format json_object and a convertible json_schema to responseMimeType and responseSchema', async () => {
    await create('format-json-object', { response_format: { type: 'json_object' } });
    assert.deepEqual(upstreamBody('format-json-object').generationConfig, { responseMimeType: 'application/json' });

    const schema = {
      type: 'object',
      properties: {
        name: { type: 'string', format: 'email' },
        born: { type: 'string', format: 'date-time' },
        tags: { type: 'array', items: { $ref: '#/$defs/tag' }, maxItems: 3 },
        kind: { const: 'person' },
        age: { anyOf: [{ type: 'integer', minimum: 0 }, { type: 'null' }] },
      },
      required: ['name', 'tags', 'kind', 'age'],
      additionalProperties: false,
      $defs: { tag: { type: 'string', enum: ['a', 'b'] } },
    };
    await create('format-json-schema', { response_format: { type: 'json_schema', json_schema: { name: 'person', schema, strict: true } } });
    assert.deepEqual(upstreamBody('format-json-schema').generationConfig, {
      responseMimeType: 'application/json',
      responseSchema: {
        type: 'OBJECT',
        properties: {
          name: { type: 'STRING' },
          born: { type: 'STRING', format: 'date-time' },
          tags: { type: 'ARRAY', items: { type: 'STRING', enum: ['a', 'b'] }, maxItems: 3 },
          kind: { type: 'STRING', enum: ['person'] },
          age: { type: 'INTEGER', minimum: 0, nullable: true },
        },
        required: ['name', 'tags', 'kind', 'age'],
      },
    });
  });

  it('refuses schemas Gemini cannot express with a 400 naming the field, before calling the upstream', async () => {
    const before = fake.requests.length;
    const schema = { type: 'object', properties: { a: { allOf: [{ type: 'string' }] } } };
    const formatError = await apiError(create('schema-refused', { response_format: { type: 'json_schema', json_schema: { name: 'x', schema } } }));
    assert.equal(formatError.status, 400);
    assert.equal(formatError.param, 'response_format.json_schema.schema');
    assert.match(formatError.message, /allOf/);
    const tools = [{ type: 'function' as const, function: { name: 'f', parameters: { type: 'object', patternProperties: { '^x': { type: 'string' } } } } }];
    const toolError = await apiError(create('tool-schema-refused', { tools }));
    assert.equal(toolError.status, 400);
    assert.equal(toolError.param, 'tools[0].function.parameters');
    assert.equal(toolError.code, 'unsupported_parameter');
    assert.equal(fake.requests.length, before, 'nothing reached the upstream');
  });

  it('refuses an http(s) image URL with a clear 400 (Gemini takes images inline only)', async () => {
    const before = fake.requests.length;
    const error = await apiError(
      gateway.client.chat.completions.create({
        model: 'gemini-flash',
        messages: [{ role: 'user', content: [{ type: 'text', text: 'what is this' }, { type: 'image_url', image_url: { url: 'https://example.com/cat.png' } }] }],
      }),
    );
    assert.equal(error.status, 400);
    assert.equal(error.param, 'messages[0].content[1].image_url.url');
    assert.match(error.message, /data: URL/);
    assert.equal(fake.requests.length, before);
  });

  it("refuses a tool message that answers no earlier tool call", async () => {
    const error = await apiError(
      gateway.client.chat.completions.create({
        model: 'gemini-flash',
        messages: [
          { role: 'user', content: 'hi' },
          { role: 'tool', tool_call_id: 'call_unknown', content: 'x' },
        ],
      }),
    );
    assert.equal(error.status, 400);
    assert.equal(error.param, 'messages[1].tool_call_id');
  });

  it("applies the target's params, Gemini safety settings included", async () => {
    const marker = 'target-params';
    await gateway.client.chat.completions.create({ model: 'gemini-tuned', messages: user(marker), temperature: 1.5 });
    const body = upstreamBody(marker);
    assert.deepEqual(body.generationConfig, { temperature: 0.2, topK: 32 });
    assert.deepEqual(body.safetySettings, [{ category: 'HARM_CATEGORY_HARASSMENT', threshold: 'BLOCK_ONLY_HIGH' }]);
  });

  it('uses the configured api_version and extra headers', async () => {
    const marker = 'api-version-v1';
    await gateway.client.chat.completions.create({ model: 'gemini-stable', messages: user(marker) });
    const upstream = upstreamRequest(marker);
    assert.equal(upstream.pathname, '/v1/models/gemini-2.0-flash:generateContent');
    assert.equal(upstream.headers['x-goog-user-project'], 'demo-project');
    assert.equal(upstream.headers['x-goog-api-key'], fake.apiKey);
  });

  it('maps reasoning_effort to a thinking budget that includes thought summaries', async () => {
    await create('effort-low', { reasoning_effort: 'low' });
    assert.deepEqual(upstreamBody('effort-low').generationConfig, { thinkingConfig: { thinkingBudget: 1024, includeThoughts: true } });
  });
});

describe('gemini provider: answers', { timeout: 20_000 }, () => {
  it('returns text with usage, the upstream model and routing headers; the key goes in x-goog-api-key only', async () => {
    const marker = 'plain-text';
    const { data, response } = await create(marker).withResponse();
    const choice = data.choices[0];
    assert.equal(choice?.message.content, FAKE_GEMINI_REPLY);
    assert.equal(choice?.finish_reason, 'stop');
    assert.equal(data.model, MODEL);
    assert.match(data.id, new RegExp(`^${FAKE_GEMINI_RESPONSE_ID}\\d+$`));
    assert.equal(data.usage?.prompt_tokens, FAKE_GEMINI_USAGE.promptTokens);
    assert.equal(data.usage?.completion_tokens, DEFAULT_PIECES.length);
    assert.equal(data.usage?.total_tokens, FAKE_GEMINI_USAGE.promptTokens + DEFAULT_PIECES.length);
    assert.equal(data.usage?.prompt_tokens_details?.cached_tokens, FAKE_GEMINI_USAGE.cachedTokens);
    assert.equal(response.headers.get('x-breakerbox-provider'), 'gemini');
    assert.equal(response.headers.get('x-breakerbox-model'), MODEL);

    const upstream = upstreamRequest(marker);
    assert.equal(upstream.headers['x-goog-api-key'], fake.apiKey);
    assert.equal(upstream.headers.authorization, undefined);
    assert.ok(!upstream.url.includes(fake.apiKey) && !('key' in upstream.query), 'no key in the URL');
    assert.ok(!JSON.stringify(upstream.headers).includes(TEST_KEY), "the client's gateway key never reaches the upstream");
  });

  it('returns one function call as a tool call with a synthesized id', async () => {
    const tools = [{ type: 'function' as const, function: { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } } }];
    const data = await create('one-call [fake reply=tools]', { tools });
    const choice = data.choices[0];
    assert.equal(choice?.finish_reason, 'tool_calls');
    assert.equal(choice?.message.content, null);
    assert.deepEqual(choice?.message.tool_calls, [
      { id: 'call_0', type: 'function', function: { name: 'get_weather', arguments: JSON.stringify(fakeGeminiArgs(0, 'get_weather')) } },
    ]);
    assert.equal(data.usage?.completion_tokens, 12);
  });

  it('returns parallel function calls with distinct ids', async () => {
    const names = ['get_weather', 'get_time'];
    const tools = names.map((name) => ({ type: 'function' as const, function: { name, parameters: { type: 'object', properties: { q: { type: 'string' } } } } }));
    const data = await create('parallel-calls [fake reply=tools tools=3]', { tools });
    const calls = data.choices[0]?.message.tool_calls ?? [];
    assert.equal(data.choices[0]?.finish_reason, 'tool_calls');
    assert.deepEqual(
      calls.map((call) => (call.type === 'function' ? [call.id, call.function.name, JSON.parse(call.function.arguments)] : [])),
      [0, 1, 2].map((i) => [`call_${i}`, names[i % 2], fakeGeminiArgs(i, names[i % 2] as string)]),
    );
  });

  it('keeps thoughts out of the content and counts them as reasoning output tokens', async () => {
    const data = await create('thoughts-plain [fake reply=thoughts]');
    assert.equal(data.choices[0]?.message.content, FAKE_GEMINI_REPLY);
    assert.equal(data.usage?.completion_tokens, DEFAULT_PIECES.length + FAKE_GEMINI_USAGE.thoughtsTokens);
    assert.equal(data.usage?.completion_tokens_details?.reasoning_tokens, FAKE_GEMINI_USAGE.thoughtsTokens);
  });

  it('maps finish reasons: MAX_TOKENS to length, safety-like reasons to content_filter', async () => {
    const expected = { MAX_TOKENS: 'length', SAFETY: 'content_filter', RECITATION: 'content_filter', BLOCKLIST: 'content_filter', PROHIBITED_CONTENT: 'content_filter' };
    for (const [reason, finish] of Object.entries(expected)) {
      const data = await create(`finish-${reason} [fake finish=${reason}]`);
      assert.equal(data.choices[0]?.finish_reason, finish, reason);
    }
    const safety = await create('finish-safety-text [fake finish=SAFETY]');
    assert.equal(safety.choices[0]?.message.content, DEFAULT_PIECES.slice(0, Math.ceil(DEFAULT_PIECES.length / 2)).join(''), 'the text before the block');
  });

  it('answers a blocked prompt with 400 content_filter', async () => {
    const error = await apiError(create('blocked-plain [fake reply=blocked]'));
    assert.equal(error.status, 400);
    assert.equal(error.code, 'content_filter');
    assert.equal(bbCode(error), 'BB_CONTENT_FILTERED');
    assert.match(error.message, /SAFETY/);
  });
});

describe('gemini provider: streaming', { timeout: 20_000 }, () => {
  it('streams text and ends with usage; the gateway asks for alt=sse', async () => {
    const marker = 'stream-text';
    const result = await stream(`${marker} [fake chunks=9]`);
    assert.equal(result.error, undefined);
    assert.equal(result.text, fakeGeminiPieces({ chunks: 9, reply: 'text' }).join(''));
    assert.equal(result.finish, 'stop');
    assert.equal(result.chunks[0]?.model, MODEL);
    assert.equal(result.usage?.prompt_tokens, FAKE_GEMINI_USAGE.promptTokens);
    assert.equal(result.usage?.completion_tokens, 9);
    assert.equal(result.usage?.prompt_tokens_details?.cached_tokens, FAKE_GEMINI_USAGE.cachedTokens);
    const upstream = upstreamRequest(marker);
    assert.equal(upstream.pathname, `/v1beta/models/${MODEL}:streamGenerateContent`);
    assert.deepEqual(upstream.query, { alt: 'sse' });
  });

  it('streams thoughts as reasoning, apart from the text', async () => {
    const result = await stream('stream-thoughts [fake reply=thoughts]');
    assert.equal(result.reasoning, FAKE_GEMINI_THOUGHT);
    assert.equal(result.text, FAKE_GEMINI_REPLY);
    assert.equal(result.usage?.completion_tokens_details?.reasoning_tokens, FAKE_GEMINI_USAGE.thoughtsTokens);
    assert.equal(result.usage?.completion_tokens, DEFAULT_PIECES.length + FAKE_GEMINI_USAGE.thoughtsTokens);
  });

  it('streams parallel function calls as tool calls, each whole in one delta', async () => {
    const names = ['get_weather', 'get_time', 'lookup_order'];
    const tools = names.map((name) => ({ type: 'function' as const, function: { name, parameters: { type: 'object', properties: { q: { type: 'string' } } } } }));
    const result = await stream('stream-calls [fake reply=tools tools=3]', { tools });
    const deltas = result.chunks.flatMap((chunk) => chunk.choices[0]?.delta.tool_calls ?? []);
    assert.deepEqual(
      deltas.map((delta) => [delta.index, delta.id, delta.function?.name, JSON.parse(delta.function?.arguments ?? 'null')]),
      [0, 1, 2].map((i) => [i, `call_${i}`, names[i], fakeGeminiArgs(i, names[i] as string)]),
    );
    assert.equal(result.finish, 'tool_calls');
    assert.equal(result.usage?.completion_tokens, 36);
  });

  it('streams the text before a SAFETY stop, then finish_reason content_filter', async () => {
    const result = await stream('stream-safety [fake finish=SAFETY]');
    assert.equal(result.error, undefined);
    assert.equal(result.text, DEFAULT_PIECES.slice(0, Math.ceil(DEFAULT_PIECES.length / 2)).join(''));
    assert.equal(result.finish, 'content_filter');
  });

  it('answers a blocked prompt with an HTTP 400 before the stream starts', async () => {
    const error = await apiError(stream('stream-blocked [fake reply=blocked]'));
    assert.equal(error.status, 400);
    assert.equal(bbCode(error), 'BB_CONTENT_FILTERED');
  });

  it('turns an error event or an empty stream at the very start into an HTTP error, open to fallback', async () => {
    const errorEvent = await apiError(stream('stream-error-first [fake error_after=0]'));
    assert.equal(errorEvent.status, 503);
    assert.equal(bbCode(errorEvent), 'BB_UPSTREAM_OVERLOADED');
    const empty = await apiError(stream('stream-empty [fake truncate_after=0]'));
    assert.equal(empty.status, 502);
    assert.equal(bbCode(empty), 'BB_UPSTREAM_BAD_RESPONSE');
  });

  it('parses CRLF line ends and UTF-8 characters split across writes', async () => {
    const crlf = await stream('stream-crlf [fake reply=utf8 crlf=1]');
    assert.equal(crlf.text, FAKE_GEMINI_UTF8_REPLY);
    const split = await stream('stream-split [fake reply=utf8 split_utf8=1 crlf=1]');
    assert.equal(split.error, undefined);
    assert.equal(split.text, FAKE_GEMINI_UTF8_REPLY);
    assert.equal(split.finish, 'stop');
  });

  it('ends with the text so far, usage, then a terminal error when Google sends an error event mid-stream', async () => {
    const result = await stream('stream-error-event [fake chunks=10 error_after=3]');
    assert.equal(result.text, fakeGeminiPieces({ chunks: 10, reply: 'text' }).slice(0, 3).join(''));
    assert.ok(result.error, 'a terminal error');
    assert.equal(bbCode(result.error), 'BB_UPSTREAM_OVERLOADED');
    assert.ok(result.usage && result.usage.prompt_tokens > 0 && result.usage.completion_tokens > 0, 'usage reported before the error');
  });

  it('ends with the text so far, usage, then BB_UPSTREAM_CONNECT when the connection is cut mid-stream', async () => {
    const result = await stream('stream-cut [fake chunks=10 cut_after=4]');
    assert.equal(result.text, fakeGeminiPieces({ chunks: 10, reply: 'text' }).slice(0, 4).join(''));
    assert.ok(result.error);
    assert.equal(bbCode(result.error), 'BB_UPSTREAM_CONNECT');
    assert.ok(result.usage && result.usage.completion_tokens > 0, 'usage reported before the error');
  });

  it('hangs up on the upstream when the client aborts mid-stream', async () => {
    const marker = 'stream-client-abort';
    const controller = new AbortController();
    const response = await gateway.client.chat.completions.create(
      { model: 'gemini-flash', messages: user(`${marker} [fake chunks=60 delay_ms=40]`), stream: true },
      { signal: controller.signal },
    );
    let received = 0;
    for await (const chunk of response) {
      if (chunk.choices[0]?.delta.content) received += 1;
      if (received === 2) {
        controller.abort();
        break;
      }
    }
    const upstream = upstreamRequest(marker);
    const deadline = Date.now() + 1_000;
    while (upstream.closedEarly === undefined && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
    assert.equal(upstream.closedEarly, true, 'the upstream connection closed within 1 s, before the fake finished');
    assert.ok(upstream.eventsWritten < 60);
  });

  it('treats a stream that ends without a finish reason as incomplete', async () => {
    const result = await stream('stream-truncated [fake chunks=10 truncate_after=5]');
    assert.equal(result.text, fakeGeminiPieces({ chunks: 10, reply: 'text' }).slice(0, 5).join(''));
    assert.ok(result.error);
    assert.equal(bbCode(result.error), 'BB_UPSTREAM_CONNECT');
  });
});

describe('gemini provider: upstream errors', { timeout: 20_000 }, () => {
  it('passes a 400 INVALID_ARGUMENT on with its message', async () => {
    const error = await apiError(create('err-400 [fake status=400]'));
    assert.equal(error.status, 400);
    assert.equal(bbCode(error), 'BB_UPSTREAM_BAD_REQUEST');
    assert.match(error.message, /temperature: must be between 0 and 2/);
  });

  it('maps a too-long prompt to context_length_exceeded', async () => {
    const error = await apiError(create('err-too-long [fake error=too_long]'));
    assert.equal(error.status, 400);
    assert.equal(error.code, 'context_length_exceeded');
    assert.equal(bbCode(error), 'BB_CONTEXT_LENGTH_EXCEEDED');
  });

  it('maps 404 NOT_FOUND to model_not_found', async () => {
    const error = await apiError(create('err-404 [fake status=404]'));
    assert.equal(error.status, 404);
    assert.equal(error.code, 'model_not_found');
  });

  it('maps 429 RESOURCE_EXHAUSTED to a retryable 429 with Retry-After from the header, else from RetryInfo', async () => {
    const fromHeader = await apiError(create('err-429-header [fake status=429 retry_after=4]'));
    assert.equal(fromHeader.status, 429);
    assert.equal(fromHeader.code, 'rate_limit_exceeded');
    assert.equal(fromHeader.headers?.get('retry-after'), '4');
    const fromDetails = await apiError(create('err-429-details [fake status=429 retry_delay=23]'));
    assert.equal(fromDetails.status, 429);
    assert.equal(fromDetails.headers?.get('retry-after'), '23');
  });

  for (const status of [500, 503]) {
    it(`maps an upstream ${status} to 503 BB_UPSTREAM_OVERLOADED`, async () => {
      const error = await apiError(create(`err-${status} [fake status=${status}]`));
      assert.equal(error.status, 503);
      assert.equal(bbCode(error), 'BB_UPSTREAM_OVERLOADED');
    });
  }

  for (const status of [401, 403]) {
    it(`turns an upstream ${status} into a 502 BB_UPSTREAM_AUTH without Google's text`, async () => {
      const error = await apiError(create(`err-${status} [fake status=${status}]`));
      assert.equal(error.status, 502);
      assert.equal(bbCode(error), 'BB_UPSTREAM_AUTH');
      assert.doesNotMatch(error.message, /authentication credentials|Permission denied|suspended/);
      assert.ok(!error.message.includes(fake.apiKey));
    });
  }

  it("turns Google's 400 API_KEY_INVALID into a 502 that shows no part of either key", async () => {
    const marker = 'err-wrong-key';
    const response = await fetch(`${gateway.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TEST_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gemini-wrong-key', messages: user(marker) }),
    });
    const text = await response.text();
    assert.equal(response.status, 502);
    assert.equal((JSON.parse(text) as { error: { bb_code: string } }).error.bb_code, 'BB_UPSTREAM_AUTH');
    assert.equal(upstreamRequest(marker).headers['x-goog-api-key'], WRONG_KEY);
    const visible = text + JSON.stringify([...response.headers]);
    for (const secret of [WRONG_KEY, fake.apiKey]) {
      for (let at = 0; at + 6 <= secret.length; at += 1) {
        const fragment = secret.slice(at, at + 6);
        assert.ok(!visible.includes(fragment), `key fragment ${JSON.stringify(fragment)} leaked`);
      }
    }
  });

  it('redacts the key from an upstream message that quotes it', async () => {
    const error = await apiError(create('err-echo [fake error=echo_key]'));
    assert.equal(error.status, 400);
    assert.ok(!error.message.includes(fake.apiKey), 'the key is not shown');
    assert.match(error.message, /\[REDACTED\]/);
  });
});

describe('gemini provider: embeddings', { timeout: 20_000 }, () => {
  it('embeds through batchEmbedContents, as floats', async () => {
    const marker = 'embed-float';
    const data = await gateway.client.embeddings.create({ model: 'gemini-embed', input: [marker, 'second'], encoding_format: 'float' });
    assert.deepEqual(
      data.data.map((item) => [item.index, item.embedding]),
      [0, 1].map((i) => [i, fakeGeminiEmbedding(i, FAKE_GEMINI_EMBEDDING_DIMENSIONS)]),
    );
    assert.ok(data.usage.prompt_tokens > 0);
    const upstream = upstreamRequest(marker);
    assert.equal(upstream.pathname, '/v1beta/models/gemini-embedding-001:batchEmbedContents');
    assert.deepEqual(upstream.body, {
      requests: [marker, 'second'].map((text) => ({ model: 'models/gemini-embedding-001', content: { parts: [{ text }] } })),
    });
  });

  it('honours dimensions and returns base64 when asked (the SDK default)', async () => {
    const marker = 'embed-base64';
    const data = await gateway.client.embeddings.create({ model: 'gemini-embed', input: marker, dimensions: 5 });
    assert.deepEqual([...(data.data[0]?.embedding ?? [])], fakeGeminiEmbedding(0, 5));
    const body = upstreamBody(marker) as { requests: Array<{ outputDimensionality?: number }> };
    assert.equal(body.requests[0]?.outputDimensionality, 5);
  });

  it('refuses token-id input with a 400', async () => {
    const error = await apiError(gateway.client.embeddings.create({ model: 'gemini-embed', input: [[1, 2, 3]] }));
    assert.equal(error.status, 400);
    assert.equal(error.param, 'input');
  });
});

describe('gemini provider: the key never travels in a URL', () => {
  it('no request the gateway sent carried a key query parameter, and the fake really refuses one', async () => {
    assert.ok(fake.requests.length > 20);
    for (const request of fake.requests) {
      assert.ok(!('key' in request.query), `${request.url} carries a key`);
      assert.ok(!request.url.includes(fake.apiKey) && !request.url.includes(WRONG_KEY));
    }
    const response = await fetch(`${fake.url}/v1beta/models/${MODEL}:generateContent?key=${fake.apiKey}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-goog-api-key': fake.apiKey },
      body: JSON.stringify({ contents: [{ role: 'user', parts: [{ text: 'hi' }] }] }),
    });
    assert.equal(response.status, 400);
    assert.equal(((await response.json()) as { error: { status: string } }).error.status, 'INVALID_ARGUMENT');
  });
});
