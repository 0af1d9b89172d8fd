import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import Anthropic from '@anthropic-ai/sdk';
import type { ChatCompletionChunk } from 'openai/resources/chat/completions';
import {
  AZURE_EMBEDDING_DIMENSIONS,
  AZURE_FINGERPRINT,
  AZURE_PROMPT_TOKENS,
  AZURE_REPLY,
  azureContentPieces,
  startFakeAzureOpenAI,
  type AzureRecordedRequest,
  type FakeAzure,
} from './fakes/azure-openai-upstream.js';
import { fakeEmbedding, fakeToolArguments } from './fakes/openai-upstream.js';
import { apiError, bbCode } from './helpers/api-error.js';
import { ONE_ATTEMPT_PER_TARGET, startTestGateway, TEST_KEY, type TestGateway } from './helpers/gateway.js';

const API_VERSION = '2024-10-21';
const OLD_API_VERSION = '2024-06-01';
/** What Azure names in answers: the model behind the deployment, not the deployment. */
const SERVED_MODEL = 'gpt-4o-2024-08-06';
const WRONG_KEY = '5f3c9a7e1b2d4c6e8a0f9b7d5c3e1a2b';

let fake: FakeAzure;
let gateway: TestGateway;

function config(): string {
  const provider = (key: string, version = API_VERSION) => `
    type: azure-openai
    endpoint: ${fake.endpoint}
    api_key: \${env:${key}}
    api_version: "${version}"`;
  return `
${ONE_ATTEMPT_PER_TARGET}
providers:
  azure:${provider('AZURE_KEY')}
  azure-old:${provider('AZURE_KEY', OLD_API_VERSION)}
  azure-wrong-key:${provider('WRONG_AZURE_KEY')}
models:
  gpt-azure:
    targets: [{ provider: azure, model: chat-prod }]
  gpt-azure-old:
    targets: [{ provider: azure-old, model: chat-prod }]
  gpt-azure-missing:
    targets: [{ provider: azure, model: no-such-deployment }]
  gpt-azure-wrong-key:
    targets: [{ provider: azure-wrong-key, model: chat-prod }]
  gpt-azure-pair:
    targets:
      - { provider: azure, model: chat-prod }
      - { provider: azure, model: chat-backup }
  embed-azure:
    targets: [{ provider: azure, model: embedder }]
`;
}

/** The request the fake received whose body mentions `marker` (each test uses its own). */
function upstreamRequests(marker: string): AzureRecordedRequest[] {
  return fake.requests.filter((request) => JSON.stringify(request.body).includes(marker));
}

function upstreamRequest(marker: string): AzureRecordedRequest {
  const found = upstreamRequests(marker);
  assert.equal(found.length, 1, `expected exactly one upstream request for ${marker}, got ${found.length}`);
  return found[0] as AzureRecordedRequest;
}

function upstreamBody(marker: string): Record<string, unknown> {
  return upstreamRequest(marker).body as Record<string, unknown>;
}

const user = (content: string) => [{ role: 'user' as const, content }];
const tools = (...names: string[]) => names.map((name) => ({ type: 'function' as const, function: { name, parameters: { type: 'object' } } }));

async function collect(stream: AsyncIterable<ChatCompletionChunk>): Promise<ChatCompletionChunk[]> {
  const chunks: ChatCompletionChunk[] = [];
  for await (const chunk of stream) chunks.push(chunk);
  return chunks;
}

const textOf = (chunks: ChatCompletionChunk[]) => chunks.map((chunk) => chunk.choices[0]?.delta?.content ?? '').join('');

before(async () => {
  fake = await startFakeAzureOpenAI({ deployments: { 'chat-prod': SERVED_MODEL, 'chat-backup': SERVED_MODEL, embedder: 'text-embedding-3-small' } });
  gateway = await startTestGateway(config(), { AZURE_KEY: fake.apiKey, WRONG_AZURE_KEY: WRONG_KEY });
});

after(async () => {
  await gateway?.close();
  await fake?.close();
});

describe('azure-openai provider: requests', { timeout: 20_000 }, () => {
  it('calls the deployment URL with api-version and the api-key header, never Authorization', async () => {
    const marker = 'az-url-shape';
    const { data, response } = await gateway.client.chat.completions.create({ model: 'gpt-azure', messages: user(marker), temperature: 0.3 }).withResponse();
    assert.equal(data.choices[0]?.message.content, AZURE_REPLY);
    const upstream = upstreamRequest(marker);
    assert.equal(upstream.url, `/openai/deployments/chat-prod/chat/completions?api-version=${API_VERSION}`);
    assert.equal(upstream.deployment, 'chat-prod', "the target's deployment name");
    assert.equal(upstream.apiVersion, API_VERSION);
    assert.equal(upstream.headers['api-key'], fake.apiKey);
    assert.equal(upstream.headers.authorization, undefined, 'no Authorization header upstream');
    assert.ok(!JSON.stringify(upstream.headers).includes(TEST_KEY), "the client's gateway key never reaches Azure");
    assert.equal(upstream.headers['x-request-id'], response.headers.get('x-request-id'));
    const body = upstream.body as Record<string, unknown>;
    assert.equal(body.temperature, 0.3);
    assert.equal(response.headers.get('x-breakerbox-provider'), 'azure');
    assert.equal(response.headers.get('x-breakerbox-model'), 'chat-prod');
  });

  it('talks to a fake that, like Azure, refuses a request without api-version or api-key', async () => {
    const url = `${fake.endpoint}/openai/deployments/chat-prod/chat/completions`;
    const body = JSON.stringify({ messages: user('az-fake-self-check') });
    const noVersion = await fetch(url, { method: 'POST', headers: { 'api-key': fake.apiKey, 'content-type': 'application/json' }, body });
    assert.equal(noVersion.status, 400);
    assert.match(await noVersion.text(), /api-version/);
    const bearer = await fetch(`${url}?api-version=${API_VERSION}`, { method: 'POST', headers: { authorization: `Bearer ${fake.apiKey}`, 'content-type': 'application/json' }, body });
    assert.equal(bearer.status, 401);
    assert.equal(((await bearer.json()) as { error: { code: string } }).error.code, '401');
  });

  it('uses each target deployment in its own path', async () => {
    const marker = 'az-two-deployments';
    await gateway.client.chat.completions.create({ model: 'gpt-azure', messages: user(marker) });
    await gateway.client.embeddings.create({ model: 'embed-azure', input: `${marker}-embed` });
    assert.deepEqual(
      upstreamRequests(marker).map((request) => [request.deployment, request.operation]),
      [
        ['chat-prod', 'chat'],
        ['embedder', 'embeddings'],
      ],
    );
  });
});

describe('azure-openai provider: chat', { timeout: 20_000 }, () => {
  it('returns the completion as Azure sent it: served model name, filter annotations, usage', async () => {
    const marker = 'az-plain';
    const data = await gateway.client.chat.completions.create({ model: 'gpt-azure', messages: user(marker) });
    assert.equal(data.model, SERVED_MODEL, "Azure's model name, not the deployment nor the public name");
    assert.equal(data.system_fingerprint, AZURE_FINGERPRINT);
    const choice = data.choices[0];
    assert.equal(choice?.finish_reason, 'stop');
    assert.equal(choice?.message.role, 'assistant');
    const extra = data as unknown as { prompt_filter_results?: unknown[]; choices: Array<{ content_filter_results?: Record<string, unknown> }> };
    assert.equal(extra.prompt_filter_results?.length, 1, 'prompt_filter_results passed through');
    assert.ok(extra.choices[0]?.content_filter_results?.violence, 'content_filter_results passed through');
    assert.equal(data.usage?.prompt_tokens, AZURE_PROMPT_TOKENS);
    assert.equal(data.usage?.completion_tokens, azureContentPieces().length);
  });

  it('streams with usage: no prompt-annotation chunk, every chunk with the real id and model', async () => {
    const marker = 'az-stream-usage';
    const stream = await gateway.client.chat.completions.create({
      model: 'gpt-azure',
      messages: user(`${marker} [azure chunks=9]`),
      stream: true,
      stream_options: { include_usage: true },
    });
    const chunks = await collect(stream);
    assert.equal(textOf(chunks), azureContentPieces(9).join(''));
    assert.equal(chunks[0]?.choices[0]?.delta?.role, 'assistant', 'the first chunk is the role chunk, not prompt_filter_results');
    assert.ok(chunks.every((chunk) => chunk.id.startsWith('chatcmpl-az') && chunk.model === SERVED_MODEL));
    assert.ok(chunks.every((chunk) => !('prompt_filter_results' in chunk)));
    const last = chunks.at(-1);
    assert.deepEqual(last?.choices, [], 'usage comes last, with empty choices');
    assert.equal(last?.usage?.prompt_tokens, AZURE_PROMPT_TOKENS);
    assert.equal(last?.usage?.completion_tokens, 9);
    const empty = chunks.filter((chunk) => chunk.choices.length === 0);
    assert.equal(empty.length, 1, 'exactly one usage chunk, and no annotation chunk');
    assert.equal(empty[0]?.usage?.prompt_tokens, AZURE_PROMPT_TOKENS);
    assert.ok(chunks.some((chunk) => chunk.choices[0]?.finish_reason === 'stop'));
    const body = upstreamBody(marker);
    assert.equal(body.stream, true);
    assert.deepEqual(body.stream_options, { include_usage: true });
  });

  it('streams without usage: neither the usage chunk nor the annotation chunk reaches the client', async () => {
    const marker = 'az-stream-no-usage';
    const chunks = await collect(await gateway.client.chat.completions.create({ model: 'gpt-azure', messages: user(marker), stream: true }));
    assert.equal(textOf(chunks), AZURE_REPLY);
    assert.ok(chunks.every((chunk) => chunk.choices.length > 0), 'no chunk with empty choices');
    assert.ok(chunks.every((chunk) => chunk.usage == null), 'no usage on any chunk');
    assert.deepEqual(upstreamBody(marker).stream_options, { include_usage: true }, 'the gateway still asks Azure for usage');
  });

  it("passes on the asynchronous filter's annotation chunk after the finish and completes", async () => {
    const marker = 'az-async-filter';
    const chunks = await collect(await gateway.client.chat.completions.create({ model: 'gpt-azure', messages: user(`${marker} [azure async_filter=1]`), stream: true }));
    assert.equal(textOf(chunks), AZURE_REPLY);
    assert.ok(chunks.some((chunk) => chunk.choices[0]?.finish_reason === 'stop'));
  });

  it('returns one tool call, then several parallel ones', async () => {
    const one = await gateway.client.chat.completions.create({ model: 'gpt-azure', messages: user('az-tool-one [azure tool_calls=1]'), tools: tools('get_weather') });
    const single = one.choices[0];
    assert.equal(single?.finish_reason, 'tool_calls');
    const call = single?.message.tool_calls?.[0];
    assert.ok(call && call.type === 'function');
    assert.equal(call.function.name, 'get_weather');
    assert.equal(call.function.arguments, fakeToolArguments(0, 'get_weather'));

    const many = await gateway.client.chat.completions.create({
      model: 'gpt-azure',
      messages: user('az-tool-many [azure tool_calls=3]'),
      tools: tools('get_weather', 'get_time'),
    });
    const names = (many.choices[0]?.message.tool_calls ?? []).map((entry) => (entry.type === 'function' ? entry.function.name : ''));
    assert.deepEqual(names, ['get_weather', 'get_time', 'get_weather']);
  });

  it('streams parallel tool calls whose fragments reassemble per call', async () => {
    const stream = await gateway.client.chat.completions.create({
      model: 'gpt-azure',
      messages: user('az-tool-stream [azure tool_calls=3]'),
      tools: tools('get_weather', 'get_time', 'lookup_order'),
      stream: true,
    });
    const calls = new Map<number, { name: string; arguments: string }>();
    let finish: string | null | undefined;
    for (const chunk of await collect(stream)) {
      const choice = chunk.choices[0];
      if (choice?.finish_reason) finish = choice.finish_reason;
      for (const delta of choice?.delta?.tool_calls ?? []) {
        const entry = calls.get(delta.index) ?? { name: delta.function?.name ?? '', arguments: '' };
        entry.arguments += delta.function?.arguments ?? '';
        calls.set(delta.index, entry);
      }
    }
    assert.equal(finish, 'tool_calls');
    assert.deepEqual(
      [...calls.entries()].map(([index, entry]) => [index, entry.name, entry.arguments]),
      ['get_weather', 'get_time', 'lookup_order'].map((name, index) => [index, name, fakeToolArguments(index, name)]),
    );
  });
});

describe('azure-openai provider: embeddings', { timeout: 20_000 }, () => {
  it('returns float and base64 embeddings from the embeddings deployment', async () => {
    const marker = 'az-embed';
    const data = await gateway.client.embeddings.create({ model: 'embed-azure', input: [marker, 'second'], encoding_format: 'float' });
    assert.deepEqual(
      data.data.map((item) => item.embedding),
      [0, 1].map((i) => fakeEmbedding(i, AZURE_EMBEDDING_DIMENSIONS)),
    );
    assert.equal(data.model, 'text-embedding-3-small');
    assert.ok(data.usage.prompt_tokens > 0);
    const upstream = upstreamRequest(marker);
    assert.equal(upstream.url, `/openai/deployments/embedder/embeddings?api-version=${API_VERSION}`);
    assert.equal(upstream.headers['api-key'], fake.apiKey);

    // The SDK asks for base64 by default and decodes it.
    const viaDefault = await gateway.client.embeddings.create({ model: 'embed-azure', input: 'az-embed-default', dimensions: 4 });
    assert.deepEqual([...(viaDefault.data[0]?.embedding ?? [])], fakeEmbedding(0, 4));
    assert.equal(upstreamBody('az-embed-default').encoding_format, 'base64');
  });
});

describe('azure-openai provider: content filter', { timeout: 20_000 }, () => {
  it('turns a blocked prompt into a 400 content_filter (BB_CONTENT_FILTERED) naming the category', async () => {
    const error = await apiError(gateway.client.chat.completions.create({ model: 'gpt-azure', messages: user('az-blocked [azure error=content_filter]') }));
    assert.equal(error.status, 400);
    assert.equal(error.code, 'content_filter');
    assert.equal(bbCode(error), 'BB_CONTENT_FILTERED');
    assert.match(error.message, /content management policy/);
    assert.match(error.message, /filtered: violence/);
  });

  it('names a prompt shield (jailbreak) hit', async () => {
    const error = await apiError(gateway.client.chat.completions.create({ model: 'gpt-azure', messages: user('az-jailbreak [azure error=jailbreak]') }));
    assert.equal(bbCode(error), 'BB_CONTENT_FILTERED');
    assert.match(error.message, /filtered: jailbreak/);
  });

  it('does not try the next target after a blocked prompt', async () => {
    const marker = 'az-blocked-no-fallback';
    const error = await apiError(gateway.client.chat.completions.create({ model: 'gpt-azure-pair', messages: user(`${marker} [azure error=content_filter]`) }));
    assert.equal(bbCode(error), 'BB_CONTENT_FILTERED');
    assert.deepEqual(upstreamRequests(marker).map((request) => request.deployment), ['chat-prod']);
  });

  it('blocks a streaming request before any chunk with the same 400', async () => {
    const error = await apiError(
      gateway.client.chat.completions.create({ model: 'gpt-azure', messages: user('az-blocked-stream [azure error=content_filter]'), stream: true }),
    );
    assert.equal(error.status, 400);
    assert.equal(error.code, 'content_filter');
  });

  it('passes on an answer cut by the output filter with finish_reason content_filter', async () => {
    const data = await gateway.client.chat.completions.create({ model: 'gpt-azure', messages: user('az-filtered-answer [azure filter_answer=1]') });
    assert.equal(data.choices[0]?.finish_reason, 'content_filter');
    assert.equal(data.choices[0]?.message.content, azureContentPieces().slice(0, 2).join(''));

    const chunks = await collect(
      await gateway.client.chat.completions.create({ model: 'gpt-azure', messages: user('az-filtered-stream [azure filter_answer=1]'), stream: true }),
    );
    assert.equal(textOf(chunks), azureContentPieces().slice(0, 2).join(''));
    assert.equal(chunks.at(-1)?.choices[0]?.finish_reason, 'content_filter');
  });
});

describe('azure-openai provider: upstream errors', { timeout: 20_000 }, () => {
  const create = (marker: string, model = 'gpt-azure') => gateway.client.chat.completions.create({ model, messages: user(marker) });

  it('passes a 429 on with its Retry-After', async () => {
    const error = await apiError(create('az-429 [azure status=429 retry_after=7]'));
    assert.equal(error.status, 429);
    assert.equal(error.headers?.get('retry-after'), '7');
    assert.equal(error.code, 'rate_limit_exceeded');
    assert.match(error.message, /retry after 7 seconds/);
  });

  for (const status of [500, 503]) {
    it(`maps an upstream ${status} to 503 BB_UPSTREAM_OVERLOADED`, async () => {
      const error = await apiError(create(`az-${status} [azure status=${status}]`));
      assert.equal(error.status, 503);
      assert.equal(bbCode(error), 'BB_UPSTREAM_OVERLOADED');
    });
  }

  it('maps a missing deployment (DeploymentNotFound) to 404 model_not_found', async () => {
    const marker = 'az-missing-deployment';
    const error = await apiError(create(marker, 'gpt-azure-missing'));
    assert.equal(error.status, 404);
    assert.equal(error.code, 'model_not_found');
    assert.equal(bbCode(error), 'BB_UPSTREAM_NOT_FOUND');
    assert.match(error.message, /deployment for this resource does not exist/);
    assert.equal(upstreamRequest(marker).url, `/openai/deployments/no-such-deployment/chat/completions?api-version=${API_VERSION}`);
  });

  it("turns an upstream 401 into a 502 BB_UPSTREAM_AUTH that shows no part of either key", async () => {
    const marker = 'az-401-wrong-key';
    const response = await fetch(`${gateway.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TEST_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gpt-azure-wrong-key', messages: user(marker) }),
    });
    const text = await response.text();
    assert.equal(response.status, 502);
    assert.equal((JSON.parse(text) as { error: { bb_code: string } }).error.bb_code, 'BB_UPSTREAM_AUTH');
    assert.equal(upstreamRequest(marker).headers['api-key'], WRONG_KEY, 'the fake really was sent the wrong key');
    const visible = text + JSON.stringify([...response.headers]);
    for (const secret of [WRONG_KEY, fake.apiKey]) {
      for (let at = 0; at + 6 <= secret.length; at += 1) {
        const fragment = secret.slice(at, at + 6);
        assert.ok(!visible.includes(fragment), `key fragment ${JSON.stringify(fragment)} leaked`);
      }
    }
  });
});

describe('azure-openai provider: older api-version', { timeout: 20_000 }, () => {
  it('sends max_tokens and no stream_options, and still streams', async () => {
    const marker = 'az-old-version';
    const data = await gateway.client.chat.completions.create({ model: 'gpt-azure-old', messages: user(marker), max_completion_tokens: 40 });
    assert.equal(data.choices[0]?.message.content, AZURE_REPLY);
    const upstream = upstreamRequest(marker);
    assert.equal(upstream.apiVersion, OLD_API_VERSION);
    const body = upstream.body as Record<string, unknown>;
    assert.equal(body.max_tokens, 40);
    assert.equal('max_completion_tokens' in body, false);

    const streamMarker = 'az-old-version-stream';
    const chunks = await collect(await gateway.client.chat.completions.create({ model: 'gpt-azure-old', messages: user(streamMarker), stream: true }));
    assert.equal(textOf(chunks), AZURE_REPLY);
    assert.equal('stream_options' in upstreamBody(streamMarker), false);
  });
});

describe('azure-openai provider: a client of another dialect (Anthropic SDK)', { timeout: 20_000 }, () => {
  it("streams with the answer's own id and model, not the annotation chunk's empty ones", async () => {
    const anthropic = new Anthropic({ apiKey: TEST_KEY, baseURL: gateway.url, maxRetries: 0 });
    const stream = anthropic.messages.stream({ model: 'gpt-azure', max_tokens: 64, messages: [{ role: 'user', content: 'az-anthropic-stream' }] });
    const message = await stream.finalMessage();
    assert.match(message.id, /chatcmpl-az/);
    assert.equal(message.model, SERVED_MODEL);
    assert.equal(message.content[0]?.type === 'text' ? message.content[0].text : '', AZURE_REPLY);
    assert.equal(message.usage.output_tokens, azureContentPieces().length);
    assert.equal(upstreamBody('az-anthropic-stream').max_completion_tokens, 64);
  });
});
