/**
 * A fake Azure OpenAI resource over real HTTP (node:http on 127.0.0.1, a free port), speaking the
 * data-plane inference wire format: `POST /openai/deployments/{deployment}/chat/completions` and
 * `/embeddings` with a required `api-version` query parameter and the `api-key` header. Answers
 * carry Azure's content filter annotations: `prompt_filter_results` (in the body, or as the first
 * stream chunk with empty `choices`, empty id and model) and `content_filter_results` per choice.
 * Errors use Azure's shapes (`{"error":{"code":"DeploymentNotFound",...}}`, the content_filter 400
 * with `innererror`). Keys are emitted in Azure's (alphabetical) order.
 *
 * Deployments are configured as `deployment name -> model name`; answers name the model, not the
 * deployment, as Azure does. API versions before 2024-09-01 refuse `stream_options` and
 * `max_completion_tokens`, as those versions do.
 *
 * Behaviour per request comes from a directive `[azure key=value ...]` in the last user message
 * (embeddings: in the first input string). Keys:
 *
 *   error=<kind>       content_filter (400, the prompt is blocked: violence), jailbreak (400,
 *                      prompt shield), rate_limit (429), server_error (500), overloaded (503),
 *                      deployment_not_found (404)
 *   status=<code>      the same errors chosen by status: 400, 404, 429, 500, 503
 *   retry_after=<s>    Retry-After seconds on a 429 (default 3)
 *   chunks=<n>         content deltas `w<i> ` (default: AZURE_REPLY word by word)
 *   tool_calls=<n>     answer with n parallel tool calls, names taken from the request's tools
 *   filter_answer=1    the answer is cut by the output filter: finish_reason content_filter
 *   async_filter=1     (streams) an annotation-only chunk for the choice after its finish chunk,
 *                      as Azure's asynchronous filter sends
 */
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import { drainOrClose, isObject, parseJson, readText, sendJson, startFakeServer } from './fake-server.js';
import { fakeContentPieces, fakeEmbedding, fakeToolArguments } from './openai-upstream.js';

export const AZURE_REPLY = 'Hello from the fake Azure OpenAI deployment.';
export const AZURE_FINGERPRINT = 'fp_azfake01';
/** Usage of every chat answer: the prompt is counted as this, the completion as one token a piece. */
export const AZURE_PROMPT_TOKENS = 27;
export const AZURE_EMBEDDING_DIMENSIONS = 6;
/** The first API version whose requests may carry stream_options and max_completion_tokens. */
export const AZURE_MODERN_API_VERSION = '2024-09-01';

export type AzureFakeError = 'content_filter' | 'jailbreak' | 'rate_limit' | 'server_error' | 'overloaded' | 'deployment_not_found';

export interface AzureBehavior {
  error: AzureFakeError | undefined;
  retryAfter: number;
  chunks: number | undefined;
  toolCalls: number;
  filterAnswer: boolean;
  asyncFilter: boolean;
}

export interface AzureRecordedRequest {
  seq: number;
  method: string;
  /** Path and query exactly as received. */
  url: string;
  /** The deployment named in the path, decoded (undefined for an unknown route). */
  deployment: string | undefined;
  operation: 'chat' | 'embeddings' | undefined;
  apiVersion: string | null;
  headers: IncomingHttpHeaders;
  body: unknown;
  behavior: AzureBehavior;
}

export interface FakeAzureOptions {
  apiKey?: string;
  /** Deployment name -> the model it serves (the name answers carry). */
  deployments?: Record<string, string>;
}

export interface FakeAzure {
  /** The resource endpoint, as a provider's `endpoint`. */
  endpoint: string;
  port: number;
  apiKey: string;
  requests: AzureRecordedRequest[];
  clear(): void;
  /** Ends every open socket, then stops listening. */
  close(): Promise<void>;
}

const DEFAULT_BEHAVIOR: Readonly<AzureBehavior> = Object.freeze({
  error: undefined,
  retryAfter: 3,
  chunks: undefined,
  toolCalls: 0,
  filterAnswer: false,
  asyncFilter: false,
});

const ERROR_BY_STATUS: Record<string, AzureFakeError> = {
  '400': 'content_filter',
  '404': 'deployment_not_found',
  '429': 'rate_limit',
  '500': 'server_error',
  '503': 'overloaded',
};
const ERROR_KINDS = new Set<string>(['content_filter', 'jailbreak', 'rate_limit', 'server_error', 'overloaded', 'deployment_not_found']);

export function parseAzureBehavior(text: string): AzureBehavior {
  const behavior: AzureBehavior = { ...DEFAULT_BEHAVIOR };
  for (const pair of text.split(/\s+/)) {
    const [key, value = ''] = pair.split('=', 2);
    const int = Number(value);
    const count = value !== '' && Number.isInteger(int) && int >= 0 ? int : undefined;
    if (key === 'error' && ERROR_KINDS.has(value)) behavior.error = value as AzureFakeError;
    else if (key === 'status') behavior.error = ERROR_BY_STATUS[value] ?? behavior.error;
    else if (key === 'retry_after' && count !== undefined) behavior.retryAfter = count;
    else if (key === 'chunks' && count !== undefined) behavior.chunks = count;
    else if (key === 'tool_calls' && count !== undefined) behavior.toolCalls = count;
    else if (key === 'filter_answer') behavior.filterAnswer = value === '1';
    else if (key === 'async_filter') behavior.asyncFilter = value === '1';
  }
  return behavior;
}

// ---------------------------------------------------------------------------------------------
// Wire pieces.

type Json = Record<string, unknown>;

const safe = { filtered: false, severity: 'safe' };
const notDetected = { filtered: false, detected: false };

/** An output annotation; `violence` is filtered when the answer was cut. */
function choiceFilter(filtered: boolean): Json {
  return {
    hate: safe,
    protected_material_code: notDetected,
    protected_material_text: notDetected,
    self_harm: safe,
    sexual: safe,
    violence: filtered ? { filtered: true, severity: 'medium' } : safe,
  };
}

const PROMPT_FILTER_RESULTS = [{ prompt_index: 0, content_filter_results: { hate: safe, jailbreak: notDetected, self_harm: safe, sexual: safe, violence: safe } }];

function usageFor(completionTokens: number): Json {
  return {
    completion_tokens: completionTokens,
    completion_tokens_details: { accepted_prediction_tokens: 0, audio_tokens: 0, reasoning_tokens: 0, rejected_prediction_tokens: 0 },
    prompt_tokens: AZURE_PROMPT_TOKENS,
    prompt_tokens_details: { audio_tokens: 0, cached_tokens: 0 },
    total_tokens: AZURE_PROMPT_TOKENS + completionTokens,
  };
}

/** The content deltas of an answer: AZURE_REPLY word by word, or `chunks` numbered pieces. */
export function azureContentPieces(chunks?: number): string[] {
  return chunks === undefined ? AZURE_REPLY.split(/(?= )/) : fakeContentPieces(chunks);
}

interface WireToolCall {
  id: string;
  type: 'function';
  function: { name: string; arguments: string };
}

function toolCallsFor(body: Json, count: number): WireToolCall[] {
  const names = (Array.isArray(body.tools) ? body.tools : [])
    .map((tool: unknown) => (isObject(tool) && isObject(tool.function) ? tool.function.name : undefined))
    .filter((name): name is string => typeof name === 'string');
  return Array.from({ length: count }, (_, i) => {
    const name = names.length > 0 ? (names[i % names.length] as string) : `tool_${i}`;
    return { id: `call_az${i}${(i * 104729).toString(36)}`, type: 'function', function: { name, arguments: fakeToolArguments(i, name) } };
  });
}

interface WireError {
  status: number;
  body: Json;
  headers?: Record<string, string>;
}

function errorFor(kind: AzureFakeError, apiVersion: string, behavior: AzureBehavior): WireError {
  switch (kind) {
    case 'content_filter':
    case 'jailbreak': {
      const results: Json = { hate: safe, jailbreak: notDetected, self_harm: safe, sexual: safe, violence: safe };
      if (kind === 'jailbreak') results.jailbreak = { filtered: true, detected: true };
      else results.violence = { filtered: true, severity: 'high' };
      const message =
        "The response was filtered due to the prompt triggering Azure OpenAI's content management policy. Please modify your prompt and retry. To learn more about our content filtering policies please read our documentation: https://go.microsoft.com/fwlink/?linkid=2198766";
      return {
        status: 400,
        body: { error: { message, type: null, param: 'prompt', code: 'content_filter', status: 400, innererror: { code: 'ResponsibleAIPolicyViolation', content_filter_result: results } } },
      };
    }
    case 'rate_limit':
      return {
        status: 429,
        body: {
          error: {
            code: '429',
            message: `Requests to the ChatCompletions_Create Operation under Azure OpenAI API version ${apiVersion} have exceeded token rate limit of your current OpenAI S0 pricing tier. Please retry after ${behavior.retryAfter} seconds.`,
          },
        },
        headers: { 'retry-after': String(behavior.retryAfter), 'retry-after-ms': String(behavior.retryAfter * 1000), 'x-ratelimit-remaining-requests': '0' },
      };
    case 'server_error':
      return { status: 500, body: { error: { code: 'InternalServerError', message: 'The server had an error processing your request.' } } };
    case 'overloaded':
      return { status: 503, body: { error: { code: 'ServiceUnavailable', message: 'The service is temporarily unable to process your request. Please try again later.' } } };
    case 'deployment_not_found':
      return deploymentNotFound();
  }
}

function deploymentNotFound(): WireError {
  const message = 'The API deployment for this resource does not exist. If you created the deployment within the last 5 minutes, please wait a moment and try again.';
  return { status: 404, body: { error: { code: 'DeploymentNotFound', message } } };
}

const ROUTE = /^\/openai\/deployments\/([^/?]+)\/(chat\/completions|embeddings)$/;
const DIRECTIVE = /\[azure\s+([^\]]*)\]/;

function directiveFrom(operation: 'chat' | 'embeddings', body: Json): string | undefined {
  let text = '';
  if (operation === 'embeddings') {
    const input = body.input;
    text = typeof input === 'string' ? input : Array.isArray(input) && typeof input[0] === 'string' ? input[0] : '';
  } else if (Array.isArray(body.messages)) {
    const last = body.messages.filter((m: unknown) => isObject(m) && m.role === 'user').at(-1) as Json | undefined;
    const content = last?.content;
    text = typeof content === 'string' ? content : Array.isArray(content) ? content.map((p: unknown) => (isObject(p) && typeof p.text === 'string' ? p.text : '')).join('\n') : '';
  }
  return DIRECTIVE.exec(text)?.[1];
}

// ---------------------------------------------------------------------------------------------
// The server.

export async function startFakeAzureOpenAI(options: FakeAzureOptions = {}): Promise<FakeAzure> {
  const apiKey = options.apiKey ?? 'azfake0123456789abcdef0123456789';
  const deployments = options.deployments ?? { 'chat-prod': 'gpt-4o-2024-08-06', embedder: 'text-embedding-3-small' };
  const requests: AzureRecordedRequest[] = [];
  let seq = 0;

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const text = await readText(req);
    const id = (seq += 1);
    const url = req.url ?? '/';
    const [pathname = '/', query = ''] = url.split('?', 2);
    const route = req.method === 'POST' ? ROUTE.exec(pathname) : null;
    const apiVersion = new URLSearchParams(query).get('api-version');
    const body = parseJson(text);
    const operation = route ? (route[2] === 'embeddings' ? 'embeddings' : 'chat') : undefined;
    const deployment = route ? decodeURIComponent(route[1] as string) : undefined;
    const json = isObject(body) ? body : undefined;
    const directive = json && operation ? directiveFrom(operation, json) : undefined;
    const behavior = directive === undefined ? { ...DEFAULT_BEHAVIOR } : parseAzureBehavior(directive);
    requests.push({ seq: id, method: req.method ?? 'GET', url, deployment, operation, apiVersion, headers: req.headers, body, behavior });

    const headers = { 'apim-request-id': `apim-${id}`, 'x-request-id': `req-az-${id}`, 'x-ms-region': 'Sweden Central' };
    const fail = (error: WireError) => sendJson(res, error.status, error.body, { ...headers, ...error.headers });
    if (!route || !operation || deployment === undefined) return fail({ status: 404, body: { error: { code: '404', message: 'Resource not found' } } });
    if (apiVersion === null) {
      return fail({ status: 400, body: { error: { code: 'MissingApiVersionParameter', message: 'The api-version query parameter (?api-version=) is required for all requests.' } } });
    }
    if (!/^\d{4}-\d{2}-\d{2}(-preview)?$/.test(apiVersion)) return fail({ status: 404, body: { error: { code: '404', message: 'Resource not found' } } });
    if (req.headers['api-key'] !== apiKey) {
      const message = 'Access denied due to invalid subscription key or wrong API endpoint. Make sure to provide a valid key for an active subscription and use a correct regional API endpoint for your resource.';
      return fail({ status: 401, body: { error: { code: '401', message } } });
    }
    const model = deployments[deployment];
    if (model === undefined) return fail(deploymentNotFound());
    if (!json) return fail({ status: 400, body: { error: { code: 'BadRequest', message: 'The request body is not valid JSON.' } } });
    if (apiVersion < AZURE_MODERN_API_VERSION) {
      const unknown = ['stream_options', 'max_completion_tokens'].find((field) => field in json);
      if (unknown) return fail({ status: 400, body: { error: { message: `Unrecognized request argument supplied: ${unknown}`, type: 'invalid_request_error', param: null, code: null } } });
    }
    if (behavior.error) return fail(errorFor(behavior.error, apiVersion, behavior));
    if (operation === 'embeddings') return sendJson(res, 200, embeddingsBody(json, model), headers);
    const context = { id: `chatcmpl-az${id}`, created: Math.floor(Date.now() / 1000), model };
    if (json.stream !== true) return sendJson(res, 200, completionBody(json, behavior, context), headers);
    const includeUsage = isObject(json.stream_options) && json.stream_options.include_usage === true;
    res.writeHead(200, { ...headers, 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' });
    for (const chunk of streamChunks(json, behavior, context, includeUsage)) {
      if (res.destroyed) return;
      if (!res.write(`data: ${JSON.stringify(chunk)}\n\n`)) await drainOrClose(res);
    }
    res.end('data: [DONE]\n\n');
  }

  const server = await startFakeServer(handle, { server: { keepAliveTimeout: 5_000 } });
  return {
    endpoint: server.origin,
    port: server.port,
    apiKey,
    requests,
    clear: () => void (requests.length = 0),
    close: () => server.close(),
  };
}

interface AnswerContext {
  id: string;
  created: number;
  model: string;
}

function completionBody(json: Json, behavior: AzureBehavior, context: AnswerContext): Json {
  const calls = behavior.toolCalls > 0 ? toolCallsFor(json, behavior.toolCalls) : undefined;
  const pieces = azureContentPieces(behavior.chunks);
  const shown = behavior.filterAnswer ? pieces.slice(0, 2) : pieces;
  const content = calls ? null : shown.join('');
  const finish = behavior.filterAnswer ? 'content_filter' : calls ? 'tool_calls' : 'stop';
  const message: Json = { content, refusal: null, role: 'assistant', ...(calls ? { tool_calls: calls } : {}) };
  return {
    choices: [{ content_filter_results: choiceFilter(behavior.filterAnswer), finish_reason: finish, index: 0, logprobs: null, message }],
    created: context.created,
    id: context.id,
    model: context.model,
    object: 'chat.completion',
    prompt_filter_results: PROMPT_FILTER_RESULTS,
    system_fingerprint: AZURE_FINGERPRINT,
    usage: usageFor(calls ? calls.length * 20 : shown.length),
  };
}

/** The chunks of one streamed answer, in Azure's order: prompt annotations first, usage last. */
function* streamChunks(json: Json, behavior: AzureBehavior, context: AnswerContext, includeUsage: boolean): Generator<Json> {
  const wrap = (choice: Json): Json => ({
    choices: [{ ...choice, index: 0, logprobs: null }],
    created: context.created,
    id: context.id,
    model: context.model,
    object: 'chat.completion.chunk',
    system_fingerprint: AZURE_FINGERPRINT,
  });
  const delta = (value: Json, filter: Json = choiceFilter(false)) => wrap({ content_filter_results: filter, delta: value, finish_reason: null });
  yield { choices: [], created: 0, id: '', model: '', object: '', prompt_filter_results: PROMPT_FILTER_RESULTS };
  yield delta({ content: '', refusal: null, role: 'assistant' }, {});
  let completionTokens = 0;
  const calls = behavior.toolCalls > 0 ? toolCallsFor(json, behavior.toolCalls) : undefined;
  if (calls) {
    for (const [index, call] of calls.entries()) {
      yield delta({ tool_calls: [{ function: { arguments: '', name: call.function.name }, id: call.id, index, type: 'function' }] }, {});
      const args = call.function.arguments;
      for (let at = 0; at < args.length; at += 9) yield delta({ tool_calls: [{ function: { arguments: args.slice(at, at + 9) }, index }] }, {});
    }
    completionTokens = calls.length * 20;
  } else {
    const pieces = azureContentPieces(behavior.chunks);
    const shown = behavior.filterAnswer ? pieces.slice(0, 2) : pieces;
    for (const piece of shown) yield delta({ content: piece });
    completionTokens = shown.length;
  }
  const finish = behavior.filterAnswer ? 'content_filter' : calls ? 'tool_calls' : 'stop';
  yield wrap({ content_filter_results: behavior.filterAnswer ? choiceFilter(true) : {}, delta: {}, finish_reason: finish });
  if (behavior.asyncFilter) {
    const offsets = { check_offset: 0, end_offset: 64, start_offset: 0 };
    yield wrap({ content_filter_offsets: offsets, content_filter_results: choiceFilter(false), finish_reason: null });
  }
  if (includeUsage) {
    yield { choices: [], created: context.created, id: context.id, model: context.model, object: 'chat.completion.chunk', system_fingerprint: AZURE_FINGERPRINT, usage: usageFor(completionTokens) };
  }
}

function embeddingsBody(json: Json, model: string): Json {
  const input = json.input;
  const inputs: unknown[] = Array.isArray(input) ? (typeof input[0] === 'number' ? [input] : input) : [input];
  const dimensions = typeof json.dimensions === 'number' && json.dimensions > 0 ? json.dimensions : AZURE_EMBEDDING_DIMENSIONS;
  const base64 = json.encoding_format === 'base64';
  let tokens = 0;
  const data = inputs.map((item, index) => {
    tokens += typeof item === 'string' ? Math.max(1, Math.ceil(item.length / 4)) : 1;
    const vector = fakeEmbedding(index, dimensions);
    return { embedding: base64 ? Buffer.from(new Float32Array(vector).buffer).toString('base64') : vector, index, object: 'embedding' };
  });
  return { data, model, object: 'list', usage: { prompt_tokens: tokens, total_tokens: tokens } };
}
