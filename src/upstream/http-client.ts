import { Agent, type Dispatcher } from 'undici';
import { GatewayError } from '../core/errors.js';

/**
 * Upstream HTTP over undici keep-alive agents (global fetch measured about 5x slower here). One
 * agent per provider, so each provider's pool size and connect timeout are its own.
 */
export interface UpstreamAgentOptions {
  connectTimeoutMs: number;
  /** Connections per origin; every open stream holds one, so this bounds concurrent streams. */
  maxConnections: number;
}

export function createUpstreamAgent(options: UpstreamAgentOptions): Agent {
  return new Agent({
    connections: options.maxConnections,
    pipelining: 1,
    keepAliveTimeout: 30_000,
    connect: { timeout: options.connectTimeoutMs },
    // Timeouts are enforced per attempt by the caller (first byte, idle, total) through the abort
    // signal; the agent-level ones are only a backstop and are kept long.
    headersTimeout: 0,
    bodyTimeout: 0,
  });
}

/** What aborts an upstream call: an AbortSignal, or anything with the same abort surface. */
export interface AbortLike {
  readonly aborted: boolean;
  readonly reason: unknown;
  addEventListener(type: 'abort', listener: () => void): void;
  removeEventListener(type: 'abort', listener: () => void): void;
}

export interface UpstreamRequest {
  /** `scheme://host:port`, split from the path once per provider so no URL is parsed per request. */
  origin: string;
  path: string;
  headers: Record<string, string>;
  body: string;
  signal: AbortLike;
}

export interface UpstreamResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Dispatcher.ResponseData['body'];
}

/** POSTs a JSON body; transport failures become GatewayErrors, HTTP error statuses are returned. */
export async function postJson(agent: Dispatcher, upstream: UpstreamRequest): Promise<UpstreamResponse> {
  try {
    const response = await agent.request({
      origin: upstream.origin,
      path: upstream.path,
      method: 'POST',
      headers: upstream.headers,
      body: upstream.body,
      // undici accepts any EventTarget-like signal; its types only name AbortSignal.
      signal: upstream.signal as AbortSignal,
    });
    return { status: response.statusCode, headers: response.headers, body: response.body };
  } catch (error) {
    throw transportError(error, upstream.signal);
  }
}

/** Reads a whole (small) body; used for non-streaming answers and error bodies. */
export async function readBody(response: UpstreamResponse, signal: AbortLike): Promise<string> {
  try {
    return await response.body.text();
  } catch (error) {
    throw transportError(error, signal);
  }
}

/**
 * Classifies a transport failure. An abort carries its reason (a timeout GatewayError, or the
 * client's disconnect); anything else is a connection problem.
 */
export function transportError(error: unknown, signal: AbortLike): GatewayError {
  if (signal.aborted) {
    const reason: unknown = signal.reason;
    if (reason instanceof GatewayError) return reason;
    return new GatewayError('BB_UPSTREAM_CONNECT', 'The request was cancelled.', { cause: error });
  }
  if (error instanceof GatewayError) return error;
  const code = (error as { code?: string } | null)?.code ?? '';
  if (code === 'UND_ERR_CONNECT_TIMEOUT') {
    return new GatewayError('BB_UPSTREAM_TIMEOUT', 'Connecting to the upstream provider timed out.', { cause: error });
  }
  if (code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT') {
    return new GatewayError('BB_UPSTREAM_TIMEOUT', 'The upstream provider stopped answering.', { cause: error });
  }
  return new GatewayError('BB_UPSTREAM_CONNECT', `The connection to the upstream provider failed (${code || 'connection error'}).`, {
    cause: error,
  });
}

/** Reads Retry-After (seconds or an HTTP date) as whole seconds, if present and sane. */
export function retryAfterSeconds(headers: UpstreamResponse['headers']): number | undefined {
  const raw = headers['retry-after'];
  const value = Array.isArray(raw) ? raw[0] : raw;
  if (value === undefined || value === '') return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return seconds >= 0 ? Math.ceil(seconds) : undefined;
  const date = Date.parse(value);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, Math.ceil((date - Date.now()) / 1000));
}

/** Re-throws body read failures (a socket reset mid-stream, an abort) as classified errors. */
export async function* withTransportErrors<T>(source: AsyncIterable<T>, signal: AbortLike): AsyncGenerator<T> {
  try {
    yield* source;
  } catch (error) {
    if (error instanceof GatewayError) throw error;
    throw transportError(error, signal);
  }
}

/** Most bytes read after a stream's last event so its connection can be reused; past it, closed. */
const DRAIN_LIMIT_BYTES = 16 * 1024;
/**
 * Longest wait for the body's end after a stream's last event; past it, the connection is closed.
 * Short, because closing the provider's agent (shutdown, reload) waits for a body being drained.
 */
const DRAIN_TIMEOUT_MS = 1_000;

/** A streamed body as a stream parser reads it. */
export interface StreamedBody {
  readonly chunks: AsyncIterable<Uint8Array>;
  /**
   * The events are complete (OpenAI's `data: [DONE]`). A reader that stops after this leaves the
   * rest of the body (usually just the chunked terminator, which some servers send in a later
   * packet) to be read and dropped, and the connection goes back to the pool. A reader that stops
   * before it (the client left, a guard stopped the answer) destroys the body, which aborts the
   * upstream request so the provider stops generating.
   */
  complete(): void;
}

/**
 * Reads the rest of a finished stream's body so its connection goes back to the pool, closing it
 * past DRAIN_LIMIT_BYTES or DRAIN_TIMEOUT_MS. A plain timer, cleared when the body closes:
 * `AbortSignal.timeout` always fired, a second later, with an abort event and a DOMException built
 * with its stack, for every stream (about 2.7% of a streaming gateway's CPU in a profile).
 */
function drain(body: UpstreamResponse['body']): void {
  const timer = setTimeout(() => body.destroy(), DRAIN_TIMEOUT_MS);
  timer.unref();
  void body
    .dump({ limit: DRAIN_LIMIT_BYTES })
    .catch(() => undefined)
    .finally(() => clearTimeout(timer));
}

export function streamedBody(body: UpstreamResponse['body']): StreamedBody {
  let complete = false;
  async function* chunks(): AsyncGenerator<Uint8Array> {
    let ended = false;
    try {
      // Not destroyed on return: destroying an unfinished body closes its connection (and Node
      // builds an AbortError with a stack for it, about 10 µs).
      for await (const chunk of body.iterator({ destroyOnReturn: false })) yield chunk as Uint8Array;
      ended = true;
    } finally {
      if (!ended && complete) drain(body);
      else if (!ended) body.destroy();
    }
  }
  return { chunks: chunks(), complete: () => void (complete = true) };
}
