/**
 * A fake Amazon Bedrock Runtime over real HTTP (node:http on 127.0.0.1, a free port), speaking the
 * wire format of the Bedrock API reference: `POST /model/{modelId}/converse` answers a Converse
 * JSON object, `POST /model/{modelId}/converse-stream` answers the binary AWS event-stream framing
 * (messageStart, contentBlockStart, contentBlockDelta, contentBlockStop, messageStop, metadata;
 * exception frames), written in chunks that split frames at awkward byte offsets. Errors are HTTP
 * statuses with `x-amzn-errortype` and a `{"message"}` body.
 *
 * Every request's SigV4 signature is verified: recomputed with @smithy/signature-v4 from the known
 * credentials and compared; a wrong key id answers 403 UnrecognizedClientException, a wrong
 * signature 403 InvalidSignatureException. The fake also applies some of Bedrock's own request
 * rules (alternating roles starting with user, no blank text, toolConfig when tool blocks are used).
 *
 * Behaviour per request comes from a directive `[fake key=value ...]` in the last user message:
 *
 *   error=<kind>         validation (400), too_long (400), access_denied (403), not_found (404),
 *                        model_timeout (408), throttling (429), internal (500), unavailable (503),
 *                        model_error (424), leaky (400 whose message quotes the secret key)
 *   stop=<reason>        end_turn (default), stop_sequence, max_tokens, guardrail_intervened,
 *                        content_filtered
 *   tools=<n>            a text block, then n toolUse blocks named from the request's tools
 *   reasoning=1          a reasoning block (text and signature) before the answer
 *   chunks=<n>           n text deltas `w<i> ` (default: FAKE_REPLY word by word)
 *   split=<n>            write the stream n bytes at a time (default: an irregular cycle)
 *   exception=<type>     stream: after `exception_after` frames (default 4), an exception frame
 *                        (throttlingException, modelStreamErrorException, ...), then the end
 *   cut_after=<n>        stream: end the body cleanly after n frames, before messageStop
 *   cut_mid=1            with cut_after: also send the first half of the next frame
 *   no_usage=1           stream: no metadata event
 *   delay_ms=<n>         pause between two writes
 */
import { createHash, randomUUID, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import { EventStreamCodec } from '@smithy/eventstream-codec';
import { Hash } from '@smithy/hash-node';
import { SignatureV4 } from '@smithy/signature-v4';
import { fromUtf8, toUtf8 } from '@smithy/util-utf8';
import { isObject, parseJson, readText, startFakeServer } from './fake-server.js';

export const FAKE_REPLY = 'Hello from the fake Bedrock runtime, in event-stream frames.';
export const FAKE_TOOL_PREAMBLE = 'Let me look that up.';
export const FAKE_REASONING = ['The user greets me. ', 'I should greet back ', 'briefly.'];
export const FAKE_SIGNATURE = 'EqQBCkYIARgCIkDfakeSignature0123456789';
export const FAKE_GUARDRAIL_TEXT = 'Sorry, the model cannot answer this question.';
/** Token counts the fake reports; Bedrock counts cache reads and writes apart from inputTokens. */
export const FAKE_USAGE = { inputTokens: 21, cacheReadInputTokens: 10, cacheWriteInputTokens: 5 } as const;

export interface FakeCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

export interface FakeBehavior {
  error: string | undefined;
  stop: string;
  tools: number;
  reasoning: boolean;
  chunks: number | undefined;
  split: number | undefined;
  exception: string | undefined;
  exceptionAfter: number;
  cutAfter: number | undefined;
  cutMid: boolean;
  noUsage: boolean;
  delayMs: number;
}

export interface RecordedRequest {
  seq: number;
  method: string;
  /** The raw request path, as signed. */
  path: string;
  /** The model id decoded from the path. */
  modelId: string;
  operation: 'converse' | 'converse-stream' | 'unknown';
  headers: IncomingHttpHeaders;
  rawBody: string;
  body: unknown;
  behavior: FakeBehavior;
  /** undefined when the signature was valid, else the error type answered. */
  authError: string | undefined;
}

export interface FakeStream {
  request: RecordedRequest;
  framesPlanned: number;
  writes: number;
  bytesWritten: number;
  state: 'streaming' | 'completed' | 'cut' | 'exception';
  closed: Promise<void>;
}

export interface FakeBedrock {
  /** The endpoint to configure (`endpoint:` in the provider). */
  url: string;
  region: string;
  credentials: FakeCredentials;
  requests: RecordedRequest[];
  streams: FakeStream[];
  close(): Promise<void>;
}

const DEFAULT_BEHAVIOR: Readonly<FakeBehavior> = Object.freeze({
  error: undefined,
  stop: 'end_turn',
  tools: 0,
  reasoning: false,
  chunks: undefined,
  split: undefined,
  exception: undefined,
  exceptionAfter: 4,
  cutAfter: undefined,
  cutMid: false,
  noUsage: false,
  delayMs: 0,
});

/** Write sizes cycled through by default: tiny, mid-frame, and several frames at once. */
const AWKWARD_SPLITS = [1, 3, 17, 2, 64, 5, 301, 7, 11, 900];

type Json = Record<string, unknown>;

export function parseBehavior(text: string): FakeBehavior {
  const behavior: FakeBehavior = { ...DEFAULT_BEHAVIOR };
  for (const pair of text.split(/[\s;,]+/)) {
    const [key, value] = pair.split('=') as [string, string | undefined];
    if (value === undefined || value === '') continue;
    const int = Number(value);
    const valid = Number.isInteger(int) && int >= 0;
    if (key === 'error') behavior.error = value;
    else if (key === 'stop') behavior.stop = value;
    else if (key === 'exception') behavior.exception = value;
    else if (key === 'reasoning') behavior.reasoning = value === '1';
    else if (key === 'cut_mid') behavior.cutMid = value === '1';
    else if (key === 'no_usage') behavior.noUsage = value === '1';
    else if (!valid) continue;
    else if (key === 'tools') behavior.tools = int;
    else if (key === 'chunks') behavior.chunks = int;
    else if (key === 'split' && int > 0) behavior.split = int;
    else if (key === 'exception_after') behavior.exceptionAfter = int;
    else if (key === 'cut_after') behavior.cutAfter = int;
    else if (key === 'delay_ms') behavior.delayMs = int;
  }
  return behavior;
}

/** The text deltas of a reply: FAKE_REPLY word by word, or `chunks` numbered pieces. */
export function fakeTextPieces(chunks?: number): string[] {
  if (chunks === undefined) return FAKE_REPLY.split(/(?= )/);
  return Array.from({ length: chunks }, (_, i) => `w${i} `);
}

/** The input object of the fake's tool call number `index`. */
export function fakeToolInput(index: number, name: string): Json {
  return { call: index, tool: name, city: `City ${index}`, units: index % 2 === 0 ? 'celsius' : 'fahrenheit', days: [1, 2, 3] };
}

export function fakeToolUseId(index: number): string {
  return `tooluse_fake${index}_${(index * 7919).toString(36)}`;
}

function directiveOf(body: Json): string | undefined {
  const messages = body.messages;
  if (!Array.isArray(messages)) return undefined;
  for (let i = messages.length - 1; i >= 0; i -= 1) {
    const message: unknown = messages[i];
    if (!isObject(message) || message.role !== 'user' || !Array.isArray(message.content)) continue;
    const text = message.content.map((block: unknown) => (isObject(block) && typeof block.text === 'string' ? block.text : '')).join('\n');
    const match = /\[fake\s+([^\]]*)\]/.exec(text);
    if (match) return match[1];
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// Bedrock's request rules (a subset) and errors.

interface WireError {
  status: number;
  type: string;
  message: string;
}

const ERRORS: Record<string, (credentials: FakeCredentials) => WireError> = {
  validation: () => ({ status: 400, type: 'ValidationException', message: 'The provided request is not valid: temperature must be between 0 and 1.' }),
  too_long: () => ({ status: 400, type: 'ValidationException', message: 'Input is too long for requested model.' }),
  access_denied: () => ({ status: 403, type: 'AccessDeniedException', message: "You don't have access to the model with the specified model ID." }),
  not_found: () => ({ status: 404, type: 'ResourceNotFoundException', message: 'Could not resolve the foundation model from the provided model identifier.' }),
  model_timeout: () => ({ status: 408, type: 'ModelTimeoutException', message: 'Model has timed out in processing the request. Try your request again.' }),
  throttling: () => ({ status: 429, type: 'ThrottlingException', message: 'Too many requests, please wait before trying again.' }),
  internal: () => ({ status: 500, type: 'InternalServerException', message: 'The server encountered an internal error.' }),
  unavailable: () => ({ status: 503, type: 'ServiceUnavailableException', message: 'The service is temporarily unable to handle the request.' }),
  model_error: () => ({ status: 424, type: 'ModelErrorException', message: 'The model failed to process the request.' }),
  leaky: (credentials) => ({
    status: 400,
    type: 'ValidationException',
    message: `Malformed input request for key ${credentials.secretAccessKey} token ${credentials.sessionToken ?? ''}, please reformat your input and try again.`,
  }),
};

/** Some of the checks Bedrock itself makes, so a wrong translation fails here as it would there. */
function validateConverse(body: Json): string | undefined {
  const messages = body.messages;
  if (!Array.isArray(messages) || messages.length === 0) return 'A conversation must start with a user message. Try again with a conversation that starts with a user message.';
  let usesTools = false;
  let expected = 'user';
  for (const [i, message] of messages.entries()) {
    if (!isObject(message) || message.role !== expected) {
      return i === 0 ? 'A conversation must start with a user message.' : 'A conversation must alternate between user and assistant roles.';
    }
    expected = expected === 'user' ? 'assistant' : 'user';
    if (!Array.isArray(message.content) || message.content.length === 0) return `messages.${i}.content: must not be empty`;
    for (const block of message.content) {
      if (!isObject(block)) return `messages.${i}.content: invalid block`;
      if (typeof block.text === 'string' && block.text.trim() === '') return 'The text field in the ContentBlock object is blank.';
      if ('toolUse' in block || 'toolResult' in block) usesTools = true;
    }
  }
  if (usesTools && !isObject(body.toolConfig)) return 'The toolConfig field must be defined when using toolUse and toolResult content blocks.';
  const inference = body.inferenceConfig;
  if (isObject(inference) && inference.maxTokens !== undefined && (typeof inference.maxTokens !== 'number' || inference.maxTokens < 1)) {
    return 'inferenceConfig.maxTokens must be a positive integer.';
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// SigV4 verification.

const AUTH_PATTERN = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, SignedHeaders=([a-z0-9;-]+), Signature=([0-9a-f]{64})$/;

async function verifySignature(req: IncomingMessage, rawBody: string, credentials: FakeCredentials, region: string): Promise<WireError | undefined> {
  const invalid = (message: string): WireError => ({ status: 403, type: 'InvalidSignatureException', message });
  const auth = req.headers.authorization;
  if (typeof auth !== 'string') return { status: 403, type: 'MissingAuthenticationTokenException', message: 'Missing Authentication Token' };
  const match = AUTH_PATTERN.exec(auth);
  if (!match) return { status: 403, type: 'IncompleteSignatureException', message: 'Authorization header requires existence of either a X-Amz-Date or a Date header.' };
  const [, keyId, day, scopeRegion, service, signedList] = match as unknown as [string, string, string, string, string, string];
  const unrecognized = { status: 403, type: 'UnrecognizedClientException', message: 'The security token included in the request is invalid.' };
  if (keyId !== credentials.accessKeyId) return unrecognized;
  if (credentials.sessionToken !== undefined && req.headers['x-amz-security-token'] !== credentials.sessionToken) return unrecognized;
  if (scopeRegion !== region) return invalid(`Credential should be scoped to a valid region, not '${scopeRegion}'.`);
  if (service !== 'bedrock') return invalid(`Credential should be scoped to correct service: 'bedrock'.`);
  const amzDate = req.headers['x-amz-date'];
  const dateMatch = typeof amzDate === 'string' ? /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(amzDate) : null;
  if (!dateMatch || !amzDate?.toString().startsWith(day)) return invalid('Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP.');
  const [, y, mo, d, h, mi, s] = dateMatch.map(Number) as [number, number, number, number, number, number, number];
  const signingDate = new Date(Date.UTC(y, mo - 1, d, h, mi, s));
  if (Math.abs(Date.now() - signingDate.getTime()) > 5 * 60_000) return invalid('Signature expired.');
  const bodyHash = createHash('sha256').update(rawBody).digest('hex');
  const claimedHash = req.headers['x-amz-content-sha256'];
  if (claimedHash !== undefined && claimedHash !== bodyHash) return invalid("The provided 'x-amz-content-sha256' header does not match what was computed.");
  const signedNames = signedList.split(';');
  if (!signedNames.includes('host') || !signedNames.includes('x-amz-date')) return invalid("'Host' and 'X-Amz-Date' must be signed.");
  const headers: Record<string, string> = {};
  for (const name of signedNames) {
    const value = req.headers[name];
    if (value === undefined) return invalid(`Signed header ${name} is missing.`);
    headers[name] = Array.isArray(value) ? value.join(',') : value;
  }
  const signer = new SignatureV4({ service: 'bedrock', region, credentials, sha256: Hash.bind(null, 'sha256'), uriEscapePath: true });
  const url = req.url ?? '/';
  const [host, port] = (headers.host ?? '').split(':');
  const signed = await signer.sign(
    { method: req.method ?? 'POST', protocol: 'http:', hostname: host ?? '', ...(port ? { port: Number(port) } : {}), path: url.split('?')[0] ?? '/', query: {}, headers, body: rawBody },
    { signingDate, signableHeaders: new Set(signedNames) },
  );
  const expected = Buffer.from(String(signed.headers.authorization));
  const got = Buffer.from(auth);
  if (expected.length !== got.length || !timingSafeEqual(expected, got)) {
    return invalid('The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.');
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// Answers.

const codec = new EventStreamCodec(toUtf8, fromUtf8);

function padding(seed: number): string {
  return 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0'.slice(0, 1 + (seed % 40));
}

function eventFrame(type: string, payload: Json, seed: number): Uint8Array {
  return codec.encode({
    headers: {
      ':event-type': { type: 'string', value: type },
      ':content-type': { type: 'string', value: 'application/json' },
      ':message-type': { type: 'string', value: 'event' },
    },
    body: fromUtf8(JSON.stringify({ ...payload, p: padding(seed) })),
  });
}

function exceptionFrame(type: string, message: string): Uint8Array {
  return codec.encode({
    headers: {
      ':exception-type': { type: 'string', value: type },
      ':content-type': { type: 'string', value: 'application/json' },
      ':message-type': { type: 'string', value: 'exception' },
    },
    body: fromUtf8(JSON.stringify({ message })),
  });
}

interface Answer {
  blocks: Json[];
  /** The streamed form: per block, its start (toolUse only) and its deltas. */
  streamed: Array<{ start?: Json; deltas: Json[] }>;
  stopReason: string;
  outputTokens: number;
}

function toolNames(body: Json): string[] {
  const tools = isObject(body.toolConfig) && Array.isArray(body.toolConfig.tools) ? body.toolConfig.tools : [];
  return tools.flatMap((tool: unknown) => (isObject(tool) && isObject(tool.toolSpec) && typeof tool.toolSpec.name === 'string' ? [tool.toolSpec.name] : []));
}

function buildAnswer(body: Json, behavior: FakeBehavior): Answer {
  const answer: Answer = { blocks: [], streamed: [], stopReason: behavior.stop, outputTokens: 0 };
  if (behavior.reasoning) {
    answer.blocks.push({ reasoningContent: { reasoningText: { text: FAKE_REASONING.join(''), signature: FAKE_SIGNATURE } } });
    answer.streamed.push({ deltas: [...FAKE_REASONING.map((text) => ({ reasoningContent: { text } })), { reasoningContent: { signature: FAKE_SIGNATURE } }] });
    answer.outputTokens += FAKE_REASONING.length;
  }
  if (behavior.stop === 'guardrail_intervened' || behavior.stop === 'content_filtered') {
    answer.blocks.push({ text: FAKE_GUARDRAIL_TEXT });
    answer.streamed.push({ deltas: [{ text: FAKE_GUARDRAIL_TEXT }] });
    return answer;
  }
  if (behavior.tools > 0) {
    answer.blocks.push({ text: FAKE_TOOL_PREAMBLE });
    answer.streamed.push({ deltas: [{ text: FAKE_TOOL_PREAMBLE }] });
    const names = toolNames(body);
    for (let i = 0; i < behavior.tools; i += 1) {
      const name = names.length > 0 ? (names[i % names.length] as string) : `fake_tool_${i}`;
      const input = fakeToolInput(i, name);
      const text = JSON.stringify(input);
      answer.blocks.push({ toolUse: { toolUseId: fakeToolUseId(i), name, input } });
      const deltas: Json[] = [];
      for (let at = 0; at < text.length; at += 9) deltas.push({ toolUse: { input: text.slice(at, at + 9) } });
      answer.streamed.push({ start: { toolUse: { toolUseId: fakeToolUseId(i), name } }, deltas });
      answer.outputTokens += 20;
    }
    if (behavior.stop === 'end_turn') answer.stopReason = 'tool_use';
    return answer;
  }
  const pieces = fakeTextPieces(behavior.chunks);
  const kept = behavior.stop === 'max_tokens' ? pieces.slice(0, Math.max(1, Math.floor(pieces.length / 2))) : pieces;
  answer.blocks.push({ text: kept.join('') });
  answer.streamed.push({ deltas: kept.map((text) => ({ text })) });
  answer.outputTokens += kept.length;
  return answer;
}

function usageOf(answer: Answer): Json {
  const { inputTokens, cacheReadInputTokens, cacheWriteInputTokens } = FAKE_USAGE;
  return {
    inputTokens,
    outputTokens: answer.outputTokens,
    totalTokens: inputTokens + answer.outputTokens + cacheReadInputTokens + cacheWriteInputTokens,
    cacheReadInputTokens,
    cacheWriteInputTokens,
  };
}

function streamFrames(answer: Answer, behavior: FakeBehavior): Uint8Array[] {
  const frames: Uint8Array[] = [eventFrame('messageStart', { role: 'assistant' }, 0)];
  answer.streamed.forEach((block, contentBlockIndex) => {
    if (block.start) frames.push(eventFrame('contentBlockStart', { contentBlockIndex, start: block.start }, frames.length));
    for (const delta of block.deltas) frames.push(eventFrame('contentBlockDelta', { contentBlockIndex, delta }, frames.length));
    frames.push(eventFrame('contentBlockStop', { contentBlockIndex }, frames.length));
  });
  frames.push(eventFrame('messageStop', { stopReason: answer.stopReason }, frames.length));
  if (!behavior.noUsage) frames.push(eventFrame('metadata', { usage: usageOf(answer), metrics: { latencyMs: 321 } }, frames.length));
  return frames;
}

// ---------------------------------------------------------------------------------------------
// The server.

export async function startFakeBedrock(options: { credentials?: FakeCredentials; region?: string } = {}): Promise<FakeBedrock> {
  const credentials: FakeCredentials = options.credentials ?? {
    accessKeyId: 'AKIAFAKEBEDROCK0TEST',
    secretAccessKey: 'fakeSecret/Key+0123456789abcdefghijKLMNOPQR',
    sessionToken: 'FwoGZXIvYXdzEFakeSessionToken0123456789abcdefXYZ==',
  };
  const region = options.region ?? 'us-east-1';
  const requests: RecordedRequest[] = [];
  const streams: FakeStream[] = [];
  let seq = 0;
  const sleep = (ms: number) => server.sleep(ms);

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const rawBody = await readText(req);
    const path = req.url ?? '/';
    const route = /^\/model\/([^/]+)\/(converse|converse-stream)$/.exec(path);
    const body = parseJson(rawBody);
    const json = isObject(body) ? body : {};
    const directive = directiveOf(json);
    const behavior = directive === undefined ? { ...DEFAULT_BEHAVIOR } : parseBehavior(directive);
    const authError = await verifySignature(req, rawBody, credentials, region);
    const recorded: RecordedRequest = {
      seq: (seq += 1),
      method: req.method ?? '',
      path,
      modelId: route ? decodeURIComponent(route[1] as string) : '',
      operation: route ? (route[2] as 'converse' | 'converse-stream') : 'unknown',
      headers: req.headers,
      rawBody,
      body,
      behavior,
      authError: authError?.type,
    };
    requests.push(recorded);
    const requestId = randomUUID();
    if (authError) return sendError(res, authError, requestId);
    if (req.method !== 'POST' || !route) return sendError(res, { status: 404, type: 'UnknownOperationException', message: 'Unknown operation' }, requestId);
    if (!isObject(body)) return sendError(res, { status: 400, type: 'SerializationException', message: 'Unable to parse the request body.' }, requestId);
    const invalid = validateConverse(body);
    if (invalid) return sendError(res, { status: 400, type: 'ValidationException', message: invalid }, requestId);
    const error = behavior.error ? ERRORS[behavior.error]?.(credentials) : undefined;
    if (error) return sendError(res, error, requestId);
    const answer = buildAnswer(body, behavior);
    if (recorded.operation === 'converse') {
      const text = JSON.stringify({
        output: { message: { role: 'assistant', content: answer.blocks } },
        stopReason: answer.stopReason,
        usage: usageOf(answer),
        metrics: { latencyMs: 321 },
      });
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), 'x-amzn-requestid': requestId });
      res.end(text);
      return;
    }
    await pump(res, recorded, streamFrames(answer, behavior), requestId);
  }

  async function pump(res: ServerResponse, request: RecordedRequest, planned: Uint8Array[], requestId: string): Promise<void> {
    const behavior = request.behavior;
    let frames = planned;
    let state: FakeStream['state'] = 'completed';
    if (behavior.exception) {
      frames = [...planned.slice(0, behavior.exceptionAfter), exceptionFrame(behavior.exception, `The fake ${behavior.exception} after ${behavior.exceptionAfter} events.`)];
      state = 'exception';
    } else if (behavior.cutAfter !== undefined) {
      frames = planned.slice(0, behavior.cutAfter);
      const next = planned[behavior.cutAfter];
      if (behavior.cutMid && next) frames.push(next.subarray(0, Math.floor(next.length / 2)));
      state = 'cut';
    }
    let markClosed: () => void = () => undefined;
    const stream: FakeStream = { request, framesPlanned: frames.length, writes: 0, bytesWritten: 0, state: 'streaming', closed: new Promise((resolve) => (markClosed = resolve)) };
    streams.push(stream);
    res.once('close', markClosed);
    res.writeHead(200, { 'content-type': 'application/vnd.amazon.eventstream', 'x-amzn-requestid': requestId });
    const bytes = Buffer.concat(frames);
    let at = 0;
    let cycle = 0;
    while (at < bytes.length) {
      if (res.destroyed) return;
      const size = behavior.split ?? (AWKWARD_SPLITS[cycle++ % AWKWARD_SPLITS.length] as number);
      const piece = bytes.subarray(at, at + size);
      at += piece.length;
      // Wait until each piece reached the socket, so the reader really sees frames split.
      await new Promise<void>((resolve) => res.write(piece, () => resolve()));
      stream.writes += 1;
      stream.bytesWritten += piece.length;
      await (behavior.delayMs > 0 ? sleep(behavior.delayMs) : new Promise((resolve) => setImmediate(resolve)));
    }
    stream.state = state;
    res.end();
  }

  // close() only cancels pending sleeps' timers (they stay pending), as this fake always did.
  const server = await startFakeServer(handle, { server: { noDelay: true }, wakeSleepersOnClose: false });
  return {
    url: server.origin,
    region,
    credentials,
    requests,
    streams,
    close: () => server.close(),
  };
}

function sendError(res: ServerResponse, error: WireError, requestId: string): void {
  const text = JSON.stringify({ message: error.message });
  res.writeHead(error.status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
    'x-amzn-requestid': requestId,
    'x-amzn-errortype': `${error.type}:http://internal.amazon.com/coral/com.amazon.bedrock/`,
  });
  res.end(text);
}
