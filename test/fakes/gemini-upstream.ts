/**
 * A fake Google AI Studio Gemini API over real HTTP (node:http on 127.0.0.1, a free port), written
 * from Google's API reference: `POST /{version}/models/{model}:generateContent`,
 * `:streamGenerateContent?alt=sse` (each SSE event a whole GenerateContentResponse, no [DONE],
 * usage in the last), `:batchEmbedContents`, and Google's error shape
 * `{"error": {"code", "message", "status", "details"}}`.
 *
 * Auth is the `x-goog-api-key` header. A request carrying the key in the URL query (`?key=`, which
 * the real API accepts) is refused here with a 400, so a passing test proves the gateway never does.
 * A wrong key gets Google's real answer: 400 INVALID_ARGUMENT with reason API_KEY_INVALID; no key
 * gets 403 PERMISSION_DENIED.
 *
 * Behaviour per request comes from a directive `[fake key=value ...]` in the text of the last user
 * turn (embeddings: the first text). Keys (unknown keys and bad values ignored):
 *
 *   error=<kind>      invalid_argument (400), too_long (400, input token count exceeds the maximum),
 *                     unauthenticated (401), permission_denied (403), not_found (404),
 *                     resource_exhausted (429, RetryInfo), internal (500), unavailable (503),
 *                     echo_key (400 whose message quotes the key it was sent)
 *   status=<code>     the same errors chosen by status: 400, 401, 403, 404, 429, 500, 503
 *   retry_after=<s>   also send a Retry-After header on a 429 (default: none)
 *   retry_delay=<s>   RetryInfo.retryDelay of a 429 (default 17)
 *   reply=<kind>      text (default), thoughts (a thought part first), tools (function calls),
 *                     blocked (promptFeedback.blockReason SAFETY, no candidates), utf8 (multi-byte text)
 *   tools=<n>         with reply=tools: n parallel functionCall parts (default 1), names from the
 *                     request's functionDeclarations, one SSE event each
 *   finish=<REASON>   the final candidate's finishReason (default STOP); SAFETY-like reasons end
 *                     with an empty candidate carrying safetyRatings, after the text so far
 *   chunks=<n>        text pieces (default: FAKE_GEMINI_REPLY word by word); piece i is `w<i> `
 *   crlf=1            CRLF line ends in the SSE stream
 *   split_utf8=1      write every event in two writes that split a multi-byte character (reply=utf8)
 *   delay_ms=<n>      pause between two SSE events
 *   error_after=<n>   after n SSE events, send an error event (INTERNAL) and end the stream
 *   cut_after=<n>     after n SSE events, destroy the socket
 *   truncate_after=<n> after n SSE events, end the response cleanly (no finishReason was sent)
 */
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import { isObject, parseJson, readText, sendJson as sendJsonWith, startFakeServer, writeFlushed } from './fake-server.js';

export const FAKE_GEMINI_REPLY = 'Hello from the fake Gemini upstream, speaking its wire format.';
export const FAKE_GEMINI_UTF8_REPLY = 'Grüße, naïve café ✓ — 日本語 🚀 done.';
export const FAKE_GEMINI_THOUGHT = 'Let me think about the question first.';
/** Usage the fake reports: candidates tokens are the number of text pieces (or 12 per call). */
export const FAKE_GEMINI_USAGE = { promptTokens: 27, cachedTokens: 9, thoughtsTokens: 5 } as const;
export const FAKE_GEMINI_EMBEDDING_DIMENSIONS = 8;
export const FAKE_GEMINI_RESPONSE_ID = 'fakeResp-';

export type FakeGeminiError =
  | 'invalid_argument'
  | 'too_long'
  | 'unauthenticated'
  | 'permission_denied'
  | 'not_found'
  | 'resource_exhausted'
  | 'internal'
  | 'unavailable'
  | 'echo_key';

export interface FakeGeminiBehavior {
  error: FakeGeminiError | undefined;
  retryAfter: number | undefined;
  retryDelay: number;
  reply: 'text' | 'thoughts' | 'tools' | 'blocked' | 'utf8';
  tools: number;
  finish: string;
  chunks: number | undefined;
  crlf: boolean;
  splitUtf8: boolean;
  delayMs: number;
  errorAfter: number | undefined;
  cutAfter: number | undefined;
  truncateAfter: number | undefined;
}

export interface GeminiRecordedRequest {
  seq: number;
  method: string;
  /** The raw request target, query included. */
  url: string;
  pathname: string;
  query: Record<string, string>;
  version: string | undefined;
  model: string | undefined;
  action: string | undefined;
  headers: IncomingHttpHeaders;
  body: unknown;
  behavior: FakeGeminiBehavior;
  /** Streams: SSE events written so far, and whether the peer hung up before the fake finished. */
  eventsWritten: number;
  closedEarly: boolean | undefined;
}

export interface FakeGemini {
  /** The base URL without version, as a provider's base_url. */
  url: string;
  apiKey: string;
  requests: GeminiRecordedRequest[];
  clear(): void;
  close(): Promise<void>;
}

const DEFAULT_BEHAVIOR: Readonly<FakeGeminiBehavior> = Object.freeze({
  error: undefined,
  retryAfter: undefined,
  retryDelay: 17,
  reply: 'text',
  tools: 1,
  finish: 'STOP',
  chunks: undefined,
  crlf: false,
  splitUtf8: false,
  delayMs: 0,
  errorAfter: undefined,
  cutAfter: undefined,
  truncateAfter: undefined,
});

const ERROR_BY_STATUS: Record<number, FakeGeminiError> = {
  400: 'invalid_argument',
  401: 'unauthenticated',
  403: 'permission_denied',
  404: 'not_found',
  429: 'resource_exhausted',
  500: 'internal',
  503: 'unavailable',
};
const ERRORS = new Set<string>([...Object.values(ERROR_BY_STATUS), 'too_long', 'echo_key']);
const REPLIES = new Set(['text', 'thoughts', 'tools', 'blocked', 'utf8']);
const SAFETY_LIKE = new Set(['SAFETY', 'RECITATION', 'BLOCKLIST', 'PROHIBITED_CONTENT', 'SPII']);

export function parseGeminiBehavior(text: string): FakeGeminiBehavior {
  const behavior: FakeGeminiBehavior = { ...DEFAULT_BEHAVIOR };
  for (const pair of text.split(/[\s;,]+/)) {
    const [key = '', value = ''] = pair.split('=', 2);
    const int = Number(value);
    const valid = value !== '' && Number.isInteger(int) && int >= 0;
    if (key === 'error' && ERRORS.has(value)) behavior.error = value as FakeGeminiError;
    else if (key === 'reply' && REPLIES.has(value)) behavior.reply = value as FakeGeminiBehavior['reply'];
    else if (key === 'finish' && /^[A-Z_]+$/.test(value)) behavior.finish = value;
    else if (!valid) continue;
    else if (key === 'status') behavior.error = ERROR_BY_STATUS[int] ?? behavior.error;
    else if (key === 'retry_after') behavior.retryAfter = int;
    else if (key === 'retry_delay') behavior.retryDelay = int;
    else if (key === 'tools' && int > 0) behavior.tools = int;
    else if (key === 'chunks') behavior.chunks = int;
    else if (key === 'crlf') behavior.crlf = int > 0;
    else if (key === 'split_utf8') behavior.splitUtf8 = int > 0;
    else if (key === 'delay_ms') behavior.delayMs = int;
    else if (key === 'error_after') behavior.errorAfter = int;
    else if (key === 'cut_after') behavior.cutAfter = int;
    else if (key === 'truncate_after') behavior.truncateAfter = int;
  }
  return behavior;
}

/** The text pieces of a reply, in order. */
export function fakeGeminiPieces(behavior: Pick<FakeGeminiBehavior, 'chunks' | 'reply'>): string[] {
  if (behavior.reply === 'utf8') return FAKE_GEMINI_UTF8_REPLY.split(/(?= )/);
  if (behavior.chunks === undefined) return FAKE_GEMINI_REPLY.split(/(?= )/);
  return Array.from({ length: behavior.chunks }, (_, i) => `w${i} `);
}

/** The args object of the fake's function call number `index`. */
export function fakeGeminiArgs(index: number, name: string): Record<string, unknown> {
  return { call: index, tool: name, city: `City ${index}`, days: [1, 2, 3], metric: index % 2 === 0 };
}

/** The deterministic embedding of text number `index`, every value exact in float32. */
export function fakeGeminiEmbedding(index: number, dimensions: number): number[] {
  return Array.from({ length: dimensions }, (_, j) => Math.fround(Math.cos((index + 2) * (j + 1)) / 3));
}


function textsOf(content: unknown): string {
  if (!isObject(content) || !Array.isArray(content.parts)) return '';
  return content.parts.map((part) => (isObject(part) && typeof part.text === 'string' ? part.text : '')).join('\n');
}

function directive(action: string | undefined, body: Record<string, unknown>): string | undefined {
  let text = '';
  if (action === 'batchEmbedContents') {
    const first: unknown = Array.isArray(body.requests) ? body.requests[0] : undefined;
    text = isObject(first) ? textsOf(first.content) : '';
  } else if (Array.isArray(body.contents)) {
    const users = body.contents.filter((content) => isObject(content) && content.role === 'user' && textsOf(content) !== '');
    text = textsOf(users.at(-1));
  }
  return /\[fake\s+([^\]]*)\]/.exec(text)?.[1];
}

function functionNames(body: Record<string, unknown>): string[] {
  const names: string[] = [];
  for (const tool of Array.isArray(body.tools) ? body.tools : []) {
    if (!isObject(tool) || !Array.isArray(tool.functionDeclarations)) continue;
    for (const declaration of tool.functionDeclarations) if (isObject(declaration) && typeof declaration.name === 'string') names.push(declaration.name);
  }
  return names;
}

// ---------------------------------------------------------------------------------------------
// Google's error answers.

interface WireError {
  status: number;
  body: string;
  headers: Record<string, string>;
}

function googleError(code: number, status: string, message: string, details: unknown[] = [], headers: Record<string, string> = {}): WireError {
  return { status: code, headers, body: JSON.stringify({ error: { code, message, status, ...(details.length > 0 ? { details } : {}) } }, null, 2) };
}

const ERROR_INFO = (reason: string) => ({ '@type': 'type.googleapis.com/google.rpc.ErrorInfo', reason, domain: 'googleapis.com', metadata: { service: 'generativelanguage.googleapis.com' } });

function errorFor(kind: FakeGeminiError, model: string, behavior: FakeGeminiBehavior, sentKey: string): WireError {
  switch (kind) {
    case 'invalid_argument':
      return googleError(400, 'INVALID_ARGUMENT', '* GenerateContentRequest.generation_config.temperature: must be between 0 and 2.\n');
    case 'too_long':
      return googleError(400, 'INVALID_ARGUMENT', 'The input token count (1048577) exceeds the maximum number of tokens allowed (1048576).');
    case 'echo_key':
      return googleError(400, 'INVALID_ARGUMENT', `Request contains an invalid argument: key ${sentKey} cannot be used with this request.`);
    case 'unauthenticated':
      return googleError(401, 'UNAUTHENTICATED', 'Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential.', [ERROR_INFO('ACCESS_TOKEN_TYPE_UNSUPPORTED')]);
    case 'permission_denied':
      return googleError(403, 'PERMISSION_DENIED', `Permission denied: Consumer 'api_key:${sentKey}' has been suspended.`, [ERROR_INFO('CONSUMER_SUSPENDED')]);
    case 'not_found':
      return googleError(404, 'NOT_FOUND', `models/${model} is not found for API version v1beta, or is not supported for generateContent. Call ListModels to see the list of available models and their supported methods.`);
    case 'resource_exhausted':
      return googleError(
        429,
        'RESOURCE_EXHAUSTED',
        'You exceeded your current quota, please check your plan and billing details. For more information on this error, head to: https://ai.google.dev/gemini-api/docs/rate-limits.',
        [
          { '@type': 'type.googleapis.com/google.rpc.QuotaFailure', violations: [{ quotaMetric: 'generativelanguage.googleapis.com/generate_content_free_tier_requests', quotaId: 'GenerateRequestsPerMinutePerProjectPerModel-FreeTier', quotaDimensions: { location: 'global', model }, quotaValue: '10' }] },
          { '@type': 'type.googleapis.com/google.rpc.Help', links: [{ description: 'Learn more about Gemini API quotas', url: 'https://ai.google.dev/gemini-api/docs/rate-limits' }] },
          { '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: `${behavior.retryDelay}s` },
        ],
        behavior.retryAfter !== undefined ? { 'retry-after': String(behavior.retryAfter) } : {},
      );
    case 'internal':
      return googleError(500, 'INTERNAL', 'An internal error has occurred. Please retry or report in https://developers.generativeai.google/guide/troubleshooting');
    case 'unavailable':
      return googleError(503, 'UNAVAILABLE', 'The model is overloaded. Please try again later.');
  }
}

// ---------------------------------------------------------------------------------------------
// Answers: a list of GenerateContentResponse objects; a non-streaming answer merges them.

type Json = Record<string, unknown>;

const SAFETY_RATINGS = (blocked: boolean) => [
  { category: 'HARM_CATEGORY_SEXUALLY_EXPLICIT', probability: 'NEGLIGIBLE' },
  { category: 'HARM_CATEGORY_HATE_SPEECH', probability: 'NEGLIGIBLE' },
  { category: 'HARM_CATEGORY_HARASSMENT', probability: 'NEGLIGIBLE' },
  { category: 'HARM_CATEGORY_DANGEROUS_CONTENT', probability: blocked ? 'HIGH' : 'NEGLIGIBLE', ...(blocked ? { blocked: true } : {}) },
];

function usage(candidates: number, thoughts: number | undefined): Json {
  const { promptTokens, cachedTokens } = FAKE_GEMINI_USAGE;
  return {
    promptTokenCount: promptTokens,
    candidatesTokenCount: candidates,
    totalTokenCount: promptTokens + candidates + (thoughts ?? 0),
    cachedContentTokenCount: cachedTokens,
    ...(thoughts !== undefined ? { thoughtsTokenCount: thoughts } : {}),
    promptTokensDetails: [{ modality: 'TEXT', tokenCount: promptTokens }],
    cacheTokensDetails: [{ modality: 'TEXT', tokenCount: cachedTokens }],
  };
}

/** The events of one answer, without envelope fields (added per event). */
function answerEvents(body: Json, behavior: FakeGeminiBehavior): Json[] {
  const candidate = (parts: Json[] | undefined, extra: Json = {}): Json => ({ ...(parts ? { content: { parts, role: 'model' } } : {}), index: 0, ...extra });
  if (behavior.reply === 'blocked') {
    return [{ promptFeedback: { blockReason: 'SAFETY', safetyRatings: SAFETY_RATINGS(true) }, usageMetadata: { promptTokenCount: FAKE_GEMINI_USAGE.promptTokens, totalTokenCount: FAKE_GEMINI_USAGE.promptTokens } }];
  }
  if (behavior.reply === 'tools') {
    const names = functionNames(body);
    return Array.from({ length: behavior.tools }, (_, i) => {
      const name = names.length > 0 ? (names[i % names.length] as string) : `fake_tool_${i}`;
      const last = i === behavior.tools - 1;
      const part: Json = { functionCall: { name, args: fakeGeminiArgs(i, name) }, ...(i === 0 ? { thoughtSignature: 'CiQB0e2Kb3fakeSignature' } : {}) };
      return { candidates: [candidate([part], last ? { finishReason: 'STOP' } : {})], ...(last ? { usageMetadata: usage(behavior.tools * 12, undefined) } : {}) };
    });
  }
  const pieces = fakeGeminiPieces(behavior);
  const thoughts = behavior.reply === 'thoughts' ? FAKE_GEMINI_USAGE.thoughtsTokens : undefined;
  const events: Json[] = thoughts !== undefined ? [{ candidates: [candidate([{ text: FAKE_GEMINI_THOUGHT, thought: true }])] }] : [];
  const finalUsage = { usageMetadata: usage(pieces.length, thoughts) };
  if (SAFETY_LIKE.has(behavior.finish)) {
    // Half the text, then an empty candidate saying why generation stopped.
    for (const piece of pieces.slice(0, Math.ceil(pieces.length / 2))) events.push({ candidates: [candidate([{ text: piece }])] });
    events.push({ candidates: [candidate(undefined, { finishReason: behavior.finish, safetyRatings: SAFETY_RATINGS(behavior.finish === 'SAFETY') })], ...finalUsage });
    return events;
  }
  pieces.forEach((piece, i) => {
    const last = i === pieces.length - 1;
    events.push({ candidates: [candidate([{ text: piece }], last ? { finishReason: behavior.finish } : {})], ...(last ? finalUsage : {}) });
  });
  return events;
}

/** The non-streaming form: every event's parts in one candidate (adjacent text merged). */
function mergeEvents(events: Json[]): Json {
  const merged: Json = {};
  const parts: Json[] = [];
  let candidateExtra: Json | undefined;
  for (const event of events) {
    for (const [key, value] of Object.entries(event)) if (key !== 'candidates') merged[key] = value;
    const candidate = Array.isArray(event.candidates) ? (event.candidates[0] as Json) : undefined;
    if (!candidate) continue;
    const { content, ...rest } = candidate;
    candidateExtra = { ...candidateExtra, ...rest };
    for (const part of isObject(content) && Array.isArray(content.parts) ? (content.parts as Json[]) : []) {
      const previous = parts.at(-1);
      const plain = (p: Json | undefined) => p !== undefined && typeof p.text === 'string' && p.thought === undefined;
      if (plain(part) && plain(previous)) (previous as Json).text = `${String((previous as Json).text)}${String(part.text)}`;
      else parts.push({ ...part });
    }
  }
  if (candidateExtra) merged.candidates = [{ ...(parts.length > 0 ? { content: { parts, role: 'model' } } : {}), ...candidateExtra }];
  return merged;
}

// ---------------------------------------------------------------------------------------------
// The server.

export async function startFakeGemini(options: { apiKey?: string } = {}): Promise<FakeGemini> {
  const apiKey = options.apiKey ?? 'AIzaSyD3f4k3Qx7Lm2Np9Rt5Vw8Yz1Bc4Ef6Gh';
  const requests: GeminiRecordedRequest[] = [];
  let seq = 0;
  const sleep = (ms: number) => server.sleep(ms);

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const text = await readText(req);
    const url = new URL(req.url ?? '/', 'http://fake');
    const route = /^\/(v[0-9a-z]+)\/models\/([^/:]+):([A-Za-z]+)$/.exec(url.pathname);
    const [version, model, action] = route ? [route[1], decodeURIComponent(route[2] as string), route[3]] : [undefined, undefined, undefined];
    const body = parseJson(text);
    const json = isObject(body) ? body : undefined;
    const found = json ? directive(action, json) : undefined;
    const behavior = found === undefined ? { ...DEFAULT_BEHAVIOR } : parseGeminiBehavior(found);
    seq += 1;
    const recorded: GeminiRecordedRequest = {
      seq,
      method: req.method ?? '',
      url: req.url ?? '',
      pathname: url.pathname,
      query: Object.fromEntries(url.searchParams),
      version,
      model,
      action,
      headers: req.headers,
      body,
      behavior,
      eventsWritten: 0,
      closedEarly: undefined,
    };
    requests.push(recorded);
    const sendError = (error: WireError) => sendJson(res, error.status, error.body, error.headers);

    if (url.searchParams.has('key')) {
      return sendError(googleError(400, 'INVALID_ARGUMENT', 'fake: the API key was sent in the URL; send it in the x-goog-api-key header only.'));
    }
    const known = action === 'generateContent' || action === 'streamGenerateContent' || action === 'batchEmbedContents';
    if (req.method !== 'POST' || !known || model === undefined) {
      return sendError(googleError(404, 'NOT_FOUND', `fake: no method at ${req.method} ${url.pathname}`));
    }
    const sentKey = typeof req.headers['x-goog-api-key'] === 'string' ? req.headers['x-goog-api-key'] : '';
    if (sentKey === '') {
      return sendError(googleError(403, 'PERMISSION_DENIED', "Method doesn't allow unregistered callers (callers without established identity). Please use API Key or other form of API consumer identity to call this API."));
    }
    if (sentKey !== apiKey) {
      return sendError(googleError(400, 'INVALID_ARGUMENT', 'API key not valid. Please pass a valid API key.', [ERROR_INFO('API_KEY_INVALID'), { '@type': 'type.googleapis.com/google.rpc.LocalizedMessage', locale: 'en-US', message: 'API key not valid. Please pass a valid API key.' }]));
    }
    if (!json) return sendError(googleError(400, 'INVALID_ARGUMENT', 'Invalid JSON payload received.'));
    if (behavior.error) return sendError(errorFor(behavior.error, model, behavior, sentKey));
    if (action === 'batchEmbedContents') return sendEmbeddings(res, json, model);
    if (!Array.isArray(json.contents) || json.contents.length === 0) {
      return sendError(googleError(400, 'INVALID_ARGUMENT', '* GenerateContentRequest.contents: contents is not specified\n'));
    }
    const envelope = { modelVersion: model, responseId: `${FAKE_GEMINI_RESPONSE_ID}${seq}` };
    const events = answerEvents(json, behavior).map((event) => ({ ...event, ...envelope }));
    if (action === 'generateContent') return sendJson(res, 200, JSON.stringify(mergeEvents(events), null, 2), {});
    if (url.searchParams.get('alt') !== 'sse') {
      return sendError(googleError(400, 'INVALID_ARGUMENT', 'fake: only alt=sse streams are served.'));
    }
    await pump(req, res, events, recorded);
  }

  async function pump(req: IncomingMessage, res: ServerResponse, events: Json[], recorded: GeminiRecordedRequest): Promise<void> {
    const behavior = recorded.behavior;
    res.once('close', () => (recorded.closedEarly = !res.writableFinished));
    res.writeHead(200, { 'content-type': 'text/event-stream', 'x-content-type-options': 'nosniff' });
    res.flushHeaders();
    const eol = behavior.crlf ? '\r\n' : '\n';
    for (let index = 0; index <= events.length; index += 1) {
      if (res.destroyed) return;
      if (behavior.cutAfter === index) {
        req.socket.destroy();
        return;
      }
      if (behavior.truncateAfter === index) {
        res.end();
        return;
      }
      if (behavior.errorAfter === index) {
        const error = errorFor('internal', '', behavior, '');
        res.end(`data: ${JSON.stringify(JSON.parse(error.body))}${eol}${eol}`);
        return;
      }
      const event = events[index];
      if (event === undefined) break;
      if (index > 0 && behavior.delayMs > 0) await sleep(behavior.delayMs);
      const frame = Buffer.from(`data: ${JSON.stringify(event)}${eol}${eol}`, 'utf8');
      if (behavior.splitUtf8) {
        // Split inside the first multi-byte character, and let the halves go as separate packets.
        const at = frame.findIndex((byte) => byte >= 0xc0);
        const cut = at === -1 ? frame.length >> 1 : at + 1;
        await writeFlushed(res, frame.subarray(0, cut));
        await sleep(5);
        await writeFlushed(res, frame.subarray(cut));
      } else {
        await writeFlushed(res, frame);
      }
      recorded.eventsWritten += 1;
    }
    res.end();
  }

  function sendEmbeddings(res: ServerResponse, json: Record<string, unknown>, model: string): void {
    const items = Array.isArray(json.requests) ? json.requests : [];
    for (const [i, item] of items.entries()) {
      if (!isObject(item) || item.model !== `models/${model}`) {
        return sendJson(res, 400, googleError(400, 'INVALID_ARGUMENT', `* BatchEmbedContentsRequest.requests[${i}].model: model must be models/${model}\n`).body, {});
      }
    }
    const embeddings = items.map((item, i) => {
      const dims = isObject(item) && typeof item.outputDimensionality === 'number' ? item.outputDimensionality : FAKE_GEMINI_EMBEDDING_DIMENSIONS;
      return { values: fakeGeminiEmbedding(i, dims) };
    });
    sendJson(res, 200, JSON.stringify({ embeddings }), {});
  }

  const server = await startFakeServer(handle, { server: { noDelay: true } });
  return {
    url: server.origin,
    apiKey,
    requests,
    clear() {
      requests.length = 0;
    },
    close: () => server.close(),
  };
}

function sendJson(res: ServerResponse, status: number, body: string, headers: Record<string, string>): void {
  sendJsonWith(res, status, body, headers, { contentType: 'application/json; charset=UTF-8' });
}
