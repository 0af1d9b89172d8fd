import assert from 'node:assert/strict';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { after, before, describe, it } from 'node:test';
import OpenAI from 'openai';
import type { RequestRecord } from '../src/core/request-record.js';
import { countTextTokens } from '../src/usage/token-estimate.js';
import { MOCK_YAML, startTestGateway, type TestGateway } from './helpers/gateway.js';
import { waitFor } from './helpers/wait.js';

const messages = [{ role: 'user' as const, content: 'Say something.' }];

describe('chat completions through the mock provider (openai SDK)', () => {
  let gateway: TestGateway;
  before(async () => {
    gateway = await startTestGateway(MOCK_YAML);
  });
  after(() => gateway.close());

  it('answers a non-streaming chat with usage counted by the tokenizer and routing headers', async () => {
    const { data, response } = await gateway.client.chat.completions.create({ model: 'demo', messages }).withResponse();
    const content = data.choices[0]?.message.content ?? '';
    assert.ok(content.startsWith('Lorem ipsum'));
    assert.equal(data.choices[0]?.finish_reason, 'stop');
    assert.equal(data.usage?.completion_tokens, 12);
    assert.equal(data.usage?.completion_tokens, countTextTokens(content));
    assert.ok((data.usage?.prompt_tokens ?? 0) >= countTextTokens('Say something.'));
    assert.equal(data.usage?.total_tokens, (data.usage?.prompt_tokens ?? 0) + 12);
    assert.equal(response.headers.get('x-breakerbox-provider'), 'mock');
    assert.equal(response.headers.get('x-breakerbox-model'), 'mock-1');
    assert.equal(response.headers.get('x-breakerbox-attempts'), '1');
    assert.match(response.headers.get('server-timing') ?? '', /^gateway;dur=[\d.]+, upstream;dur=[\d.]+$/);
    assert.match(response.headers.get('x-request-id') ?? '', /^[0-9a-f-]{36}$/);
  });

  it('streams the same text chunk by chunk, with usage only when asked for', async () => {
    const whole = await gateway.client.chat.completions.create({ model: 'demo', messages });
    const stream = await gateway.client.chat.completions.create({
      model: 'demo',
      messages,
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = '';
    let chunks = 0;
    let usage: OpenAI.CompletionUsage | undefined;
    let finish: string | null | undefined;
    for await (const chunk of stream) {
      chunks += 1;
      text += chunk.choices[0]?.delta.content ?? '';
      finish = chunk.choices[0]?.finish_reason ?? finish;
      if (chunk.usage) usage = chunk.usage;
    }
    assert.equal(text, whole.choices[0]?.message.content);
    assert.equal(finish, 'stop');
    assert.ok(chunks >= 2);
    assert.equal(usage?.completion_tokens, 12);
    assert.equal(usage?.prompt_tokens, whole.usage?.prompt_tokens);

    const noUsage = await gateway.client.chat.completions.create({ model: 'demo', messages, stream: true });
    for await (const chunk of noUsage) assert.equal(chunk.usage ?? undefined, undefined);
  });

  it('cuts the reply at max_tokens with finish_reason length', async () => {
    const data = await gateway.client.chat.completions.create({ model: 'demo', messages, max_tokens: 3 });
    assert.equal(data.choices[0]?.finish_reason, 'length');
    assert.equal(data.usage?.completion_tokens, 3);
  });

  it('echoes the last user message when the request header asks for it', async () => {
    const data = await gateway.client.chat.completions.create(
      { model: 'demo', messages: [{ role: 'user', content: 'echo me, ünïcode ✓' }] },
      { headers: { 'x-mock-behavior': 'reply=echo' } },
    );
    assert.equal(data.choices[0]?.message.content, 'echo me, ünïcode ✓');
  });

  it('counts special-token text in a prompt as text (it was a 500)', async () => {
    const content = 'What do <|endoftext|> and <|im_start|> mean?';
    const data = await gateway.client.chat.completions.create({ model: 'demo', messages: [{ role: 'user', content }] }, { headers: { 'x-mock-behavior': 'reply=echo' } });
    assert.equal(data.choices[0]?.message.content, content);
    assert.equal(data.usage?.completion_tokens, countTextTokens(content));
    assert.ok((data.usage?.prompt_tokens ?? 0) > countTextTokens(content));
  });

  it('makes the tool call that tool_choice forces, streaming and not', async () => {
    const tools: OpenAI.ChatCompletionTool[] = [
      {
        type: 'function',
        function: {
          name: 'get_weather',
          parameters: { type: 'object', properties: { city: { type: 'string' }, days: { type: 'integer' } }, required: ['city', 'days'] },
        },
      },
    ];
    const data = await gateway.client.chat.completions.create({ model: 'demo', messages, tools, tool_choice: 'required' });
    const call = data.choices[0]?.message.tool_calls?.[0];
    assert.equal(data.choices[0]?.finish_reason, 'tool_calls');
    assert.equal(call?.type === 'function' ? call.function.name : undefined, 'get_weather');
    const args = call?.type === 'function' ? (JSON.parse(call.function.arguments) as Record<string, unknown>) : {};
    assert.deepEqual(Object.keys(args).sort(), ['city', 'days']);

    const stream = await gateway.client.chat.completions.create({ model: 'demo', messages, tools, tool_choice: 'required', stream: true });
    let streamedArgs = '';
    let name = '';
    for await (const chunk of stream) {
      for (const delta of chunk.choices[0]?.delta.tool_calls ?? []) {
        streamedArgs += delta.function?.arguments ?? '';
        name ||= delta.function?.name ?? '';
      }
    }
    assert.equal(name, 'get_weather');
    assert.deepEqual(JSON.parse(streamedArgs), args);
  });

  it('serves deterministic embeddings, as floats or base64', async () => {
    const first = await gateway.client.embeddings.create({ model: 'demo', input: ['alpha', 'beta'] });
    const again = await gateway.client.embeddings.create({ model: 'demo', input: 'alpha' });
    assert.equal(first.data.length, 2);
    assert.equal(first.data[0]?.embedding.length, 256);
    assert.deepEqual(again.data[0]?.embedding, first.data[0]?.embedding);
    assert.notDeepEqual(first.data[1]?.embedding, first.data[0]?.embedding);
    assert.equal(first.usage.prompt_tokens, countTextTokens('alpha') + countTextTokens('beta'));
    // The SDK asks for base64 by default and decodes it; ask for 8 dimensions to check the decode.
    const small = await gateway.client.embeddings.create({ model: 'demo', input: 'alpha', dimensions: 8 });
    assert.equal(small.data[0]?.embedding.length, 8);
    const norm = Math.sqrt((small.data[0]?.embedding ?? []).reduce((sum, value) => sum + value * value, 0));
    assert.ok(Math.abs(norm - 1) < 1e-5);
  });

  it('lists and retrieves public models', async () => {
    const list = await gateway.client.models.list();
    assert.deepEqual(
      list.data.map((model) => model.id),
      ['demo'],
    );
    const model = await gateway.client.models.retrieve('demo');
    assert.equal(model.id, 'demo');
    await assert.rejects(gateway.client.models.retrieve('nope'), (error: unknown) => {
      assert.ok(error instanceof OpenAI.NotFoundError);
      assert.equal((error as InstanceType<typeof OpenAI.APIError>).code, 'model_not_found');
      return true;
    });
  });

  it('keeps a well-formed client request id and replaces a malformed one', async () => {
    const kept = await gateway.client.chat.completions.create({ model: 'demo', messages }, { headers: { 'x-request-id': 'trace-123.abc' } }).withResponse();
    assert.equal(kept.response.headers.get('x-request-id'), 'trace-123.abc');
    const replaced = await gateway.client.chat.completions.create({ model: 'demo', messages }, { headers: { 'x-request-id': 'bad id with spaces' } }).withResponse();
    assert.notEqual(replaced.response.headers.get('x-request-id'), 'bad id with spaces');
  });

  it('publishes one settled record per request, with usage and timings', async () => {
    const records: RequestRecord[] = [];
    const onRecord = (message: unknown) => records.push(message as RequestRecord);
    subscribe('breakerbox:request:settled', onRecord);
    try {
      const stream = await gateway.client.chat.completions.create(
        { model: 'demo', messages, stream: true },
        { headers: { 'x-request-id': 'record-check-1' } },
      );
      for await (const _chunk of stream) {
        // drain
      }
      await waitFor(() => records.some((record) => record.requestId === 'record-check-1'));
    } finally {
      unsubscribe('breakerbox:request:settled', onRecord);
    }
    const record = records.filter((entry) => entry.requestId === 'record-check-1');
    assert.equal(record.length, 1);
    assert.equal(record[0]?.status, 200);
    assert.equal(record[0]?.stream, true);
    assert.equal(record[0]?.usage?.outputTokens, 12);
    assert.equal(record[0]?.provider, 'mock');
    assert.ok((record[0]?.ttftMs ?? -1) >= 0);
    assert.equal(record[0]?.errorCode, undefined);
    assert.equal(record[0]?.usageIncomplete, false);
  });
});

