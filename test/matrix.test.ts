/**
 * The dialect x provider matrix: every client dialect (the official `openai` and
 * `@anthropic-ai/sdk` SDKs) against every provider (the five fake upstreams and the in-process
 * mock), streaming and not, a text answer and one tool call, through ONE gateway. Each cell checks
 * that the SDK parses the answer and that text (or tool name and arguments), finish/stop reason and
 * usage are exactly what that fake's fixture says. Then passthrough cells (same dialect on both
 * sides: the upstream gets the client's own body, only the model replaced) and "awkward stream"
 * cells (CRLF, pings, UTF-8 split across writes, errors and cuts mid-stream), which must end with
 * the right text or a clean terminal error, never a crash or a silent truncation.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import type { ChatCompletionChunk, ChatCompletionCreateParams, ChatCompletionTool } from 'openai/resources/chat/completions';
import type { CanonicalRequest } from '../src/core/canonical.js';
import { countTextTokens, decodeTokens, encodeText, estimatePromptTokens } from '../src/usage/token-estimate.js';
import * as anthropicFake from './fakes/anthropic-upstream.js';
import * as azureFake from './fakes/azure-openai-upstream.js';
import * as bedrockFake from './fakes/bedrock-upstream.js';
import * as geminiFake from './fakes/gemini-upstream.js';
import * as openaiFake from './fakes/openai-upstream.js';
import { startTestGateway, TEST_KEY, type TestGateway } from './helpers/gateway.js';

// ---------------------------------------------------------------------------------------------
// The setup: five fakes, one gateway, one public model per provider.

const CLIENTS = ['openai', 'anthropic'] as const;
const PROVIDERS = ['openai', 'anthropic', 'gemini', 'azure-openai', 'bedrock', 'mock'] as const;
const KINDS = ['text', 'tool'] as const;
type ClientName = (typeof CLIENTS)[number];
type ProviderName = (typeof PROVIDERS)[number];
type Kind = (typeof KINDS)[number];

const UPSTREAM_MODEL: Record<ProviderName, string> = {
  openai: 'gpt-4o-mini-2024-07-18',
  anthropic: 'claude-sonnet-4-5',
  gemini: 'gemini-2.5-flash',
  'azure-openai': 'chat-prod',
  bedrock: 'anthropic.claude-3-5-sonnet-20240620-v1:0',
  mock: 'mock-1',
};
const PUBLIC_MODEL: Record<ProviderName, string> = {
  openai: 'm-openai',
  anthropic: 'm-anthropic',
  gemini: 'm-gemini',
  'azure-openai': 'm-azure',
  bedrock: 'm-bedrock',
  mock: 'm-mock',
};
/** The mock answers this text (mode fixed), so its cells know the text in advance too. */
const MOCK_TEXT = 'The mock provider answers in fixed mode, deterministic and plain.';
/** Output tokens the Gemini fake reports per function call (its header comment: "12 per call"). */
const GEMINI_TOKENS_PER_CALL = 12;
/** Output tokens the OpenAI, Azure, Anthropic and Bedrock fakes report per tool call. */
const TOKENS_PER_TOOL_CALL = 20;
const MAX_TOKENS = 256;

const TOOL_NAME = 'get_weather';
const TOOL_DESCRIPTION = 'Current weather for a city';
const WEATHER_SCHEMA = {
  type: 'object',
  properties: { city: { type: 'string' }, units: { type: 'string', enum: ['celsius', 'fahrenheit'] } },
  required: ['city'],
};
const OPENAI_TOOLS: ChatCompletionTool[] = [{ type: 'function', function: { name: TOOL_NAME, description: TOOL_DESCRIPTION, parameters: WEATHER_SCHEMA } }];
const ANTHROPIC_TOOLS: Anthropic.Tool[] = [{ name: TOOL_NAME, description: TOOL_DESCRIPTION, input_schema: WEATHER_SCHEMA as Anthropic.Tool.InputSchema }];

let openai: openaiFake.FakeOpenAI;
let anthropic: anthropicFake.FakeAnthropic;
let gemini: geminiFake.FakeGemini;
let azure: azureFake.FakeAzure;
let bedrock: bedrockFake.FakeBedrock;
let gateway: TestGateway;
let anthropicClient: Anthropic;

function config(): string {
  return `
providers:
  openai:
    type: openai
    api_key: \${env:MX_OPENAI_KEY}
    base_url: ${openai.url}
  anthropic:
    type: anthropic
    api_key: \${env:MX_ANTHROPIC_KEY}
    base_url: ${anthropic.url}
  gemini:
    type: gemini
    api_key: \${env:MX_GEMINI_KEY}
    base_url: ${gemini.url}
  azure:
    type: azure-openai
    endpoint: ${azure.endpoint}
    api_key: \${env:MX_AZURE_KEY}
    api_version: "2024-10-21"
  bedrock:
    type: bedrock
    region: ${bedrock.region}
    access_key_id: \${env:MX_AWS_KEY_ID}
    secret_access_key: \${env:MX_AWS_SECRET}
    session_token: \${env:MX_AWS_SESSION_TOKEN}
    endpoint: ${bedrock.url}
  mock:
    type: mock
    reply: { mode: fixed, text: "${MOCK_TEXT}" }
models:
  ${PUBLIC_MODEL.openai}: { targets: [{ provider: openai, model: ${UPSTREAM_MODEL.openai} }] }
  ${PUBLIC_MODEL.anthropic}: { targets: [{ provider: anthropic, model: ${UPSTREAM_MODEL.anthropic} }] }
  ${PUBLIC_MODEL.gemini}: { targets: [{ provider: gemini, model: ${UPSTREAM_MODEL.gemini} }] }
  ${PUBLIC_MODEL['azure-openai']}: { targets: [{ provider: azure, model: ${UPSTREAM_MODEL['azure-openai']} }] }
  ${PUBLIC_MODEL.bedrock}: { targets: [{ provider: bedrock, model: "${UPSTREAM_MODEL.bedrock}" }] }
  ${PUBLIC_MODEL.mock}: { targets: [{ provider: mock, model: ${UPSTREAM_MODEL.mock} }] }
`;
}

before(async () => {
  [openai, anthropic, gemini, azure, bedrock] = await Promise.all([
    openaiFake.startFakeOpenAI(),
    anthropicFake.startFakeAnthropic(),
    geminiFake.startFakeGemini(),
    azureFake.startFakeAzureOpenAI(),
    bedrockFake.startFakeBedrock(),
  ]);
  gateway = await startTestGateway(config(), {
    MX_OPENAI_KEY: openai.apiKey,
    MX_ANTHROPIC_KEY: anthropic.apiKey,
    MX_GEMINI_KEY: gemini.apiKey,
    MX_AZURE_KEY: azure.apiKey,
    MX_AWS_KEY_ID: bedrock.credentials.accessKeyId,
    MX_AWS_SECRET: bedrock.credentials.secretAccessKey,
    MX_AWS_SESSION_TOKEN: bedrock.credentials.sessionToken ?? '',
  });
  anthropicClient = new Anthropic({ apiKey: TEST_KEY, baseURL: gateway.url, maxRetries: 0, timeout: 10_000 });
});

after(async () => {
  await gateway?.close();
  await Promise.all([openai?.close(), anthropic?.close(), gemini?.close(), azure?.close(), bedrock?.close()]);
});

/** Bodies each fake received that mention `marker` (every cell uses its own marker). */
function upstreamBodies(provider: ProviderName, marker: string): unknown[] {
  const mentions = (body: unknown) => JSON.stringify(body ?? null).includes(marker);
  switch (provider) {
    case 'openai':
      return openai.requests.map((request) => request.body).filter(mentions);
    case 'anthropic':
      return anthropic.requests.map((request) => request.body).filter(mentions);
    case 'gemini':
      return gemini.requests.map((request) => request.body).filter(mentions);
    case 'azure-openai':
      return azure.requests.map((request) => request.body).filter(mentions);
    case 'bedrock':
      return bedrock.requests.map((request) => request.body).filter(mentions);
    case 'mock':
      return [];
  }
}

// ---------------------------------------------------------------------------------------------
// What each fake's fixture says the answer is.

/** Usage in canonical (OpenAI) terms: `input` is the whole prompt, cache reads and writes included. */
interface ExpectedUsage {
  input: number;
  output: number;
  cacheRead?: number;
  cacheWrite?: number;
}

interface Expected {
  /** The answer's text; null when the answer has none (a bare tool call). */
  text: string | null;
  tool?: { name: string; args: unknown };
  usage: ExpectedUsage;
}

function directive(provider: ProviderName, kind: Kind): string {
  if (kind === 'text') return '';
  switch (provider) {
    case 'openai':
    case 'anthropic':
      return '[fake tool_calls=1]';
    case 'gemini':
      return '[fake reply=tools]';
    case 'azure-openai':
      return '[azure tool_calls=1]';
    case 'bedrock':
      return '[fake tools=1]';
    case 'mock':
      // The mock calls a tool when tool_choice forces it; see forcedToolChoice.
      return '';
  }
}

function expected(provider: ProviderName, kind: Kind, prompt: string): Expected {
  const tool = kind === 'tool';
  switch (provider) {
    case 'openai': {
      const { promptTokens, cachedTokens, reasoningTokens } = openaiFake.FAKE_USAGE;
      // The fake reports completion tokens as the answer's tokens plus its reasoning tokens.
      const usage = { input: promptTokens, cacheRead: cachedTokens };
      return tool
        ? { text: null, tool: { name: TOOL_NAME, args: JSON.parse(openaiFake.fakeToolArguments(0, TOOL_NAME)) }, usage: { ...usage, output: TOKENS_PER_TOOL_CALL + reasoningTokens } }
        : { text: openaiFake.FAKE_REPLY, usage: { ...usage, output: openaiFake.fakeContentPieces().length + reasoningTokens } };
    }
    case 'anthropic': {
      const { inputTokens, cacheCreationTokens, cacheReadTokens } = anthropicFake.FAKE_USAGE;
      const usage = { input: inputTokens + cacheCreationTokens + cacheReadTokens, cacheRead: cacheReadTokens, cacheWrite: cacheCreationTokens };
      return tool
        ? { text: null, tool: { name: TOOL_NAME, args: anthropicFake.fakeToolInput(0, TOOL_NAME) }, usage: { ...usage, output: anthropicFake.fakeOutputTokens({ textPieces: 0, toolCalls: 1 }) } }
        : { text: anthropicFake.FAKE_REPLY, usage: { ...usage, output: anthropicFake.fakeOutputTokens({ textPieces: anthropicFake.fakeTextPieces().length }) } };
    }
    case 'gemini': {
      const { promptTokens, cachedTokens } = geminiFake.FAKE_GEMINI_USAGE;
      const usage = { input: promptTokens, cacheRead: cachedTokens };
      return tool
        ? { text: null, tool: { name: TOOL_NAME, args: geminiFake.fakeGeminiArgs(0, TOOL_NAME) }, usage: { ...usage, output: GEMINI_TOKENS_PER_CALL } }
        : { text: geminiFake.FAKE_GEMINI_REPLY, usage: { ...usage, output: geminiFake.fakeGeminiPieces({ chunks: undefined, reply: 'text' }).length } };
    }
    case 'azure-openai': {
      const usage = { input: azureFake.AZURE_PROMPT_TOKENS, cacheRead: 0 };
      return tool
        ? { text: null, tool: { name: TOOL_NAME, args: JSON.parse(openaiFake.fakeToolArguments(0, TOOL_NAME)) }, usage: { ...usage, output: TOKENS_PER_TOOL_CALL } }
        : { text: azureFake.AZURE_REPLY, usage: { ...usage, output: azureFake.azureContentPieces().length } };
    }
    case 'bedrock': {
      const { inputTokens, cacheReadInputTokens, cacheWriteInputTokens } = bedrockFake.FAKE_USAGE;
      const usage = { input: inputTokens + cacheReadInputTokens + cacheWriteInputTokens, cacheRead: cacheReadInputTokens, cacheWrite: cacheWriteInputTokens };
      // Bedrock's fake opens a tool answer with a short text block.
      return tool
        ? { text: bedrockFake.FAKE_TOOL_PREAMBLE, tool: { name: TOOL_NAME, args: bedrockFake.fakeToolInput(0, TOOL_NAME) }, usage: { ...usage, output: TOKENS_PER_TOOL_CALL } }
        : { text: bedrockFake.FAKE_REPLY, usage: { ...usage, output: bedrockFake.fakeTextPieces().length } };
    }
    case 'mock': {
      // The mock counts with the gateway's tokenizer: the prompt as estimatePromptTokens does, the
      // answer token by token.
      const request: CanonicalRequest = {
        model: PUBLIC_MODEL.mock,
        messages: [{ role: 'user', content: prompt }],
        stream: false,
        streamUsage: false,
        extra: {},
        ...(tool ? { tools: [{ name: TOOL_NAME, description: TOOL_DESCRIPTION, parameters: WEATHER_SCHEMA }] } : {}),
      };
      const input = estimatePromptTokens(request);
      const args = { city: 'example' };
      return tool
        ? { text: null, tool: { name: TOOL_NAME, args }, usage: { input, output: countTextTokens(TOOL_NAME) + countTextTokens(JSON.stringify(args)) } }
        : { text: MOCK_TEXT, usage: { input, output: countTextTokens(MOCK_TEXT) } };
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Running one request through either SDK, reduced to what the cells compare.

interface Outcome {
  /** All text the client saw ('' when none). */
  text: string;
  /** For streams: the text assembled from deltas (OpenAI: content deltas; Anthropic: 'text' events). */
  deltaText: string;
  toolCalls: Array<{ id: string; name: string; arguments: unknown }>;
  finish: string | null | undefined;
  /** Usage as the client saw it, in that client's own terms. */
  usage: { input: number; output: number; cacheRead: number | undefined; cacheWrite: number | undefined } | undefined;
  /** OpenAI streams: chunks that carried usage. */
  usageChunks: ChatCompletionChunk[];
  /** OpenAI streams: every chunk, in order. */
  chunks: ChatCompletionChunk[];
  /** A stream that ended in an error (the SDK threw). */
  error: unknown;
}

interface RequestSpec {
  client: ClientName;
  provider: ProviderName;
  prompt: string;
  stream: boolean;
  tools: boolean;
  /** Force the tool (the mock only calls tools it is told to). */
  forceTool?: boolean;
  headers?: Record<string, string>;
}

function openAIParams(spec: RequestSpec): ChatCompletionCreateParams {
  const params: ChatCompletionCreateParams = { model: PUBLIC_MODEL[spec.provider], messages: [{ role: 'user', content: spec.prompt }] };
  if (spec.tools) params.tools = OPENAI_TOOLS;
  if (spec.forceTool) params.tool_choice = { type: 'function', function: { name: TOOL_NAME } };
  return params;
}

function anthropicParams(spec: RequestSpec): Anthropic.MessageCreateParamsNonStreaming {
  const params: Anthropic.MessageCreateParamsNonStreaming = {
    model: PUBLIC_MODEL[spec.provider],
    max_tokens: MAX_TOKENS,
    messages: [{ role: 'user', content: spec.prompt }],
  };
  if (spec.tools) params.tools = ANTHROPIC_TOOLS;
  if (spec.forceTool) params.tool_choice = { type: 'tool', name: TOOL_NAME };
  return params;
}

function parseArguments(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return { unparsable: text };
  }
}

async function runOpenAI(spec: RequestSpec): Promise<Outcome> {
  const params = openAIParams(spec);
  const options = spec.headers ? { headers: spec.headers } : undefined;
  if (!spec.stream) {
    const completion = await gateway.client.chat.completions.create({ ...params, stream: false }, options);
    assert.equal(completion.object, 'chat.completion');
    assert.equal(completion.choices.length, 1);
    const choice = completion.choices[0]!;
    const text = choice.message.content ?? '';
    return {
      text,
      deltaText: text,
      toolCalls: (choice.message.tool_calls ?? []).map((call) => {
        if (call.type !== 'function') return assert.fail(`unexpected tool call type ${call.type}`);
        return { id: call.id, name: call.function.name, arguments: parseArguments(call.function.arguments) };
      }),
      finish: choice.finish_reason,
      usage: completion.usage
        ? {
            input: completion.usage.prompt_tokens,
            output: completion.usage.completion_tokens,
            cacheRead: completion.usage.prompt_tokens_details?.cached_tokens ?? undefined,
            cacheWrite: undefined,
          }
        : undefined,
      usageChunks: [],
      chunks: [],
      error: undefined,
    };
  }
  const stream = await gateway.client.chat.completions.create({ ...params, stream: true, stream_options: { include_usage: true } }, options);
  let text = '';
  let finish: string | null | undefined;
  const calls = new Map<number, { id: string; name: string; arguments: string }>();
  const usageChunks: ChatCompletionChunk[] = [];
  const chunks: ChatCompletionChunk[] = [];
  let error: unknown;
  try {
    for await (const chunk of stream) {
      chunks.push(chunk);
      assert.equal(chunk.object, 'chat.completion.chunk');
      if (chunk.usage) {
        usageChunks.push(chunk);
        assert.deepEqual(chunk.choices, [], 'the usage chunk has empty choices');
      }
      for (const choice of chunk.choices) {
        assert.equal(choice.index, 0);
        if (choice.delta?.content) text += choice.delta.content;
        for (const call of choice.delta?.tool_calls ?? []) {
          const entry = calls.get(call.index) ?? { id: '', name: '', arguments: '' };
          if (call.id) entry.id = call.id;
          if (call.function?.name) entry.name += call.function.name;
          if (call.function?.arguments) entry.arguments += call.function.arguments;
          calls.set(call.index, entry);
        }
        if (choice.finish_reason) {
          assert.equal(finish, undefined, 'one finish reason per choice');
          finish = choice.finish_reason;
        }
      }
    }
  } catch (thrown) {
    error = thrown;
  }
  const usage = usageChunks.at(-1)?.usage;
  return {
    text,
    deltaText: text,
    toolCalls: [...calls.entries()].sort(([a], [b]) => a - b).map(([, call]) => ({ ...call, arguments: parseArguments(call.arguments) })),
    finish,
    usage: usage ? { input: usage.prompt_tokens, output: usage.completion_tokens, cacheRead: usage.prompt_tokens_details?.cached_tokens ?? undefined, cacheWrite: undefined } : undefined,
    usageChunks,
    chunks,
    error,
  };
}

function fromMessage(message: Anthropic.Message, deltaText: string, error: unknown): Outcome {
  assert.equal(message.type, 'message');
  assert.equal(message.role, 'assistant');
  let text = '';
  const toolCalls: Outcome['toolCalls'] = [];
  for (const block of message.content) {
    if (block.type === 'text') text += block.text;
    else if (block.type === 'tool_use') toolCalls.push({ id: block.id, name: block.name, arguments: block.input });
    else assert.fail(`unexpected content block ${block.type}`);
  }
  return {
    text,
    deltaText,
    toolCalls,
    finish: message.stop_reason,
    usage: {
      input: message.usage.input_tokens,
      output: message.usage.output_tokens,
      cacheRead: message.usage.cache_read_input_tokens ?? undefined,
      cacheWrite: message.usage.cache_creation_input_tokens ?? undefined,
    },
    usageChunks: [],
    chunks: [],
    error,
  };
}

async function runAnthropic(spec: RequestSpec): Promise<Outcome> {
  const params = anthropicParams(spec);
  const options = spec.headers ? { headers: spec.headers } : undefined;
  if (!spec.stream) {
    const message = await anthropicClient.messages.create(params, options);
    return fromMessage(message, '', undefined);
  }
  const stream = anthropicClient.messages.stream(params, options);
  let deltaText = '';
  stream.on('text', (delta) => (deltaText += delta));
  try {
    const message = await stream.finalMessage();
    return fromMessage(message, deltaText, undefined);
  } catch (error) {
    return { text: deltaText, deltaText, toolCalls: [], finish: undefined, usage: undefined, usageChunks: [], chunks: [], error };
  }
}

function run(spec: RequestSpec): Promise<Outcome> {
  return spec.client === 'openai' ? runOpenAI(spec) : runAnthropic(spec);
}

/** Usage as a client of this dialect must see it. Anthropic's input_tokens excludes cache reads and writes. */
function clientUsage(client: ClientName, usage: ExpectedUsage): NonNullable<Outcome['usage']> {
  if (client === 'openai') return { input: usage.input, output: usage.output, cacheRead: usage.cacheRead, cacheWrite: undefined };
  return {
    input: usage.input - (usage.cacheRead ?? 0) - (usage.cacheWrite ?? 0),
    output: usage.output,
    cacheRead: usage.cacheRead,
    cacheWrite: usage.cacheWrite,
  };
}

function finishReason(client: ClientName, kind: Kind): string {
  if (client === 'openai') return kind === 'tool' ? 'tool_calls' : 'stop';
  return kind === 'tool' ? 'tool_use' : 'end_turn';
}

/** OpenAI streams with include_usage: one usage chunk, after the finish chunk, and the last chunk. */
function assertOneFinalUsageChunk(outcome: Outcome): void {
  assert.equal(outcome.usageChunks.length, 1, 'exactly one usage chunk');
  assert.equal(outcome.chunks.at(-1), outcome.usageChunks[0], 'the usage chunk is the last chunk');
  const finishAt = outcome.chunks.findIndex((chunk) => chunk.choices.some((choice) => choice.finish_reason));
  assert.ok(finishAt !== -1 && finishAt < outcome.chunks.length - 1, 'the finish chunk comes before the usage chunk');
}

function assertOutcome(client: ClientName, stream: boolean, kind: Kind, outcome: Outcome, want: Expected): void {
  assert.equal(outcome.error, undefined, `the SDK read the answer without error: ${String(outcome.error)}`);
  assert.equal(outcome.text, want.text ?? '', 'text');
  if (stream) assert.equal(outcome.deltaText, want.text ?? '', 'text assembled from the deltas');
  if (kind === 'tool') {
    assert.equal(outcome.toolCalls.length, 1, 'one tool call');
    const call = outcome.toolCalls[0]!;
    assert.ok(call.id !== '', 'the tool call has an id');
    assert.equal(call.name, want.tool?.name);
    assert.deepEqual(call.arguments, want.tool?.args, 'tool arguments');
  } else {
    assert.equal(outcome.toolCalls.length, 0, 'no tool call');
  }
  assert.equal(outcome.finish, finishReason(client, kind), 'finish/stop reason');
  if (client === 'openai' && stream) assertOneFinalUsageChunk(outcome);
  assert.deepEqual(outcome.usage, clientUsage(client, want.usage), 'usage');
}

// ---------------------------------------------------------------------------------------------
// The matrix.

let cellNumber = 0;

describe('matrix: client dialect x provider x streaming x answer kind', { timeout: 20_000 }, () => {
  for (const client of CLIENTS) {
    for (const provider of PROVIDERS) {
      for (const stream of [false, true]) {
        for (const kind of KINDS) {
          const name = `${client} client -> ${provider}, ${stream ? 'streaming' : 'non-streaming'}, ${kind === 'text' ? 'text answer' : 'tool call'}`;
          const id = (cellNumber += 1);
          it(name, async () => {
            const marker = `mx-cell-${String(id).padStart(3, '0')}`;
            const prompt = `${marker}: ${kind === 'tool' ? 'What is the weather in Paris?' : 'Say hello.'} ${directive(provider, kind)}`.trim();
            const spec: RequestSpec = { client, provider, prompt, stream, tools: kind === 'tool', forceTool: provider === 'mock' && kind === 'tool' };
            const want = expected(provider, kind, prompt);
            const outcome = await run(spec);
            assertOutcome(client, stream, kind, outcome, want);
            if (provider === 'mock') {
              // Deterministic: the same request made non-streaming gives the same answer and usage.
              const reference = await run({ ...spec, stream: false });
              assert.equal(outcome.text, reference.text);
              assert.deepEqual(
                outcome.toolCalls.map(({ name: toolName, arguments: args }) => ({ toolName, args })),
                reference.toolCalls.map(({ name: toolName, arguments: args }) => ({ toolName, args })),
              );
              assert.equal(outcome.finish, reference.finish);
              assert.deepEqual(outcome.usage, reference.usage);
            } else {
              assert.equal(upstreamBodies(provider, marker).length, 1, 'exactly one upstream request');
            }
          });
        }
      }
    }
  }
});

// ---------------------------------------------------------------------------------------------
// Passthrough: same dialect on both sides, the client's own body goes upstream.

describe('matrix: passthrough (same dialect both sides)', { timeout: 20_000 }, () => {
  it('openai client -> openai, passthrough, non-streaming: upstream gets the client body, only the model replaced', async () => {
    const marker = 'mx-pass-openai-1';
    const params = {
      model: PUBLIC_MODEL.openai,
      messages: [
        { role: 'system' as const, content: 'Be brief.' },
        { role: 'user' as const, content: marker, name: 'alice' },
      ],
      temperature: 0.4,
      top_p: 0.9,
      seed: 7,
      user: 'end-user-1',
      store: false,
      metadata: { matrix: 'pass' },
      logit_bias: { '50256': -100 },
    };
    const completion = await gateway.client.chat.completions.create(params);
    assert.equal(completion.choices[0]?.message.content, openaiFake.FAKE_REPLY);
    assert.equal(completion.system_fingerprint, openaiFake.FAKE_SYSTEM_FINGERPRINT, 'the upstream body came back unchanged');
    const bodies = upstreamBodies('openai', marker);
    assert.equal(bodies.length, 1);
    assert.deepEqual(bodies[0], { ...params, model: UPSTREAM_MODEL.openai });
  });

  it('openai client -> openai, passthrough, streaming tool call: upstream gets the client body, only the model replaced', async () => {
    const marker = 'mx-pass-openai-2';
    const params = {
      model: PUBLIC_MODEL.openai,
      messages: [{ role: 'user' as const, content: `${marker} [fake tool_calls=1]` }],
      tools: OPENAI_TOOLS,
      tool_choice: 'auto' as const,
      parallel_tool_calls: false,
      max_completion_tokens: 99,
      stream: true as const,
      stream_options: { include_usage: true },
    };
    const stream = await gateway.client.chat.completions.create(params);
    const chunks: ChatCompletionChunk[] = [];
    for await (const chunk of stream) chunks.push(chunk);
    assert.equal(chunks.filter((chunk) => chunk.usage).length, 1);
    assert.equal(chunks.find((chunk) => chunk.system_fingerprint)?.system_fingerprint, openaiFake.FAKE_SYSTEM_FINGERPRINT, 'raw upstream chunks reached the client');
    const bodies = upstreamBodies('openai', marker);
    assert.equal(bodies.length, 1);
    assert.deepEqual(bodies[0], { ...params, model: UPSTREAM_MODEL.openai });
  });

  it('openai client -> azure-openai, passthrough, streaming: upstream gets the client body, only the model replaced', async () => {
    const marker = 'mx-pass-azure-1';
    const params = {
      model: PUBLIC_MODEL['azure-openai'],
      messages: [{ role: 'user' as const, content: marker }],
      temperature: 0.1,
      stream: true as const,
      stream_options: { include_usage: true },
    };
    const stream = await gateway.client.chat.completions.create(params);
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? '';
    assert.equal(text, azureFake.AZURE_REPLY);
    const bodies = upstreamBodies('azure-openai', marker);
    assert.equal(bodies.length, 1);
    assert.deepEqual(bodies[0], { ...params, model: UPSTREAM_MODEL['azure-openai'] });
  });

  it('anthropic client -> anthropic, passthrough, non-streaming: upstream gets the client body, only the model replaced', async () => {
    const marker = 'mx-pass-anthropic-1';
    // temperature and top_k are not in this SDK version's types; the body carries them all the same
    // (the gateway models temperature and treats top_k as an extra field).
    const params = {
      model: PUBLIC_MODEL.anthropic,
      max_tokens: 321,
      system: [{ type: 'text' as const, text: 'Be brief.', cache_control: { type: 'ephemeral' as const } }],
      messages: [{ role: 'user' as const, content: [{ type: 'text' as const, text: marker }] }],
      temperature: 0.3,
      top_k: 12,
      metadata: { user_id: 'end-user-2' },
      stop_sequences: ['###'],
    };
    const message = await anthropicClient.messages.create(params as Anthropic.MessageCreateParamsNonStreaming);
    assert.equal(message.content[0]?.type === 'text' ? message.content[0].text : undefined, anthropicFake.FAKE_REPLY);
    assert.equal(message.usage.cache_read_input_tokens, anthropicFake.FAKE_USAGE.cacheReadTokens);
    const bodies = upstreamBodies('anthropic', marker);
    assert.equal(bodies.length, 1);
    assert.deepEqual(bodies[0], { ...params, model: UPSTREAM_MODEL.anthropic });
  });

  it('anthropic client -> anthropic, passthrough, streaming tool call: upstream gets the client body, only the model replaced', async () => {
    const marker = 'mx-pass-anthropic-2';
    const params: Anthropic.MessageCreateParamsNonStreaming = {
      model: PUBLIC_MODEL.anthropic,
      max_tokens: 222,
      messages: [{ role: 'user', content: `${marker} [fake tool_calls=1]` }],
      tools: ANTHROPIC_TOOLS,
      tool_choice: { type: 'auto', disable_parallel_tool_use: true },
    };
    const final = await anthropicClient.messages.stream(params).finalMessage();
    assert.equal(final.stop_reason, 'tool_use');
    assert.equal(final.id.startsWith('msg_01Fake'), true, 'raw upstream events reached the client');
    const bodies = upstreamBodies('anthropic', marker);
    assert.equal(bodies.length, 1);
    assert.deepEqual(bodies[0], { ...params, model: UPSTREAM_MODEL.anthropic, stream: true });
  });
});

// ---------------------------------------------------------------------------------------------
// Awkward streams: the right text, or a clean terminal error after the text already delivered.

interface AwkwardCase {
  provider: ProviderName;
  name: string;
  directive: string;
  headers?: Record<string, string>;
  /** complete: the whole answer; error: the SDK throws after exactly this text was delivered. */
  outcome: { kind: 'complete'; text: string; usage?: ExpectedUsage } | { kind: 'error'; textBefore: string };
}

const joined = (pieces: string[], count: number) => pieces.slice(0, count).join('');

function awkwardCases(): AwkwardCase[] {
  const anthropicPieces = anthropicFake.fakeTextPieces();
  const anthropicText = expected('anthropic', 'text', '');
  const utf8Pieces = anthropicFake.fakeTextPieces({ chunks: undefined, utf8: true });
  const geminiPieces = geminiFake.fakeGeminiPieces({ chunks: undefined, reply: 'text' });
  const geminiText = expected('gemini', 'text', '');
  const geminiUtf8 = geminiFake.fakeGeminiPieces({ chunks: undefined, reply: 'utf8' });
  const openaiPieces = openaiFake.fakeContentPieces();
  const bedrockPieces = bedrockFake.fakeTextPieces();
  const bedrockText = expected('bedrock', 'text', '');
  // Anthropic's fake: events count message_start (0), ping (1), content_block_start (2), then deltas.
  // OpenAI's fake: the role chunk (0), then one content chunk per piece.
  // Gemini's fake: one piece per event from event 0. Bedrock's: messageStart (0), then one delta per piece.
  return [
    { provider: 'openai', name: 'connection dropped mid-stream', directive: '[fake disconnect_after=4]', outcome: { kind: 'error', textBefore: joined(openaiPieces, 3) } },
    { provider: 'openai', name: 'body ends cleanly mid-answer, no [DONE]', directive: '[fake truncate_after=4]', outcome: { kind: 'error', textBefore: joined(openaiPieces, 3) } },
    {
      provider: 'openai',
      name: 'body ends after the finish chunk, no usage and no [DONE]',
      directive: `[fake truncate_after=${openaiPieces.length + 2}]`,
      outcome: { kind: 'complete', text: openaiFake.FAKE_REPLY },
    },
    { provider: 'anthropic', name: 'CRLF line ends', directive: '[fake crlf=1]', outcome: { kind: 'complete', text: anthropicFake.FAKE_REPLY, usage: anthropicText.usage } },
    { provider: 'anthropic', name: 'a ping after every event', directive: '[fake pings=1]', outcome: { kind: 'complete', text: anthropicFake.FAKE_REPLY, usage: anthropicText.usage } },
    {
      provider: 'anthropic',
      name: 'UTF-8 characters split across writes',
      directive: '[fake utf8=1]',
      outcome: { kind: 'complete', text: anthropicFake.FAKE_UTF8_REPLY, usage: { ...anthropicText.usage, output: anthropicFake.fakeOutputTokens({ textPieces: utf8Pieces.length }) } },
    },
    { provider: 'anthropic', name: 'error event after some text', directive: '[fake error_after=5]', outcome: { kind: 'error', textBefore: joined(anthropicPieces, 2) } },
    { provider: 'anthropic', name: 'body ends cleanly without message_stop', directive: '[fake cut_after=5]', outcome: { kind: 'error', textBefore: joined(anthropicPieces, 2) } },
    { provider: 'anthropic', name: 'connection dropped mid-stream', directive: '[fake disconnect_after=5]', outcome: { kind: 'error', textBefore: joined(anthropicPieces, 2) } },
    { provider: 'gemini', name: 'CRLF line ends', directive: '[fake crlf=1]', outcome: { kind: 'complete', text: geminiFake.FAKE_GEMINI_REPLY, usage: geminiText.usage } },
    {
      provider: 'gemini',
      name: 'UTF-8 characters split across writes',
      directive: '[fake reply=utf8 split_utf8=1]',
      outcome: { kind: 'complete', text: geminiFake.FAKE_GEMINI_UTF8_REPLY, usage: { ...geminiText.usage, output: geminiUtf8.length } },
    },
    { provider: 'gemini', name: 'error event after some text', directive: '[fake error_after=3]', outcome: { kind: 'error', textBefore: joined(geminiPieces, 3) } },
    { provider: 'gemini', name: 'connection dropped mid-stream', directive: '[fake cut_after=3]', outcome: { kind: 'error', textBefore: joined(geminiPieces, 3) } },
    { provider: 'gemini', name: 'body ends cleanly before any finishReason', directive: '[fake truncate_after=3]', outcome: { kind: 'error', textBefore: joined(geminiPieces, 3) } },
    {
      provider: 'azure-openai',
      name: 'annotation-only chunk after the finish chunk (async content filter)',
      directive: '[azure async_filter=1]',
      outcome: { kind: 'complete', text: azureFake.AZURE_REPLY, usage: expected('azure-openai', 'text', '').usage },
    },
    { provider: 'bedrock', name: 'event-stream frames written one byte at a time', directive: '[fake split=1]', outcome: { kind: 'complete', text: bedrockFake.FAKE_REPLY, usage: bedrockText.usage } },
    { provider: 'bedrock', name: 'exception frame after some text', directive: '[fake exception=throttlingException exception_after=4]', outcome: { kind: 'error', textBefore: joined(bedrockPieces, 3) } },
    { provider: 'bedrock', name: 'body ends cleanly before messageStop', directive: '[fake cut_after=5]', outcome: { kind: 'error', textBefore: joined(bedrockPieces, 4) } },
    { provider: 'bedrock', name: 'body ends in the middle of a frame', directive: '[fake cut_after=5 cut_mid=1]', outcome: { kind: 'error', textBefore: joined(bedrockPieces, 4) } },
    {
      provider: 'mock',
      name: 'connection dropped after 3 tokens',
      directive: '',
      headers: { 'x-mock-behavior': 'disconnect_after=3' },
      outcome: { kind: 'error', textBefore: decodeTokens(encodeText(MOCK_TEXT).slice(0, 3)) },
    },
  ];
}

describe('matrix: awkward streams', { timeout: 20_000 }, () => {
  let awkwardNumber = 0;
  for (const client of CLIENTS) {
    for (const awkward of awkwardCases()) {
      const id = (awkwardNumber += 1);
      it(`${client} client -> ${awkward.provider}, awkward stream: ${awkward.name}`, async () => {
        const marker = `mx-awkward-${String(id).padStart(3, '0')}`;
        const prompt = `${marker}: Say hello. ${awkward.directive}`.trim();
        const outcome = await run({ client, provider: awkward.provider, prompt, stream: true, tools: false, ...(awkward.headers ? { headers: awkward.headers } : {}) });
        if (awkward.outcome.kind === 'complete') {
          assert.equal(outcome.error, undefined, `no error: ${String(outcome.error)}`);
          assert.equal(outcome.text, awkward.outcome.text);
          assert.equal(outcome.deltaText, awkward.outcome.text);
          assert.equal(outcome.finish, finishReason(client, 'text'));
          if (client === 'openai') assertOneFinalUsageChunk(outcome);
          if (awkward.outcome.usage) assert.deepEqual(outcome.usage, clientUsage(client, awkward.outcome.usage));
          else assert.ok(outcome.usage && outcome.usage.input > 0 && outcome.usage.output > 0, 'usage (estimated) is reported');
        } else {
          const ErrorClass = client === 'openai' ? OpenAI.APIError : Anthropic.APIError;
          assert.ok(outcome.error instanceof ErrorClass, `expected the SDK to throw an APIError, got ${String(outcome.error)}`);
          assert.equal(outcome.deltaText, awkward.outcome.textBefore, 'the text delivered before the error');
          assert.ok(outcome.deltaText.length > 0);
          assert.equal(outcome.finish, undefined, 'no finish reason: the answer is not presented as complete');
        }
        if (awkward.provider !== 'mock') assert.equal(upstreamBodies(awkward.provider, marker).length, 1, 'exactly one upstream request');
      });
    }
  }

  it('the gateway still answers normally after all of that', async () => {
    for (const provider of PROVIDERS) {
      const prompt = `mx-after-${provider}: Say hello.`;
      const outcome = await run({ client: 'openai', provider, prompt, stream: true, tools: false });
      assertOutcome('openai', true, 'text', outcome, expected(provider, 'text', prompt));
    }
  });
});
