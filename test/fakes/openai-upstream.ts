/**
 * A fake OpenAI API over real HTTP (node:http on 127.0.0.1, a free port), speaking the wire format
 * of OpenAI's API reference: `chat.completion` objects, `chat.completion.chunk` SSE streams (usage
 * chunk with empty `choices` only under `stream_options.include_usage`, every other chunk then
 * carrying `"usage":null`), streamed tool calls, `/v1/embeddings` (float or base64) and OpenAI's
 * error object. End-to-end tests use it as the upstream; the benchmark reuses it, so the plain
 * completion and the plain stream are built from precomputed pieces.
 *
 * Behaviour per request comes from a directive `[fake key=value key=value]` anywhere in the last
 * user message (embeddings: in the first input string), and/or the `x-fake-behavior` request header
 * (`key=value; key=value`), which wins on conflicting keys. A gateway forwards the body, not client
 * headers, so tests through a gateway use the directive. Keys (unknown keys, bad values ignored):
 *
 *   error=<kind>        invalid_param (400), context_length (400, code context_length_exceeded),
 *                       model_not_found (404), rate_limit (429), insufficient_quota (429),
 *                       server_error (500), overloaded (503), invalid_api_key (401),
 *                       content_filter (400, code content_filter, as Azure OpenAI's prompt filter)
 *   status=<code>       the same errors chosen by status: 400, 401, 404, 429, 500, 503
 *   retry_after=<s>     Retry-After seconds on a 429 (default 3)
 *   chunks=<n>          content deltas in the reply (default: FAKE_REPLY word by word);
 *                       delta i is `w<i> ` padded with dots (see fakeContentPieces)
 *   chunk_bytes=<n>     pad each content delta to n bytes
 *   delay_ms=<n>        pause between two SSE events
 *   ttft_ms=<n>         pause before the response headers
 *   stall_after=<n>     after n SSE events, send nothing more and keep the connection open
 *   disconnect_after=<n> after n SSE events, destroy the socket (non-streaming: any n, no answer)
 *   truncate_after=<n>  after n SSE events, end the response cleanly but without `data: [DONE]`
 *   done_linger_ms=<n>  after the last SSE event, wait n ms before ending the response body (as a
 *                       server whose terminating chunk follows `data: [DONE]` in a later packet)
 *   tool_calls=<n>      answer with n parallel tool calls, names taken from the request's tools
 *   arg_fragment=<n>    tool-call argument characters per streamed delta (default 7)
 *
 * SSE events count from the first chunk (the role chunk) and include the usage chunk and [DONE].
 */
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { drainOrClose, isObject, parseJson, readText, sendJson as sendJsonWith, startFakeServer, writeFlushed } from './fake-server.js';

export const FAKE_BEHAVIOR_HEADER = 'x-fake-behavior';
export const FAKE_SYSTEM_FINGERPRINT = 'fp_fake0a1b2c';
export const FAKE_REPLY = 'Hello from the fake OpenAI upstream, speaking its wire format.';
/** Usage the fake reports for every chat completion (completion tokens depend on the reply). */
export const FAKE_USAGE = { promptTokens: 31, cachedTokens: 12, reasoningTokens: 4 } as const;
export const DEFAULT_EMBEDDING_DIMENSIONS = 8;

export type FakeErrorKind =
  | 'invalid_param'
  | 'context_length'
  | 'model_not_found'
  | 'rate_limit'
  | 'insufficient_quota'
  | 'server_error'
  | 'overloaded'
  | 'invalid_api_key'
  | 'content_filter';

export interface FakeBehavior {
  error: FakeErrorKind | undefined;
  retryAfter: number;
  chunks: number | undefined;
  chunkBytes: number | undefined;
  delayMs: number;
  ttftMs: number;
  stallAfter: number | undefined;
  disconnectAfter: number | undefined;
  truncateAfter: number | undefined;
  doneLingerMs: number;
  toolCalls: number;
  argFragment: number;
}

export interface RecordedRequest {
  seq: number;
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  /** The parsed JSON body (undefined when it was not JSON). */
  body: unknown;
  behavior: FakeBehavior;
  receivedAt: number;
  /** Which TCP connection it came on: 1 for the first the fake accepted, and so on. */
  connection: number;
}

export type FakeStreamState = 'streaming' | 'stalled' | 'completed' | 'disconnected' | 'truncated';

/** One SSE response, observed from the fake's side of the socket. */
export interface FakeStream {
  readonly request: RecordedRequest;
  /** SSE events the fake meant to send, [DONE] included. */
  readonly plannedEvents: number;
  eventsWritten: number;
  bytesWritten: number;
  /** How many times res.write() returned false (the reader is slower than the writer). */
  backpressureCount: number;
  /** The fake is paused right now waiting for 'drain'. */
  waitingForDrain: boolean;
  /** What the fake did: still sending, or how it stopped. */
  state: FakeStreamState;
  /** The peer (the gateway) closed the connection before the fake was done with it. */
  clientClosed: boolean;
  startedAt: number;
  closedAt: number | undefined;
  /** Resolves when the response's connection closes, for whatever reason. */
  readonly closed: Promise<void>;
}

export interface FakeOpenAIOptions {
  /** The key clients must send as `Authorization: Bearer <key>`. */
  apiKey?: string;
  /** Keep every request and stream in `requests`/`streams` (turn off for benchmarks). */
  record?: boolean;
}

export interface FakeOpenAI {
  /** Base URL up to and including /v1, as a provider's base_url. */
  url: string;
  port: number;
  apiKey: string;
  requests: RecordedRequest[];
  streams: FakeStream[];
  /** Totals over every stream. */
  stats: { bytesWritten: number; backpressureCount: number };
  /** Resolves true when the stream's connection closed within `timeoutMs`, else false. */
  waitForClose(stream: FakeStream, timeoutMs: number): Promise<boolean>;
  /** Forgets recorded requests and streams. */
  clear(): void;
  /**
   * Behaviour for every later request (`key=value; ...`, as in the header), under any directive or
   * header; undefined restores the default. Lets a test make one upstream fail and recover.
   */
  setBehavior(text: string | undefined): void;
  /** Ends every open socket and timer, then stops listening. */
  close(): Promise<void>;
}

const DEFAULT_BEHAVIOR: Readonly<FakeBehavior> = Object.freeze({
  error: undefined,
  retryAfter: 3,
  chunks: undefined,
  chunkBytes: undefined,
  delayMs: 0,
  ttftMs: 0,
  stallAfter: undefined,
  disconnectAfter: undefined,
  truncateAfter: undefined,
  doneLingerMs: 0,
  toolCalls: 0,
  argFragment: 7,
});

const ERROR_BY_STATUS: Record<number, FakeErrorKind> = {
  400: 'invalid_param',
  401: 'invalid_api_key',
  404: 'model_not_found',
  429: 'rate_limit',
  500: 'server_error',
  503: 'overloaded',
};

const ERROR_KINDS = new Set<string>(Object.values(ERROR_BY_STATUS).concat(['context_length', 'insufficient_quota', 'content_filter']));

/** The content deltas of a reply: FAKE_REPLY word by word, or `chunks` numbered pieces. */
export function fakeContentPieces(chunks?: number, chunkBytes?: number): string[] {
  if (chunks === undefined) return FAKE_REPLY.split(/(?= )/);
  const pieces: string[] = [];
  for (let i = 0; i < chunks; i += 1) {
    const piece = `w${i} `;
    pieces.push(chunkBytes !== undefined && chunkBytes > piece.length ? piece.padEnd(chunkBytes, '.') : piece);
  }
  return pieces;
}

/** The arguments (a JSON string) of the fake's tool call number `index`. */
export function fakeToolArguments(index: number, name: string): string {
  return JSON.stringify({ call: index, tool: name, city: `City ${index}`, units: index % 2 === 0 ? 'celsius' : 'fahrenheit', days: [1, 2, 3] });
}

/** The deterministic embedding of input number `index`, every value exact in float32. */
export function fakeEmbedding(index: number, dimensions: number): number[] {
  const out: number[] = [];
  for (let j = 0; j < dimensions; j += 1) out.push(Math.fround(Math.sin((index + 1) * (j + 1)) / 2));
  return out;
}

/** How OpenAI quotes a wrong key back: its start and end, the middle starred. */
export function maskKey(key: string): string {
  if (key.length <= 10) return `${key.slice(0, 2)}***`;
  return `${key.slice(0, 6)}${'*'.repeat(Math.min(24, key.length - 10))}${key.slice(-4)}`;
}

/** Parses `key=value` pairs separated by spaces, `;` or `,` over a base behaviour. */
export function parseBehavior(text: string, base: Readonly<FakeBehavior> = DEFAULT_BEHAVIOR): FakeBehavior {
  const behavior: FakeBehavior = { ...base };
  for (const pair of text.split(/[\s;,]+/)) {
    const equals = pair.indexOf('=');
    if (equals <= 0) continue;
    const key = pair.slice(0, equals).toLowerCase();
    const value = pair.slice(equals + 1);
    const int = Number(value);
    const valid = value !== '' && Number.isInteger(int) && int >= 0;
    if (key === 'error' && ERROR_KINDS.has(value)) behavior.error = value as FakeErrorKind;
    else if (!valid) continue;
    else if (key === 'status') behavior.error = ERROR_BY_STATUS[int] ?? behavior.error;
    else if (key === 'retry_after') behavior.retryAfter = int;
    else if (key === 'chunks') behavior.chunks = int;
    else if (key === 'chunk_bytes') behavior.chunkBytes = int;
    else if (key === 'delay_ms') behavior.delayMs = int;
    else if (key === 'ttft_ms') behavior.ttftMs = int;
    else if (key === 'stall_after') behavior.stallAfter = int;
    else if (key === 'disconnect_after') behavior.disconnectAfter = int;
    else if (key === 'truncate_after') behavior.truncateAfter = int;
    else if (key === 'done_linger_ms') behavior.doneLingerMs = int;
    else if (key === 'tool_calls') behavior.toolCalls = int;
    else if (key === 'arg_fragment' && int > 0) behavior.argFragment = int;
  }
  return behavior;
}

const DIRECTIVE = /\[fake\s+([^\]]*)\]/;

function directiveIn(text: string): string | undefined {
  if (!text.includes('[fake')) return undefined;
  return DIRECTIVE.exec(text)?.[1];
}

function textOf(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  let text = '';
  for (const part of content) {
    if (isObject(part) && typeof part.text === 'string') text += `${part.text}\n`;
  }
  return text;
}

function directiveFromBody(path: string, body: Record<string, unknown>): string | undefined {
  if (path === EMBEDDINGS_PATH) {
    const input = body.input;
    const first = typeof input === 'string' ? input : Array.isArray(input) && typeof input[0] === 'string' ? input[0] : '';
    return directiveIn(first);
  }
  const messages = body.messages;
  if (!Array.isArray(messages)) return undefined;
  for (let i = messages.length - 1; i >= 0; i -= 1) {
    const message: unknown = messages[i];
    if (isObject(message) && message.role === 'user') return directiveIn(textOf(message.content));
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// Wire pieces, precomputed where they do not depend on the request.

const CHAT_PATH = '/v1/chat/completions';
const EMBEDDINGS_PATH = '/v1/embeddings';

interface WireUsage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  prompt_tokens_details: { cached_tokens: number; audio_tokens: number };
  completion_tokens_details: { reasoning_tokens: number; audio_tokens: number; accepted_prediction_tokens: number; rejected_prediction_tokens: number };
}

function usageFor(outputTokens: number): WireUsage {
  const completion = outputTokens + FAKE_USAGE.reasoningTokens;
  return {
    prompt_tokens: FAKE_USAGE.promptTokens,
    completion_tokens: completion,
    total_tokens: FAKE_USAGE.promptTokens + completion,
    prompt_tokens_details: { cached_tokens: FAKE_USAGE.cachedTokens, audio_tokens: 0 },
    completion_tokens_details: { reasoning_tokens: FAKE_USAGE.reasoningTokens, audio_tokens: 0, accepted_prediction_tokens: 0, rejected_prediction_tokens: 0 },
  };
}

const contentChoice = (text: string) => JSON.stringify({ index: 0, delta: { content: text }, logprobs: null, finish_reason: null });
const finishChoice = (reason: string) => JSON.stringify({ index: 0, delta: {}, logprobs: null, finish_reason: reason });
const ROLE_CHOICE = JSON.stringify({ index: 0, delta: { role: 'assistant', content: '', refusal: null }, logprobs: null, finish_reason: null });
const STOP_CHOICE = finishChoice('stop');
const DEFAULT_PIECES = fakeContentPieces();
const DEFAULT_CONTENT_CHOICES = DEFAULT_PIECES.map(contentChoice);
const DEFAULT_USAGE_JSON = JSON.stringify(usageFor(DEFAULT_PIECES.length));
const DONE_FRAME = 'data: [DONE]\n\n';

/** Everything of the default non-streaming completion after `"model":"..."`. */
const DEFAULT_COMPLETION_TAIL = completionTail(FAKE_REPLY, undefined, DEFAULT_PIECES.length);

interface WireToolCall {
  id: string;
  type: 'function';
  function: { name: string; arguments: string };
}

function completionTail(content: string | null, toolCalls: WireToolCall[] | undefined, outputTokens: number): string {
  const message = { role: 'assistant', content, refusal: null, annotations: [], ...(toolCalls ? { tool_calls: toolCalls } : {}) };
  const rest = {
    choices: [{ index: 0, message, logprobs: null, finish_reason: toolCalls ? 'tool_calls' : 'stop' }],
    usage: usageFor(outputTokens),
    service_tier: 'default',
    system_fingerprint: FAKE_SYSTEM_FINGERPRINT,
  };
  return `,${JSON.stringify(rest).slice(1)}`;
}

function toolCallsFor(body: Record<string, unknown>, count: number): WireToolCall[] {
  const names: string[] = [];
  if (Array.isArray(body.tools)) {
    for (const tool of body.tools) {
      if (isObject(tool) && isObject(tool.function) && typeof tool.function.name === 'string') names.push(tool.function.name);
    }
  }
  const calls: WireToolCall[] = [];
  for (let i = 0; i < count; i += 1) {
    const name = names.length > 0 ? (names[i % names.length] as string) : `fake_tool_${i}`;
    calls.push({ id: `call_fake${i}x${(i * 7919).toString(36)}`, type: 'function', function: { name, arguments: fakeToolArguments(i, name) } });
  }
  return calls;
}

interface WireError {
  status: number;
  body: string;
  headers: Record<string, string>;
}

function errorFor(kind: FakeErrorKind, model: string, behavior: FakeBehavior, key: string): WireError {
  const make = (status: number, message: string, type: string, param: string | null, code: string | null, headers: Record<string, string> = {}) => ({
    status,
    body: JSON.stringify({ error: { message, type, param, code } }),
    headers,
  });
  switch (kind) {
    case 'invalid_param':
      return make(400, "Invalid value for 'top_logprobs': expected an integer between 0 and 20, got 42.", 'invalid_request_error', 'top_logprobs', 'invalid_value');
    case 'context_length':
      return make(
        400,
        "This model's maximum context length is 128000 tokens. However, your messages resulted in 131072 tokens. Please reduce the length of the messages.",
        'invalid_request_error',
        'messages',
        'context_length_exceeded',
      );
    case 'model_not_found':
      return make(404, `The model \`${model}\` does not exist or you do not have access to it.`, 'invalid_request_error', null, 'model_not_found');
    case 'rate_limit':
      return make(
        429,
        `Rate limit reached for ${model} in organization org-fake on requests per min (RPM): Limit 3, Used 3, Requested 1. Please try again in ${behavior.retryAfter}s.`,
        'requests',
        null,
        'rate_limit_exceeded',
        { 'retry-after': String(behavior.retryAfter), 'x-ratelimit-limit-requests': '3', 'x-ratelimit-remaining-requests': '0', 'x-ratelimit-reset-requests': `${behavior.retryAfter}s` },
      );
    case 'insufficient_quota':
      return make(429, 'You exceeded your current quota, please check your plan and billing details.', 'insufficient_quota', null, 'insufficient_quota');
    case 'content_filter':
      return make(
        400,
        "The response was filtered due to the prompt triggering Azure OpenAI's content management policy. Please modify your prompt and retry.",
        'invalid_request_error',
        'prompt',
        'content_filter',
      );
    case 'server_error':
      return make(500, 'The server had an error while processing your request. Sorry about that!', 'server_error', null, null);
    case 'overloaded':
      return make(503, 'The engine is currently overloaded, please try again later.', 'server_error', null, null);
    case 'invalid_api_key':
      return make(
        401,
        key === ''
          ? "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY)."
          : `Incorrect API key provided: ${maskKey(key)}. You can find your API key at https://platform.openai.com/account/api-keys.`,
        'invalid_request_error',
        null,
        key === '' ? null : 'invalid_api_key',
      );
  }
}

/** The SSE events of one streamed answer, produced lazily (a stream may be thousands of events). */
interface StreamPlan {
  count: number;
  frame(index: number): string;
}

function contentPlan(prefix: string, suffix: string, behavior: FakeBehavior, includeUsage: boolean): StreamPlan {
  const custom = behavior.chunks !== undefined;
  const pieces = custom ? fakeContentPieces(behavior.chunks, behavior.chunkBytes) : DEFAULT_PIECES;
  const n = pieces.length;
  const usageJson = custom ? JSON.stringify(usageFor(n)) : DEFAULT_USAGE_JSON;
  return {
    count: n + (includeUsage ? 4 : 3),
    frame(i) {
      if (i === 0) return prefix + ROLE_CHOICE + suffix;
      if (i <= n) return prefix + (custom ? contentChoice(pieces[i - 1] as string) : (DEFAULT_CONTENT_CHOICES[i - 1] as string)) + suffix;
      if (i === n + 1) return prefix + STOP_CHOICE + suffix;
      if (includeUsage && i === n + 2) return `${prefix}],"usage":${usageJson}}\n\n`;
      return DONE_FRAME;
    },
  };
}

function toolCallPlan(prefix: string, suffix: string, calls: WireToolCall[], behavior: FakeBehavior, includeUsage: boolean): StreamPlan {
  const frames: string[] = [];
  const delta = (value: Record<string, unknown>) => prefix + JSON.stringify({ index: 0, delta: value, logprobs: null, finish_reason: null }) + suffix;
  calls.forEach((call, index) => {
    const head = { index, id: call.id, type: 'function', function: { name: call.function.name, arguments: '' } };
    frames.push(delta(index === 0 ? { role: 'assistant', content: null, tool_calls: [head], refusal: null } : { tool_calls: [head] }));
    const args = call.function.arguments;
    for (let at = 0; at < args.length; at += behavior.argFragment) {
      frames.push(delta({ tool_calls: [{ index, function: { arguments: args.slice(at, at + behavior.argFragment) } }] }));
    }
  });
  frames.push(prefix + finishChoice('tool_calls') + suffix);
  if (includeUsage) frames.push(`${prefix}],"usage":${JSON.stringify(usageFor(calls.length * 20))}}\n\n`);
  frames.push(DONE_FRAME);
  return { count: frames.length, frame: (i) => frames[i] as string };
}

// ---------------------------------------------------------------------------------------------
// The server.

export async function startFakeOpenAI(options: FakeOpenAIOptions = {}): Promise<FakeOpenAI> {
  const apiKey = options.apiKey ?? 'sk-fake-0123456789abcdefWXYZ';
  const expectedAuth = `Bearer ${apiKey}`;
  const record = options.record ?? true;
  const requests: RecordedRequest[] = [];
  const streams: FakeStream[] = [];
  const stats = { bytesWritten: 0, backpressureCount: 0 };
  let seq = 0;
  let closing = false;
  let baseBehavior: Readonly<FakeBehavior> = DEFAULT_BEHAVIOR;
  const sleep = (ms: number) => server.sleep(ms);
  const connections = new WeakMap<Socket, number>();
  const connectionOf = (socket: Socket): number => {
    let number = connections.get(socket);
    if (number === undefined) connections.set(socket, (number = ++connectionCount));
    return number;
  };
  let connectionCount = 0;

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const text = await readText(req);
    const path = req.url ?? '/';
    const id = (seq += 1);
    const body = parseJson(text);
    const known = req.method === 'POST' && (path === CHAT_PATH || path === EMBEDDINGS_PATH);
    const json = isObject(body) ? body : undefined;
    const header = req.headers[FAKE_BEHAVIOR_HEADER];
    const directive = json && known ? directiveFromBody(path, json) : undefined;
    let behavior: FakeBehavior = directive === undefined ? baseBehavior : parseBehavior(directive, baseBehavior);
    if (typeof header === 'string') behavior = parseBehavior(header, behavior);
    const recorded: RecordedRequest = { seq: id, method: req.method ?? 'GET', path, headers: req.headers, body, behavior, receivedAt: performance.now(), connection: connectionOf(req.socket) };
    if (record) requests.push(recorded);

    const requestId = `req_fake${id.toString(16).padStart(8, '0')}`;
    const model = json && typeof json.model === 'string' ? json.model : '';
    const sendError = (error: WireError) =>
      sendJson(res, error.status, error.body, { ...error.headers, 'x-request-id': requestId });
    if (!known) {
      return sendError({ status: 404, headers: {}, body: JSON.stringify({ error: { message: `Invalid URL (${req.method} ${path})`, type: 'invalid_request_error', param: null, code: null } }) });
    }
    const auth = req.headers.authorization;
    if (auth !== expectedAuth) {
      const sent = typeof auth === 'string' && auth.startsWith('Bearer ') ? auth.slice(7) : '';
      return sendError(errorFor('invalid_api_key', model, behavior, sent));
    }
    if (!json) {
      const message = 'We could not parse the JSON body of your request. (HINT: This likely means you aren\'t using your HTTP library correctly.)';
      return sendError({ status: 400, headers: {}, body: JSON.stringify({ error: { message, type: 'invalid_request_error', param: null, code: null } }) });
    }
    if (behavior.ttftMs > 0) {
      await sleep(behavior.ttftMs);
      if (res.destroyed) return;
    }
    if (behavior.error) return sendError(errorFor(behavior.error, model, behavior, apiKey));
    const stream = json.stream === true && path === CHAT_PATH;
    if (!stream && behavior.disconnectAfter !== undefined) {
      req.socket.destroy();
      return;
    }
    if (path === EMBEDDINGS_PATH) return sendJson(res, 200, embeddingsBody(json, model), { 'x-request-id': requestId });
    const created = Math.floor(Date.now() / 1000);
    const head = `{"id":"chatcmpl-fake${id}","object":"${stream ? 'chat.completion.chunk' : 'chat.completion'}","created":${created},"model":${JSON.stringify(model)}`;
    if (!stream) {
      const calls = behavior.toolCalls > 0 ? toolCallsFor(json, behavior.toolCalls) : undefined;
      const tail =
        calls !== undefined
          ? completionTail(null, calls, calls.length * 20)
          : behavior.chunks === undefined
            ? DEFAULT_COMPLETION_TAIL
            : completionTail(fakeContentPieces(behavior.chunks, behavior.chunkBytes).join(''), undefined, behavior.chunks);
      return sendJson(res, 200, `${head}${tail}`, { 'x-request-id': requestId });
    }
    const includeUsage = isObject(json.stream_options) && json.stream_options.include_usage === true;
    const prefix = `data: ${head},"service_tier":"default","system_fingerprint":"${FAKE_SYSTEM_FINGERPRINT}","choices":[`;
    const suffix = includeUsage ? '],"usage":null}\n\n' : ']}\n\n';
    const plan =
      behavior.toolCalls > 0
        ? toolCallPlan(prefix, suffix, toolCallsFor(json, behavior.toolCalls), behavior, includeUsage)
        : contentPlan(prefix, suffix, behavior, includeUsage);
    await pump(req, res, recorded, plan, requestId);
  }

  async function pump(req: IncomingMessage, res: ServerResponse, request: RecordedRequest, plan: StreamPlan, requestId: string): Promise<void> {
    const behavior = request.behavior;
    let markClosed: () => void = () => undefined;
    const stream: FakeStream = {
      request,
      plannedEvents: plan.count,
      eventsWritten: 0,
      bytesWritten: 0,
      backpressureCount: 0,
      waitingForDrain: false,
      state: 'streaming',
      clientClosed: false,
      startedAt: performance.now(),
      closedAt: undefined,
      closed: new Promise<void>((resolve) => (markClosed = resolve)),
    };
    if (record) streams.push(stream);
    res.once('close', () => {
      stream.closedAt = performance.now();
      if (!closing && (stream.state === 'streaming' || stream.state === 'stalled') && !res.writableFinished) stream.clientClosed = true;
      markClosed();
    });
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', 'x-request-id': requestId });
    const stopsAt = (index: number) => behavior.stallAfter === index || behavior.disconnectAfter === index || behavior.truncateAfter === index;
    if (stopsAt(0)) res.flushHeaders();
    const gone = () => stream.closedAt !== undefined || res.destroyed;
    for (let index = 0; index < plan.count; index += 1) {
      if (gone()) return;
      if (behavior.stallAfter === index) {
        stream.state = 'stalled';
        return;
      }
      if (behavior.truncateAfter === index) {
        stream.state = 'truncated';
        res.end();
        return;
      }
      if (behavior.disconnectAfter === index) {
        stream.state = 'disconnected';
        req.socket.destroy();
        return;
      }
      if (index > 0 && behavior.delayMs > 0) {
        await sleep(behavior.delayMs);
        if (gone()) return;
      }
      const frame = plan.frame(index);
      // Before a planned disconnect, let the last event reach the socket so the peer sees it.
      const ok = behavior.disconnectAfter === index + 1 ? await writeFlushed(res, frame) : res.write(frame);
      const bytes = Buffer.byteLength(frame);
      stream.eventsWritten += 1;
      stream.bytesWritten += bytes;
      stats.bytesWritten += bytes;
      if (!ok) {
        stream.backpressureCount += 1;
        stats.backpressureCount += 1;
        stream.waitingForDrain = true;
        await drainOrClose(res);
        stream.waitingForDrain = false;
      }
    }
    if (behavior.doneLingerMs > 0) {
      await sleep(behavior.doneLingerMs);
      if (gone()) return;
    }
    stream.state = 'completed';
    res.end();
  }

  function embeddingsBody(json: Record<string, unknown>, model: string): string {
    const input = json.input;
    const inputs: unknown[] = Array.isArray(input) ? (input.length > 0 && typeof input[0] === 'number' ? [input] : input) : [input];
    const dimensions = typeof json.dimensions === 'number' && json.dimensions > 0 ? Math.min(json.dimensions, 4096) : DEFAULT_EMBEDDING_DIMENSIONS;
    const base64 = json.encoding_format === 'base64';
    let tokens = 0;
    const data = inputs.map((item, index) => {
      tokens += typeof item === 'string' ? Math.max(1, Math.ceil(item.length / 4)) : Array.isArray(item) ? item.length : 1;
      const vector = fakeEmbedding(index, dimensions);
      const embedding = base64 ? Buffer.from(new Float32Array(vector).buffer).toString('base64') : vector;
      return { object: 'embedding', index, embedding };
    });
    return JSON.stringify({ object: 'list', data, model, usage: { prompt_tokens: tokens, total_tokens: tokens } });
  }

  const server = await startFakeServer(handle, { server: { keepAliveTimeout: 5_000, noDelay: true } });
  return {
    url: `${server.origin}/v1`,
    port: server.port,
    apiKey,
    requests,
    streams,
    stats,
    async waitForClose(stream, timeoutMs) {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs)));
      try {
        return await Promise.race([stream.closed.then(() => true), timeout]);
      } finally {
        clearTimeout(timer);
      }
    },
    clear() {
      requests.length = 0;
      streams.length = 0;
    },
    setBehavior(text) {
      baseBehavior = text === undefined ? DEFAULT_BEHAVIOR : parseBehavior(text);
    },
    async close() {
      if (closing) return;
      closing = true;
      await server.close();
    },
  };
}

function sendJson(res: ServerResponse, status: number, body: string, headers: Record<string, string>): void {
  sendJsonWith(res, status, body, headers, { trailingHeaders: { 'openai-version': '2020-10-01', 'openai-processing-ms': '1' } });
}
