import assert from 'node:assert/strict';
import { once } from 'node:events';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { createServer } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { ChatCompletionChunk } from 'openai/resources/chat/completions';
import {
  DEFAULT_EMBEDDING_DIMENSIONS,
  FAKE_REPLY,
  FAKE_SYSTEM_FINGERPRINT,
  FAKE_USAGE,
  fakeContentPieces,
  fakeEmbedding,
  fakeToolArguments,
  maskKey,
  startFakeOpenAI,
  type FakeOpenAI,
  type FakeStream,
  type RecordedRequest,
} from './fakes/openai-upstream.js';
import { apiError, bbCode } from './helpers/api-error.js';
import { ONE_ATTEMPT_PER_TARGET, startTestGateway, TEST_KEY, type TestGateway } from './helpers/gateway.js';

/** The key the gateway is (wrongly) configured with for the `openai-wrong-key` provider. */
const WRONG_KEY = 'sk-proj-Zq8Xv2Lm9Tr4Wp7Ny3Kd5Hb';
const UPSTREAM_MODEL = 'gpt-4o-mini-2024-07-18';

let fake: FakeOpenAI;
let gateway: TestGateway;

/** A port nothing listens on (bound, then released), for a connection-refused target. */
async function closedPort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  assert.ok(address && typeof address === 'object');
  server.close();
  await once(server, 'close');
  return address.port;
}

function config(deadPort: number): string {
  return `
${ONE_ATTEMPT_PER_TARGET}
providers:
  openai:
    type: openai
    api_key: \${env:FAKE_OPENAI_KEY}
    base_url: ${fake.url}
  openai-wrong-key:
    type: openai
    api_key: \${env:WRONG_OPENAI_KEY}
    base_url: ${fake.url}
  openai-impatient:
    type: openai
    api_key: \${env:FAKE_OPENAI_KEY}
    base_url: ${fake.url}
    timeouts: { idle_ms: 300 }
  unreachable:
    type: openai
    api_key: \${env:FAKE_OPENAI_KEY}
    base_url: http://127.0.0.1:${deadPort}/v1
    timeouts: { connect_ms: 3000 }
  groq:
    type: openai-compatible
    vendor: groq
    api_key: \${env:FAKE_OPENAI_KEY}
    base_url: ${fake.url}
  mistral:
    type: openai-compatible
    vendor: mistral
    api_key: \${env:FAKE_OPENAI_KEY}
    base_url: ${fake.url}
  openai-own-pool:
    type: openai
    api_key: \${env:FAKE_OPENAI_KEY}
    base_url: ${fake.url}
models:
  gpt-public:
    targets: [{ provider: openai, model: ${UPSTREAM_MODEL} }]
  gpt-tuned:
    targets: [{ provider: openai, model: ${UPSTREAM_MODEL}, params: { temperature: 0.25, top_p: 0.5 } }]
  gpt-wrong-key:
    targets: [{ provider: openai-wrong-key, model: ${UPSTREAM_MODEL} }]
  gpt-impatient:
    targets: [{ provider: openai-impatient, model: ${UPSTREAM_MODEL} }]
  gpt-fallback:
    targets:
      - { provider: unreachable, model: gpt-dead }
      - { provider: openai, model: ${UPSTREAM_MODEL} }
  embed:
    targets: [{ provider: openai, model: text-embedding-3-small }]
  groq-llama:
    targets: [{ provider: groq, model: llama-3.1-8b-instant }]
  mistral-small:
    targets: [{ provider: mistral, model: mistral-small-latest }]
  gpt-own-pool:
    targets: [{ provider: openai-own-pool, model: ${UPSTREAM_MODEL} }]
`;
}

/** The request the fake received whose body mentions `marker` (each test uses its own). */
function upstreamRequest(marker: string): RecordedRequest {
  const found = fake.requests.filter((request) => JSON.stringify(request.body).includes(marker));
  assert.equal(found.length, 1, `expected exactly one upstream request for ${marker}, got ${found.length}`);
  return found[0] as RecordedRequest;
}

function upstreamBody(marker: string): Record<string, unknown> {
  return upstreamRequest(marker).body as Record<string, unknown>;
}

function upstreamStream(marker: string): FakeStream {
  const found = fake.streams.find((stream) => JSON.stringify(stream.request.body).includes(marker));
  assert.ok(found, `no upstream stream for ${marker}`);
  return found;
}

async function until(predicate: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

const user = (content: string) => [{ role: 'user' as const, content }];

before(async () => {
  fake = await startFakeOpenAI();
  const deadPort = await closedPort();
  gateway = await startTestGateway(config(deadPort), { FAKE_OPENAI_KEY: fake.apiKey, WRONG_OPENAI_KEY: WRONG_KEY });
});

after(async () => {
  await gateway?.close();
  await fake?.close();
});

describe('openai provider: non-streaming chat', { timeout: 20_000 }, () => {
  it('returns the completion with usage, routing headers, and sends the upstream model name', async () => {
    const marker = 'plain-completion-1';
    const { data, response } = await gateway.client.chat.completions
      .create({ model: 'gpt-public', messages: user(marker), temperature: 1.2 })
      .withResponse();
    const choice = data.choices[0];
    assert.ok(choice);
    assert.equal(choice.message.content, FAKE_REPLY);
    assert.equal(choice.message.role, 'assistant');
    assert.equal(choice.finish_reason, 'stop');
    assert.equal(data.object, 'chat.completion');
    assert.equal(data.model, UPSTREAM_MODEL);
    assert.equal(data.system_fingerprint, FAKE_SYSTEM_FINGERPRINT);
    const completionTokens = fakeContentPieces().length + FAKE_USAGE.reasoningTokens;
    assert.equal(data.usage?.prompt_tokens, FAKE_USAGE.promptTokens);
    assert.equal(data.usage?.completion_tokens, completionTokens);
    assert.equal(data.usage?.total_tokens, FAKE_USAGE.promptTokens + completionTokens);
    assert.equal(data.usage?.prompt_tokens_details?.cached_tokens, FAKE_USAGE.cachedTokens);
    assert.equal(data.usage?.completion_tokens_details?.reasoning_tokens, FAKE_USAGE.reasoningTokens);

    assert.equal(response.headers.get('x-breakerbox-provider'), 'openai');
    assert.equal(response.headers.get('x-breakerbox-model'), UPSTREAM_MODEL);
    assert.equal(response.headers.get('x-breakerbox-attempts'), '1');

    const upstream = upstreamRequest(marker);
    const body = upstream.body as Record<string, unknown>;
    assert.equal(body.model, UPSTREAM_MODEL, 'the upstream sees the target model, not the public name');
    assert.equal(body.temperature, 1.2);
    assert.equal(body.stream, undefined);
    assert.equal(upstream.headers.authorization, `Bearer ${fake.apiKey}`, "the gateway's own upstream key");
    assert.ok(!JSON.stringify(upstream.headers).includes(TEST_KEY), "the client's gateway key never reaches the upstream");
    assert.equal(upstream.headers['x-request-id'], response.headers.get('x-request-id'));
  });

  it("applies the target's params over the client's", async () => {
    const marker = 'params-override-1';
    await gateway.client.chat.completions.create({ model: 'gpt-tuned', messages: user(marker), temperature: 1.2, top_p: 0.9 });
    const body = upstreamBody(marker);
    assert.equal(body.temperature, 0.25);
    assert.equal(body.top_p, 0.5);
    assert.equal(body.model, UPSTREAM_MODEL);
  });

  it('returns tool calls', async () => {
    const marker = 'plain-tools-1';
    const tools = ['get_weather', 'get_time'].map((name) => ({ type: 'function' as const, function: { name, parameters: { type: 'object' } } }));
    const data = await gateway.client.chat.completions.create({ model: 'gpt-public', messages: user(`${marker} [fake tool_calls=2]`), tools });
    const choice = data.choices[0];
    assert.ok(choice);
    assert.equal(choice.finish_reason, 'tool_calls');
    assert.equal(choice.message.content, null);
    const calls = (choice.message.tool_calls ?? []).map((call) => {
      assert.equal(call.type, 'function');
      return call.type === 'function' ? [call.function.name, call.function.arguments] : [];
    });
    assert.deepEqual(calls, [
      ['get_weather', fakeToolArguments(0, 'get_weather')],
      ['get_time', fakeToolArguments(1, 'get_time')],
    ]);
  });
});

describe('openai provider: streaming chat', { timeout: 20_000 }, () => {
  async function collect(marker: string, includeUsage: boolean) {
    const stream = await gateway.client.chat.completions.create({
      model: 'gpt-public',
      messages: user(`${marker} [fake chunks=12]`),
      stream: true,
      ...(includeUsage ? { stream_options: { include_usage: true } } : {}),
    });
    const chunks: ChatCompletionChunk[] = [];
    for await (const chunk of stream) chunks.push(chunk);
    return chunks;
  }

  it('reassembles the text and forwards the usage chunk when the client asked for it', async () => {
    const marker = 'stream-usage-yes';
    const chunks = await collect(marker, true);
    const text = chunks.map((chunk) => chunk.choices[0]?.delta.content ?? '').join('');
    assert.equal(text, fakeContentPieces(12).join(''));
    assert.equal(chunks[0]?.choices[0]?.delta.role, 'assistant');
    assert.ok(chunks.some((chunk) => chunk.choices[0]?.finish_reason === 'stop'));
    const last = chunks.at(-1);
    assert.ok(last);
    assert.deepEqual(last.choices, [], 'usage comes in a final chunk with empty choices');
    assert.equal(chunks.filter((chunk) => chunk.choices.length === 0).length, 1, 'exactly one usage chunk');
    assert.equal(last.usage?.prompt_tokens, FAKE_USAGE.promptTokens);
    assert.equal(last.usage?.completion_tokens, 12 + FAKE_USAGE.reasoningTokens);
    assert.equal(last.usage?.prompt_tokens_details?.cached_tokens, FAKE_USAGE.cachedTokens);
    assert.equal(last.usage?.completion_tokens_details?.reasoning_tokens, FAKE_USAGE.reasoningTokens);
    const body = upstreamBody(marker);
    assert.equal(body.stream, true);
    assert.deepEqual(body.stream_options, { include_usage: true });
    assert.equal(body.model, UPSTREAM_MODEL);
  });

  it('ends the answer at [DONE] and keeps the upstream connection when the upstream ends its body later', async () => {
    // Some servers send the chunked body's end in a later packet than `data: [DONE]`. Destroying
    // the body there closed the connection, and the next request paid a new (TLS) connection.
    const answer = async (marker: string) => {
      const stream = await gateway.client.chat.completions.create({ model: 'gpt-own-pool', messages: user(`${marker} [fake chunks=3 done_linger_ms=300]`), stream: true });
      let text = '';
      for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
      return text;
    };
    assert.equal(await answer('linger-1'), fakeContentPieces(3).join(''));
    const first = upstreamStream('linger-1');
    assert.equal(first.state, 'streaming', 'the client had the whole answer before the upstream ended its body');
    await until(() => first.state === 'completed', 5_000, 'the upstream to end its body');
    assert.equal(first.clientClosed, false, 'the gateway read the body to its end instead of closing the connection');
    // Let the gateway's pool see the connection free again before the next request.
    await until(() => first.closedAt !== undefined, 5_000, 'the response to finish');
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(await answer('linger-2'), fakeContentPieces(3).join(''));
    assert.equal(upstreamStream('linger-2').request.connection, first.request.connection, 'the second request came on the same connection');
  });

  it('closes the upstream connection when the body has not ended within a second of [DONE]', async () => {
    const stream = await gateway.client.chat.completions.create({ model: 'gpt-own-pool', messages: user('linger-long [fake chunks=2 done_linger_ms=4000]'), stream: true });
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
    assert.equal(text, fakeContentPieces(2).join(''));
    const upstream = upstreamStream('linger-long');
    // Waiting for a body that does not end would hold the connection, and a shutdown, for as long.
    await until(() => upstream.closedAt !== undefined, 3_000, 'the gateway to give up on the body');
    assert.equal(upstream.clientClosed, true);
    assert.equal(upstream.state, 'streaming', 'closed before the upstream ended its body');
  });

  it('asks the upstream for usage anyway but does not forward it to a client that did not ask', async () => {
    const marker = 'stream-usage-no';
    const chunks = await collect(marker, false);
    const text = chunks.map((chunk) => chunk.choices[0]?.delta.content ?? '').join('');
    assert.equal(text, fakeContentPieces(12).join(''));
    assert.ok(chunks.every((chunk) => chunk.choices.length > 0), 'no usage-only chunk');
    assert.ok(chunks.every((chunk) => chunk.usage == null), 'no usage on any chunk');
    assert.deepEqual(upstreamBody(marker).stream_options, { include_usage: true }, 'the gateway always asks upstream');
  });

  it('streams several parallel tool calls whose argument fragments reassemble per call', async () => {
    const marker = 'stream-tools';
    const names = ['get_weather', 'get_time', 'lookup_order'];
    const tools = names.map((name) => ({ type: 'function' as const, function: { name, parameters: { type: 'object' } } }));
    const stream = await gateway.client.chat.completions.create({
      model: 'gpt-public',
      messages: user(`${marker} [fake tool_calls=4 arg_fragment=5]`),
      tools,
      stream: true,
    });
    const calls = new Map<number, { id: string; name: string; arguments: string; deltas: number }>();
    let finish: string | null | undefined;
    for await (const chunk of stream) {
      const choice = chunk.choices[0];
      if (!choice) continue;
      if (choice.finish_reason) finish = choice.finish_reason;
      for (const delta of choice.delta.tool_calls ?? []) {
        let call = calls.get(delta.index);
        if (!call) {
          assert.ok(delta.id, 'the first delta of a call carries its id');
          assert.equal(delta.type, 'function');
          call = { id: delta.id, name: delta.function?.name ?? '', arguments: '', deltas: 0 };
          calls.set(delta.index, call);
        } else {
          assert.equal(delta.id, undefined, 'later deltas carry only argument fragments');
        }
        call.arguments += delta.function?.arguments ?? '';
        call.deltas += 1;
      }
    }
    assert.equal(finish, 'tool_calls');
    assert.deepEqual([...calls.keys()], [0, 1, 2, 3]);
    const expectedNames = [0, 1, 2, 3].map((i) => names[i % names.length] as string);
    for (const [index, call] of calls) {
      const name = expectedNames[index] as string;
      assert.equal(call.name, name);
      assert.equal(call.arguments, fakeToolArguments(index, name));
      assert.deepEqual(JSON.parse(call.arguments), JSON.parse(fakeToolArguments(index, name)));
      assert.ok(call.deltas > 3, 'arguments really came in fragments');
    }
    assert.equal(new Set([...calls.values()].map((call) => call.id)).size, 4, 'distinct call ids');
  });
});

describe('openai provider: embeddings', { timeout: 20_000 }, () => {
  it('returns float embeddings', async () => {
    const marker = 'embed-float';
    const data = await gateway.client.embeddings.create({ model: 'embed', input: [marker, 'second'], encoding_format: 'float' });
    assert.equal(data.object, 'list');
    assert.deepEqual(
      data.data.map((item) => [item.index, item.embedding]),
      [0, 1].map((i) => [i, fakeEmbedding(i, DEFAULT_EMBEDDING_DIMENSIONS)]),
    );
    assert.ok(data.usage.prompt_tokens > 0);
    const body = upstreamBody(marker);
    assert.equal(body.model, 'text-embedding-3-small');
    assert.equal(body.encoding_format, 'float');
  });

  it('returns base64 embeddings unchanged, and the SDK default (base64) decodes to the same floats', async () => {
    const marker = 'embed-base64';
    const data = await gateway.client.embeddings.create({ model: 'embed', input: marker, encoding_format: 'base64', dimensions: 5 });
    const encoded = data.data[0]?.embedding as unknown;
    assert.equal(typeof encoded, 'string');
    const bytes = Buffer.from(encoded as string, 'base64');
    const decoded = [...new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4)];
    assert.deepEqual(decoded, fakeEmbedding(0, 5));
    assert.equal(upstreamBody(marker).dimensions, 5);

    const viaDefault = await gateway.client.embeddings.create({ model: 'embed', input: 'embed-sdk-default' });
    assert.deepEqual([...(viaDefault.data[0]?.embedding ?? [])], fakeEmbedding(0, DEFAULT_EMBEDDING_DIMENSIONS));
    assert.equal(upstreamBody('embed-sdk-default').encoding_format, 'base64');
  });
});

describe('openai provider: upstream errors', { timeout: 20_000 }, () => {
  const create = (marker: string, model = 'gpt-public') => gateway.client.chat.completions.create({ model, messages: user(marker) });

  it('passes a 400 on with the upstream message and param', async () => {
    const error = await apiError(create('err-400 [fake error=invalid_param]'));
    assert.equal(error.status, 400);
    assert.match(error.message, /Invalid value for 'top_logprobs'/);
    assert.equal(error.param, 'top_logprobs');
  });

  it('maps context_length_exceeded to a 400 with that code', async () => {
    const error = await apiError(create('err-ctx [fake error=context_length]'));
    assert.equal(error.status, 400);
    assert.equal(error.code, 'context_length_exceeded');
    assert.match(error.message, /maximum context length/);
  });

  it('maps an upstream 404 to model_not_found', async () => {
    const error = await apiError(create('err-404 [fake status=404]'));
    assert.equal(error.status, 404);
    assert.equal(error.code, 'model_not_found');
  });

  it('passes a 429 on with its retry-after', async () => {
    const error = await apiError(create('err-429 [fake status=429 retry_after=7]'));
    assert.equal(error.status, 429);
    assert.equal(error.headers?.get('retry-after'), '7');
    assert.equal(error.code, 'rate_limit_exceeded');
  });

  for (const status of [500, 503]) {
    it(`maps an upstream ${status} to 503 BB_UPSTREAM_OVERLOADED`, async () => {
      const error = await apiError(create(`err-${status} [fake status=${status}]`));
      assert.equal(error.status, 503);
      assert.equal(bbCode(error), 'BB_UPSTREAM_OVERLOADED');
    });
  }

  it("turns an upstream 401 into a 502 that shows no part of the gateway's upstream key", async () => {
    const marker = 'err-401-wrong-key';
    const response = await fetch(`${gateway.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TEST_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gpt-wrong-key', messages: user(marker) }),
    });
    const text = await response.text();
    assert.equal(response.status, 502);
    assert.equal((JSON.parse(text) as { error: { bb_code: string } }).error.bb_code, 'BB_UPSTREAM_AUTH');
    // The fake really did answer 401 quoting part of the key it was sent.
    assert.equal(upstreamRequest(marker).headers.authorization, `Bearer ${WRONG_KEY}`);
    const visible = text + JSON.stringify([...response.headers]);
    const secrets = [WRONG_KEY, fake.apiKey];
    for (const secret of secrets) {
      assert.ok(!visible.includes(maskKey(secret)), 'the masked key is not shown');
      for (let at = 0; at + 6 <= secret.length; at += 1) {
        const fragment = secret.slice(at, at + 6);
        assert.ok(!visible.includes(fragment), `key fragment ${JSON.stringify(fragment)} leaked`);
      }
    }
  });
});

describe('openai-compatible vendors', { timeout: 20_000 }, () => {
  it('groq: refuses logprobs with a 400 before calling the upstream', async () => {
    const marker = 'groq-logprobs';
    const before = fake.requests.length;
    const error = await apiError(gateway.client.chat.completions.create({ model: 'groq-llama', messages: user(marker), logprobs: true }));
    assert.equal(error.status, 400);
    assert.equal(error.param, 'logprobs');
    assert.equal(error.code, 'unsupported_parameter');
    assert.equal(fake.requests.length, before, 'nothing reached the upstream');
  });

  it('groq: forwards a supported request, dropping messages[].name', async () => {
    const marker = 'groq-plain';
    const data = await gateway.client.chat.completions.create({ model: 'groq-llama', messages: [{ role: 'user', content: marker, name: 'alice' }] });
    assert.equal(data.choices[0]?.message.content, FAKE_REPLY);
    const body = upstreamBody(marker);
    assert.equal(body.model, 'llama-3.1-8b-instant');
    assert.deepEqual(body.messages, [{ role: 'user', content: marker }]);
  });

  it('mistral: renames seed to random_seed and uses max_tokens', async () => {
    const marker = 'mistral-seed';
    await gateway.client.chat.completions.create({ model: 'mistral-small', messages: user(marker), seed: 42, max_completion_tokens: 64 });
    const body = upstreamBody(marker);
    assert.equal(body.random_seed, 42);
    assert.equal('seed' in body, false);
    assert.equal(body.max_tokens, 64);
    assert.equal('max_completion_tokens' in body, false);
    assert.equal(body.model, 'mistral-small-latest');
  });
});

describe('openai provider: fallback and failures mid-stream', { timeout: 30_000 }, () => {
  it('falls back from a refused connection to the next target', async () => {
    const marker = 'fallback-1';
    const { data, response } = await gateway.client.chat.completions.create({ model: 'gpt-fallback', messages: user(marker) }).withResponse();
    assert.equal(data.choices[0]?.message.content, FAKE_REPLY);
    assert.equal(response.headers.get('x-breakerbox-attempts'), '2');
    assert.equal(response.headers.get('x-breakerbox-provider'), 'openai');
    assert.equal(upstreamBody(marker).model, UPSTREAM_MODEL);
  });

  it('closes the upstream connection within a second when the client aborts mid-stream', async () => {
    const marker = 'client-abort';
    const controller = new AbortController();
    const stream = await gateway.client.chat.completions.create(
      { model: 'gpt-public', messages: user(`${marker} [fake chunks=50 delay_ms=50]`), stream: true },
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
    const upstream = upstreamStream(marker);
    assert.ok(await fake.waitForClose(upstream, 1_000), 'the upstream connection closed within 1 s');
    assert.equal(upstream.clientClosed, true);
    assert.ok(upstream.eventsWritten < upstream.plannedEvents, 'the fake did not get to finish');
  });

  it('gives the client a terminal error event when the upstream drops the connection mid-stream', async () => {
    const marker = 'upstream-disconnect';
    const stream = await gateway.client.chat.completions.create({
      model: 'gpt-public',
      messages: user(`${marker} [fake chunks=20 disconnect_after=5]`),
      stream: true,
    });
    let text = '';
    const error = await apiError(
      (async () => {
        for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
      })(),
    );
    assert.equal(text, fakeContentPieces(20).slice(0, 4).join(''), 'what came before the break was delivered');
    assert.equal(bbCode(error), 'BB_UPSTREAM_CONNECT');
    assert.equal(upstreamStream(marker).state, 'disconnected');
  });

  it('gives the client a terminal error event when the upstream stalls past the idle timeout', async () => {
    const marker = 'upstream-stall';
    const stream = await gateway.client.chat.completions.create({
      model: 'gpt-impatient',
      messages: user(`${marker} [fake chunks=10 stall_after=3]`),
      stream: true,
    });
    let text = '';
    const error = await apiError(
      (async () => {
        for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
      })(),
    );
    assert.equal(text, fakeContentPieces(10).slice(0, 2).join(''));
    assert.equal(bbCode(error), 'BB_UPSTREAM_TIMEOUT');
    const upstream = upstreamStream(marker);
    assert.ok(await fake.waitForClose(upstream, 2_000), 'the gateway hung up on the stalled upstream');
    assert.equal(upstream.state, 'stalled');
  });

  it(
    'gives the client a terminal error event when the upstream ends the stream without [DONE]',
    async () => {
      const marker = 'upstream-truncate';
      const stream = await gateway.client.chat.completions.create({
        model: 'gpt-public',
        messages: user(`${marker} [fake chunks=20 truncate_after=5]`),
        stream: true,
      });
      let text = '';
      await apiError(
        (async () => {
          for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
        })(),
      );
      assert.equal(text, fakeContentPieces(20).slice(0, 4).join(''));
    },
  );
});

describe('openai provider: a slow reader back-pressures the upstream', { timeout: 60_000 }, () => {
  // Loopback sockets buffer a lot (about 4 MB per hop was measured here, two hops), so the stream
  // must dwarf them for "bounded" to mean anything: about 50 MB, in 8 KB content deltas.
  const CHUNKS = 6000;
  const CHUNK_BYTES = 8192;
  /**
   * How far the fake may get ahead of the reader: kernel buffers on both hops plus the gateway's
   * own. A gateway that read the upstream regardless of its client would reach the whole stream.
   */
  const MAX_IN_FLIGHT = 20 * 1024 * 1024;

  it('pauses the upstream while the client does not read, then completes intact', async () => {
    const marker = 'slow-reader';
    const body = JSON.stringify({ model: 'gpt-public', stream: true, messages: user(`${marker} [fake chunks=${CHUNKS} chunk_bytes=${CHUNK_BYTES}]`) });
    const req = httpRequest(`${gateway.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TEST_KEY}`, 'content-type': 'application/json' },
    });
    req.end(body);
    const [res] = (await once(req, 'response')) as [IncomingMessage];
    assert.equal(res.statusCode, 200);
    const parts: Buffer[] = [];
    let received = 0;
    let paused = false;
    res.on('data', (chunk: Buffer) => {
      parts.push(chunk);
      received += chunk.length;
      if (!paused && received >= 16 * 1024) {
        paused = true;
        res.pause();
      }
    });
    const ended = once(res, 'end');

    await until(() => paused && fake.streams.some((s) => JSON.stringify(s.request.body).includes(marker)), 10_000, 'the stream to start');
    const upstream = upstreamStream(marker);
    // Wait until the fake is blocked on 'drain' and has stopped writing for a while.
    let last = -1;
    let stableSince = Date.now();
    await until(
      () => {
        if (upstream.bytesWritten !== last) {
          last = upstream.bytesWritten;
          stableSince = Date.now();
        }
        return upstream.waitingForDrain && Date.now() - stableSince >= 500;
      },
      20_000,
      'the upstream to be held back by back-pressure',
    );
    const inFlight = upstream.bytesWritten - received;
    assert.ok(upstream.backpressureCount >= 1, 'write() returned false at least once');
    assert.equal(upstream.state, 'streaming');
    assert.ok(upstream.eventsWritten < upstream.plannedEvents, 'the fake could not write everything');
    assert.ok(CHUNKS * CHUNK_BYTES > 2 * MAX_IN_FLIGHT, 'the stream is far larger than the bound');
    assert.ok(inFlight < MAX_IN_FLIGHT, `the fake is ${inFlight} bytes ahead of the reader (bound ${MAX_IN_FLIGHT})`);

    res.resume();
    await ended;
    const events = Buffer.concat(parts)
      .toString('utf8')
      .split('\n\n')
      .filter((event) => event !== '')
      .map((event) => {
        assert.ok(event.startsWith('data: '), `an SSE data event: ${event.slice(0, 80)}`);
        return event.slice(6);
      });
    assert.equal(events.at(-1), '[DONE]');
    const chunks = events.slice(0, -1).map((data) => JSON.parse(data) as ChatCompletionChunk);
    const content = chunks.map((chunk) => chunk.choices[0]?.delta.content).filter((text): text is string => !!text);
    assert.deepEqual(content, fakeContentPieces(CHUNKS, CHUNK_BYTES), 'every chunk, in order');
    assert.equal(upstream.state, 'completed');
    assert.equal(upstream.clientClosed, false);
  });
});
