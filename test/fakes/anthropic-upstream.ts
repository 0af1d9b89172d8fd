/**
 * A fake Anthropic Messages API over real HTTP (node:http on 127.0.0.1, a free port), speaking the
 * wire format of Anthropic's API reference: `POST /v1/messages` answering `message` objects or SSE
 * streams (`message_start`, `content_block_start`, `content_block_delta` with `text_delta`,
 * `input_json_delta`, `thinking_delta`, `signature_delta`, `content_block_stop`, `message_delta`
 * with stop_reason and cumulative output usage, `message_stop`, `ping`, `event: error`), errors as
 * `{"type":"error","error":{"type","message"},"request_id"}`, `x-api-key` auth (or the same key as
 * `Authorization: Bearer`, which the official SDK 1.x sends) and a required
 * `anthropic-version` header. It checks the request the way the real API does where the gateway
 * could get it wrong (roles, empty text blocks, tool_use answered by tool_result first in the next
 * turn, max_tokens present, tool_choice types) and answers a 400 invalid_request_error otherwise.
 *
 * Behaviour per request comes from a directive `[fake key=value ...]` in the last user message
 * that has one (string content or text blocks). Keys (unknown keys and bad values are ignored):
 *
 *   error=<kind>        invalid_request (400), prompt_too_long (400), authentication (401),
 *                       permission (403), not_found (404), too_large (413), rate_limit (429),
 *                       api_error (500), overloaded (529), leaky (400 whose message quotes the
 *                       x-api-key it got: not something Anthropic does, it exercises redaction)
 *   retry_after=<s>     Retry-After seconds on a 429 (default 5)
 *   chunks=<n>          text deltas in the reply (default: FAKE_REPLY word by word)
 *   tool_calls=<n>      answer with n parallel tool_use blocks, names cycling over the request's tools
 *   preamble=1          a short text block before the tool_use blocks
 *   arg_fragment=<n>    characters of tool input JSON per input_json_delta (default 6)
 *   thinking=1          a thinking block (streamed as thinking_delta + signature_delta) first
 *   redacted=1          also a redacted_thinking block
 *   stop=<reason>       end_turn (default), max_tokens, stop_sequence, refusal, pause_turn
 *   utf8=1              the reply is FAKE_UTF8_REPLY; each SSE event is written in two network
 *                       writes split inside a multi-byte UTF-8 character
 *   crlf=1              CRLF line ends
 *   pings=1             a ping event after every event (one ping after message_start always comes)
 *   error_after=<n>     after n events, `event: error` (overloaded_error), then the response ends
 *   cut_after=<n>       after n events, end the response cleanly without message_stop
 *   disconnect_after=<n> after n events, destroy the socket
 *   delay_ms=<n>        pause between two events
 *
 * A request whose tool_choice forces one tool (`{"type":"tool"}`) is answered with one call of that
 * tool whose input is FAKE_FORCED_INPUT. Events count from message_start, pings included.
 */
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import { drainOrClose, isObject, parseJson, readText, sendJson, startFakeServer } from './fake-server.js';

export const FAKE_REPLY = 'Hello from the fake Anthropic upstream, speaking its wire format.';
/** Multi-byte characters of every length: 2 (é, ö), 3 (✓, 日本語) and 4 bytes (🎉). */
export const FAKE_UTF8_REPLY = 'Héllo wörld ✓ 日本語 🎉 done';
export const FAKE_THINKING = 'The user wants an answer. I will give a short one.';
export const FAKE_SIGNATURE = 'EqQBCkgIARABGAIiQFakeSignatureBytes0123456789abcdef==';
export const FAKE_REDACTED = 'EmwKAhgBEgy3va3pzix/LafPsn4aDFakeRedactedThinkingData';
export const FAKE_PREAMBLE = 'Let me look that up.';
export const FAKE_FORCED_INPUT = { answer: 'forty-two', confidence: 0.9, tags: ['fake', 'json'] };
/**
 * Usage the fake reports: uncached input, cache writes and cache reads (output depends on the
 * reply); with thinking, `output_tokens_details.thinking_tokens` too.
 */
export const FAKE_USAGE = { inputTokens: 21, cacheCreationTokens: 8, cacheReadTokens: 34, thinkingTokens: 12 } as const;

export type FakeErrorKind =
  | 'invalid_request'
  | 'prompt_too_long'
  | 'authentication'
  | 'permission'
  | 'not_found'
  | 'too_large'
  | 'rate_limit'
  | 'api_error'
  | 'overloaded'
  | 'leaky';

const ERROR_KINDS: ReadonlySet<string> = new Set<FakeErrorKind>([
  'invalid_request',
  'prompt_too_long',
  'authentication',
  'permission',
  'not_found',
  'too_large',
  'rate_limit',
  'api_error',
  'overloaded',
  'leaky',
]);
const STOP_REASONS: ReadonlySet<string> = new Set(['end_turn', 'max_tokens', 'stop_sequence', 'refusal', 'pause_turn']);

export interface FakeBehavior {
  error: FakeErrorKind | undefined;
  retryAfter: number;
  chunks: number | undefined;
  toolCalls: number;
  preamble: boolean;
  argFragment: number;
  thinking: boolean;
  redacted: boolean;
  stop: string;
  utf8: boolean;
  crlf: boolean;
  pings: boolean;
  errorAfter: number | undefined;
  cutAfter: number | undefined;
  disconnectAfter: number | undefined;
  delayMs: number;
}

const DEFAULT_BEHAVIOR: Readonly<FakeBehavior> = Object.freeze({
  error: undefined,
  retryAfter: 5,
  chunks: undefined,
  toolCalls: 0,
  preamble: false,
  argFragment: 6,
  thinking: false,
  redacted: false,
  stop: 'end_turn',
  utf8: false,
  crlf: false,
  pings: false,
  errorAfter: undefined,
  cutAfter: undefined,
  disconnectAfter: undefined,
  delayMs: 0,
});

export interface RecordedRequest {
  seq: number;
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  /** The parsed JSON body (undefined when it was not JSON). */
  body: unknown;
  behavior: FakeBehavior;
}

export interface FakeAnthropic {
  /** Base URL without /v1, as a provider's base_url. */
  url: string;
  port: number;
  apiKey: string;
  requests: RecordedRequest[];
  clear(): void;
  /** Ends every open socket and timer, then stops listening. */
  close(): Promise<void>;
}

/** The text deltas of a reply: FAKE_REPLY (or FAKE_UTF8_REPLY) word by word, or `chunks` numbered pieces. */
export function fakeTextPieces(behavior: Pick<FakeBehavior, 'chunks' | 'utf8'> = DEFAULT_BEHAVIOR): string[] {
  if (behavior.utf8) return FAKE_UTF8_REPLY.split(/(?= )/);
  if (behavior.chunks === undefined) return FAKE_REPLY.split(/(?= )/);
  return Array.from({ length: behavior.chunks }, (_, i) => `w${i} `);
}

/** The input object of the fake's tool call number `index`. */
export function fakeToolInput(index: number, name: string): Record<string, unknown> {
  return { call: index, tool: name, city: `City ${index}`, units: index % 2 === 0 ? 'celsius' : 'fahrenheit', days: [1, 2, 3] };
}

/** The id of the fake's tool call number `index`. */
export function fakeToolId(index: number): string {
  return `toolu_01Fake${index}${(index * 7919 + 17).toString(36).padStart(6, 'x')}`;
}

/** Output tokens the fake reports: one per text delta, 20 per tool call, a fixed count for thinking. */
export function fakeOutputTokens(parts: { textPieces: number; toolCalls?: number; thinking?: boolean }): number {
  return parts.textPieces + (parts.toolCalls ?? 0) * 20 + (parts.thinking ? FAKE_USAGE.thinkingTokens : 0);
}

export function parseBehavior(text: string): FakeBehavior {
  const behavior: FakeBehavior = { ...DEFAULT_BEHAVIOR };
  for (const pair of text.split(/[\s;,]+/)) {
    const equals = pair.indexOf('=');
    if (equals <= 0) continue;
    const key = pair.slice(0, equals).toLowerCase();
    const value = pair.slice(equals + 1);
    const int = Number(value);
    const valid = value !== '' && Number.isInteger(int) && int >= 0;
    if (key === 'error' && ERROR_KINDS.has(value)) behavior.error = value as FakeErrorKind;
    else if (key === 'stop' && STOP_REASONS.has(value)) behavior.stop = value;
    else if (!valid) continue;
    else if (key === 'retry_after') behavior.retryAfter = int;
    else if (key === 'chunks') behavior.chunks = int;
    else if (key === 'tool_calls') behavior.toolCalls = int;
    else if (key === 'preamble') behavior.preamble = int > 0;
    else if (key === 'arg_fragment' && int > 0) behavior.argFragment = int;
    else if (key === 'thinking') behavior.thinking = int > 0;
    else if (key === 'redacted') behavior.redacted = int > 0;
    else if (key === 'utf8') behavior.utf8 = int > 0;
    else if (key === 'crlf') behavior.crlf = int > 0;
    else if (key === 'pings') behavior.pings = int > 0;
    else if (key === 'error_after') behavior.errorAfter = int;
    else if (key === 'cut_after') behavior.cutAfter = int;
    else if (key === 'disconnect_after') behavior.disconnectAfter = int;
    else if (key === 'delay_ms') behavior.delayMs = int;
  }
  return behavior;
}

const DIRECTIVE = /\[fake\s+([^\]]*)\]/;


/** The directive of the last user message that has one. */
function directiveFromBody(body: Record<string, unknown>): string | undefined {
  const messages = Array.isArray(body.messages) ? (body.messages as unknown[]) : [];
  for (let i = messages.length - 1; i >= 0; i -= 1) {
    const message = messages[i];
    if (!isObject(message) || message.role !== 'user') continue;
    const texts = typeof message.content === 'string' ? [message.content] : Array.isArray(message.content) ? message.content.map((block) => (isObject(block) && typeof block.text === 'string' ? block.text : '')) : [];
    for (const text of texts) {
      const found = DIRECTIVE.exec(text)?.[1];
      if (found !== undefined) return found;
    }
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// Wire pieces.

const MESSAGES_PATH = '/v1/messages';

interface WireError {
  status: number;
  type: string;
  message: string;
  headers?: Record<string, string>;
}

function errorFor(kind: FakeErrorKind, model: string, behavior: FakeBehavior, sentKey: string): WireError {
  switch (kind) {
    case 'invalid_request':
      return { status: 400, type: 'invalid_request_error', message: 'temperature: range: 0..1' };
    case 'prompt_too_long':
      return { status: 400, type: 'invalid_request_error', message: 'prompt is too long: 208373 tokens > 200000 maximum' };
    case 'authentication':
      return { status: 401, type: 'authentication_error', message: 'invalid x-api-key' };
    case 'permission':
      return { status: 403, type: 'permission_error', message: 'Your API key does not have permission to use the specified resource.' };
    case 'not_found':
      return { status: 404, type: 'not_found_error', message: `model: ${model}` };
    case 'too_large':
      return { status: 413, type: 'request_too_large', message: 'Request exceeds the maximum allowed number of bytes.' };
    case 'rate_limit':
      return {
        status: 429,
        type: 'rate_limit_error',
        message: 'This request would exceed the rate limit for your organization of 50 requests per minute.',
        headers: {
          'retry-after': String(behavior.retryAfter),
          'anthropic-ratelimit-requests-limit': '50',
          'anthropic-ratelimit-requests-remaining': '0',
          'anthropic-ratelimit-requests-reset': new Date(Date.now() + behavior.retryAfter * 1000).toISOString(),
        },
      };
    case 'api_error':
      return { status: 500, type: 'api_error', message: 'Internal server error' };
    case 'overloaded':
      return { status: 529, type: 'overloaded_error', message: 'Overloaded' };
    case 'leaky':
      return { status: 400, type: 'invalid_request_error', message: `metadata.user_id: the key ${sentKey} may not be used here` };
  }
}

function usageObject(outputTokens: number, thinkingTokens: number | undefined): Record<string, unknown> {
  return {
    input_tokens: FAKE_USAGE.inputTokens,
    cache_creation_input_tokens: FAKE_USAGE.cacheCreationTokens,
    cache_read_input_tokens: FAKE_USAGE.cacheReadTokens,
    cache_creation: { ephemeral_5m_input_tokens: FAKE_USAGE.cacheCreationTokens, ephemeral_1h_input_tokens: 0 },
    output_tokens: outputTokens,
    output_tokens_details: thinkingTokens === undefined ? null : { thinking_tokens: thinkingTokens },
    service_tier: 'standard',
  };
}

const thinkingTokens = (plan: AnswerPlan) => (plan.thinking ? FAKE_USAGE.thinkingTokens : undefined);

interface ToolPlan {
  id: string;
  name: string;
  input: Record<string, unknown>;
}

/** What the fake answers, before it is put in either wire form. */
interface AnswerPlan {
  thinking: boolean;
  redacted: boolean;
  text: string[] | undefined;
  tools: ToolPlan[];
  stopReason: string;
  stopSequence: string | null;
  outputTokens: number;
}

function planAnswer(body: Record<string, unknown>, behavior: FakeBehavior): AnswerPlan {
  const choice = isObject(body.tool_choice) ? body.tool_choice : undefined;
  const toolNames = Array.isArray(body.tools) ? body.tools.flatMap((tool) => (isObject(tool) && typeof tool.name === 'string' ? [tool.name] : [])) : [];
  const tools: ToolPlan[] = [];
  let text: string[] | undefined = fakeTextPieces(behavior);
  if (choice?.type === 'tool' && typeof choice.name === 'string') {
    tools.push({ id: fakeToolId(0), name: choice.name, input: FAKE_FORCED_INPUT });
    text = undefined;
  } else if (behavior.toolCalls > 0) {
    for (let i = 0; i < behavior.toolCalls; i += 1) {
      const name = toolNames.length > 0 ? (toolNames[i % toolNames.length] as string) : `fake_tool_${i}`;
      tools.push({ id: fakeToolId(i), name, input: fakeToolInput(i, name) });
    }
    text = behavior.preamble ? [FAKE_PREAMBLE] : undefined;
  }
  const stopSequences = Array.isArray(body.stop_sequences) ? body.stop_sequences : [];
  const stopReason = tools.length > 0 ? 'tool_use' : behavior.stop;
  const stopSequence = stopReason === 'stop_sequence' ? String(stopSequences[0] ?? '###') : null;
  return {
    thinking: behavior.thinking,
    redacted: behavior.redacted,
    text,
    tools,
    stopReason,
    stopSequence,
    outputTokens: fakeOutputTokens({ textPieces: text?.length ?? 0, toolCalls: tools.length, thinking: behavior.thinking }),
  };
}

function messageObject(id: string, model: string, plan: AnswerPlan): Record<string, unknown> {
  const content: Record<string, unknown>[] = [];
  if (plan.thinking) content.push({ type: 'thinking', thinking: FAKE_THINKING, signature: FAKE_SIGNATURE });
  if (plan.redacted) content.push({ type: 'redacted_thinking', data: FAKE_REDACTED });
  if (plan.text) content.push({ type: 'text', text: plan.text.join(''), citations: null });
  for (const tool of plan.tools) content.push({ type: 'tool_use', id: tool.id, name: tool.name, input: tool.input });
  return {
    id,
    type: 'message',
    role: 'assistant',
    model,
    content,
    stop_reason: plan.stopReason,
    stop_sequence: plan.stopSequence,
    usage: usageObject(plan.outputTokens, thinkingTokens(plan)),
  };
}

/** The SSE events of a streamed answer, as [event name, data object]. */
function streamEvents(id: string, model: string, plan: AnswerPlan, behavior: FakeBehavior): Array<[string, Record<string, unknown>]> {
  const events: Array<[string, Record<string, unknown>]> = [];
  const start = { ...messageObject(id, model, plan), content: [], stop_reason: null, stop_sequence: null, usage: usageObject(1, undefined) };
  events.push(['message_start', { type: 'message_start', message: start }], ['ping', { type: 'ping' }]);
  let index = 0;
  const block = (contentBlock: Record<string, unknown>, deltas: Record<string, unknown>[]) => {
    events.push(['content_block_start', { type: 'content_block_start', index, content_block: contentBlock }]);
    for (const delta of deltas) events.push(['content_block_delta', { type: 'content_block_delta', index, delta }]);
    events.push(['content_block_stop', { type: 'content_block_stop', index }]);
    index += 1;
  };
  if (plan.thinking) {
    const deltas = FAKE_THINKING.split(/(?= )/).map((piece) => ({ type: 'thinking_delta', thinking: piece }));
    block({ type: 'thinking', thinking: '', signature: '' }, [...deltas, { type: 'signature_delta', signature: FAKE_SIGNATURE }]);
  }
  if (plan.redacted) block({ type: 'redacted_thinking', data: FAKE_REDACTED }, []);
  if (plan.text) block({ type: 'text', text: '' }, plan.text.map((piece) => ({ type: 'text_delta', text: piece })));
  for (const tool of plan.tools) {
    const json = JSON.stringify(tool.input);
    const deltas = [{ type: 'input_json_delta', partial_json: '' }];
    for (let at = 0; at < json.length; at += behavior.argFragment) deltas.push({ type: 'input_json_delta', partial_json: json.slice(at, at + behavior.argFragment) });
    block({ type: 'tool_use', id: tool.id, name: tool.name, input: {} }, deltas);
  }
  events.push([
    'message_delta',
    { type: 'message_delta', delta: { stop_reason: plan.stopReason, stop_sequence: plan.stopSequence }, usage: { output_tokens: plan.outputTokens, ...(plan.thinking ? { output_tokens_details: { thinking_tokens: FAKE_USAGE.thinkingTokens } } : {}) } },
  ]);
  events.push(['message_stop', { type: 'message_stop' }]);
  if (!behavior.pings) return events;
  return events.flatMap((event, i) => (i < events.length - 1 ? [event, ['ping', { type: 'ping' }] as [string, Record<string, unknown>]] : [event]));
}

function frame(name: string, data: Record<string, unknown>, crlf: boolean): string {
  const text = `event: ${name}\ndata: ${JSON.stringify(data)}\n\n`;
  return crlf ? text.replace(/\n/g, '\r\n') : text;
}

// ---------------------------------------------------------------------------------------------
// Request checks: the rules of the real API that a gateway translating requests could break.

const TOOL_CHOICE_TYPES: ReadonlySet<unknown> = new Set(['auto', 'any', 'tool', 'none']);

/** The first problem the real API would report with this body, in its wording; undefined if none. */
function validateMessagesBody(body: Record<string, unknown>): string | undefined {
  if (typeof body.model !== 'string') return 'model: Field required';
  if (typeof body.max_tokens !== 'number') return 'max_tokens: Field required';
  if (!Array.isArray(body.messages) || body.messages.length === 0) return 'messages: Field required';
  if (body.system !== undefined && typeof body.system !== 'string' && !Array.isArray(body.system)) return 'system: Input should be a valid string or list';
  const messages = body.messages as unknown[];
  for (let i = 0; i < messages.length; i += 1) {
    const message = messages[i];
    if (!isObject(message) || (message.role !== 'user' && message.role !== 'assistant')) return `messages.${i}.role: Input should be 'user' or 'assistant'`;
    const blocks = typeof message.content === 'string' ? [{ type: 'text', text: message.content }] : message.content;
    if (!Array.isArray(blocks)) return `messages.${i}.content: Input should be a valid string or list`;
    for (const block of blocks) {
      if (!isObject(block)) return `messages.${i}.content: Input should be a valid list of content blocks`;
      if (block.type === 'text' && block.text === '') return 'messages: text content blocks must be non-empty';
      if (block.type === 'tool_use' && message.role !== 'assistant') return `messages.${i}: tool_use blocks may only appear in assistant messages`;
      if (block.type === 'tool_result' && message.role !== 'user') return `messages.${i}: tool_result blocks may only appear in user messages`;
      if (block.type === 'image' && !validImageSource(block.source)) return `messages.${i}.content: invalid image source`;
    }
    const problem = checkToolResults(messages, i);
    if (problem) return problem;
  }
  if (body.tool_choice !== undefined && !(isObject(body.tool_choice) && TOOL_CHOICE_TYPES.has(body.tool_choice.type))) {
    return "tool_choice: Input tag does not match any of the expected tags: 'auto', 'any', 'tool', 'none'";
  }
  if (Array.isArray(body.tools)) {
    for (const [index, tool] of body.tools.entries()) {
      if (!isObject(tool) || !isObject(tool.input_schema) || tool.input_schema.type !== 'object') return `tools.${index}.custom.input_schema.type: Input should be 'object'`;
    }
  }
  return undefined;
}

function validImageSource(source: unknown): boolean {
  if (!isObject(source)) return false;
  if (source.type === 'base64') return typeof source.media_type === 'string' && typeof source.data === 'string';
  return source.type === 'url' && typeof source.url === 'string';
}

/** tool_use ids of assistant turn i must be answered by tool_result blocks leading turn i + 1. */
function checkToolResults(messages: unknown[], i: number): string | undefined {
  const message = messages[i] as Record<string, unknown>;
  const blocks = Array.isArray(message.content) ? (message.content as unknown[]).filter(isObject) : [];
  if (message.role === 'user') {
    const firstOther = blocks.findIndex((block) => block.type !== 'tool_result');
    if (firstOther !== -1 && blocks.slice(firstOther).some((block) => block.type === 'tool_result')) {
      return `messages.${i}: tool_result blocks must come first in the user message content`;
    }
    const previous = messages[i - 1];
    const asked = new Set(isObject(previous) && Array.isArray(previous.content) ? previous.content.filter(isObject).filter((b) => b.type === 'tool_use').map((b) => b.id) : []);
    const stray = blocks.find((block) => block.type === 'tool_result' && !asked.has(block.tool_use_id));
    return stray ? `messages.${i}.content: unexpected \`tool_use_id\` found in \`tool_result\` blocks: ${String(stray.tool_use_id)}` : undefined;
  }
  const ids = blocks.filter((block) => block.type === 'tool_use').map((block) => String(block.id));
  if (ids.length === 0) return undefined;
  const next = messages[i + 1];
  const answered = new Set(isObject(next) && Array.isArray(next.content) ? next.content.filter(isObject).filter((b) => b.type === 'tool_result').map((b) => String(b.tool_use_id)) : []);
  const missing = ids.filter((id) => !answered.has(id));
  if (missing.length === 0) return undefined;
  return `messages.${i + 1}: \`tool_use\` ids were found without \`tool_result\` blocks immediately after: ${missing.join(', ')}. Each \`tool_use\` block must have a corresponding \`tool_result\` block in the next message.`;
}

// ---------------------------------------------------------------------------------------------
// The server.

export async function startFakeAnthropic(options: { apiKey?: string } = {}): Promise<FakeAnthropic> {
  const apiKey = options.apiKey ?? 'sk-ant-api03-FakeKey0123456789abcdefWXYZ';
  const requests: RecordedRequest[] = [];
  let seq = 0;
  const sleep = (ms: number) => server.sleep(ms);

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const text = await readText(req);
    const id = (seq += 1);
    const requestId = `req_fake${id.toString(16).padStart(8, '0')}`;
    const body = parseJson(text);
    const json = isObject(body) ? body : undefined;
    const directive = json ? directiveFromBody(json) : undefined;
    const behavior = directive === undefined ? { ...DEFAULT_BEHAVIOR } : parseBehavior(directive);
    const path = req.url ?? '/';
    requests.push({ seq: id, method: req.method ?? 'GET', path, headers: req.headers, body, behavior });
    const sendError = (error: WireError) =>
      sendJson(res, error.status, { type: 'error', error: { type: error.type, message: error.message }, request_id: requestId }, { ...error.headers, 'request-id': requestId });

    if (req.method !== 'POST' || path !== MESSAGES_PATH) return sendError({ status: 404, type: 'not_found_error', message: 'Not Found' });
    // The gateway sends x-api-key; the official SDK (1.x) sends the same key as a Bearer token.
    const bearer = typeof req.headers.authorization === 'string' && req.headers.authorization.startsWith('Bearer ') ? req.headers.authorization.slice(7) : '';
    const sentKey = typeof req.headers['x-api-key'] === 'string' ? req.headers['x-api-key'] : bearer;
    if (sentKey !== apiKey) return sendError(errorFor('authentication', '', behavior, sentKey));
    if (typeof req.headers['anthropic-version'] !== 'string') {
      return sendError({ status: 400, type: 'invalid_request_error', message: 'anthropic-version: header is required' });
    }
    if (!json) return sendError({ status: 400, type: 'invalid_request_error', message: 'There was an issue with the format of your request: invalid JSON' });
    const model = typeof json.model === 'string' ? json.model : '';
    if (behavior.error) return sendError(errorFor(behavior.error, model, behavior, sentKey));
    const problem = validateMessagesBody(json);
    if (problem !== undefined) return sendError({ status: 400, type: 'invalid_request_error', message: problem });

    const plan = planAnswer(json, behavior);
    const messageId = `msg_01Fake${id.toString(36).padStart(8, '0')}`;
    if (json.stream !== true) {
      if (behavior.disconnectAfter !== undefined) return void req.socket.destroy();
      return sendJson(res, 200, messageObject(messageId, model, plan), { 'request-id': requestId });
    }
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', 'request-id': requestId });
    res.flushHeaders();
    const events = streamEvents(messageId, model, plan, behavior);
    for (let index = 0; index < events.length; index += 1) {
      if (res.destroyed) return;
      if (behavior.errorAfter === index) {
        res.end(frame('error', { type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } }, behavior.crlf));
        return;
      }
      if (behavior.cutAfter === index) return void res.end();
      if (behavior.disconnectAfter === index) return void req.socket.destroy();
      if (index > 0 && behavior.delayMs > 0) await sleep(behavior.delayMs);
      const [name, data] = events[index] as [string, Record<string, unknown>];
      await writeEvent(res, frame(name, data, behavior.crlf), behavior.utf8, behavior.disconnectAfter === index + 1);
    }
    res.end();
  }

  /**
   * Writes one event; with `split`, in two writes cut inside a multi-byte character when it has
   * one. With `flush`, waits until the bytes reached the socket (before a planned disconnect).
   */
  async function writeEvent(res: ServerResponse, text: string, split: boolean, flush: boolean): Promise<void> {
    const bytes = Buffer.from(text, 'utf8');
    const cut = split ? bytes.findIndex((byte) => byte >= 0xc0) + 1 : 0;
    if (cut <= 0) {
      if (flush) await new Promise<void>((resolve) => res.write(bytes, () => resolve()));
      else if (!res.write(bytes)) await drainOrClose(res);
      return;
    }
    await new Promise<void>((resolve) => res.write(bytes.subarray(0, cut), () => resolve()));
    await sleep(5);
    if (!res.destroyed && !res.write(bytes.subarray(cut))) await drainOrClose(res);
  }

  const server = await startFakeServer(handle, { server: { keepAliveTimeout: 5_000, noDelay: true } });
  return {
    url: server.origin,
    port: server.port,
    apiKey,
    requests,
    clear() {
      requests.length = 0;
    },
    close: () => server.close(),
  };
}
