import type {
  CanonicalRequest,
  CanonicalResponse,
  EmbeddingsRequest,
  EmbeddingsResponse,
  StreamEvent,
  Usage,
} from '../core/canonical.js';
import { promptTokenCounter } from '../usage/token-estimate.js';

/** Upstream timeouts of one provider, in milliseconds. */
export interface ProviderTimeouts {
  connectMs: number;
  firstByteMs: number;
  idleMs: number;
  totalMs: number;
}

/** One concrete place a public model can be served: a provider, its model name, forced params. */
export interface TargetSpec {
  providerName: string;
  model: string;
  /** Request fields forced on every call to this target (OpenAI field names). */
  params: Readonly<Record<string, unknown>> | undefined;
}

/**
 * Aborts one attempt (a timeout or the client's disconnect; `reason` says which). undici takes it
 * as a request signal as it is. It is not an AbortSignal because creating one per request measured
 * about 2 µs; `toAbortSignal()` makes a real one for APIs that insist.
 */
export interface AttemptSignal {
  readonly aborted: boolean;
  readonly reason: unknown;
  addEventListener(type: 'abort', listener: () => void, options?: { once?: boolean }): void;
  removeEventListener(type: 'abort', listener: () => void): void;
  toAbortSignal(): AbortSignal;
}

/** What an adapter may know about the attempt, beyond the request itself. */
export interface AttemptContext {
  requestId: string;
  /** Aborted on client disconnect or timeout; its reason says which. */
  signal: AttemptSignal;
  /** Request headers as the client sent them (lower-case names), e.g. for mock failure injection. */
  clientHeaders: Readonly<Record<string, string | string[] | undefined>>;
  /** Extra headers for the upstream (e.g. W3C traceparent); never credentials. */
  forwardHeaders: Readonly<Record<string, string>>;
  /**
   * The client's prompt's token count, counted once per request (usage/token-estimate.ts), for
   * usage a provider does not report. A stream parser keeps this, never the request: the prompt
   * must not stay alive for the stream's life. Absent outside the chat pipeline (tests).
   */
  promptTokens?: () => number;
}

/**
 * The raw upstream answer in a client dialect (passthrough fast path): when it matches the client's
 * dialect the encoder sends `body` unchanged instead of re-encoding the canonical response.
 */
export interface RawBody {
  dialect: string;
  body: string;
}

export type ChatOutcome =
  | {
      kind: 'response';
      usage: Usage;
      /**
       * The answer in canonical form, built on first call: with a raw body in the client's
       * dialect (passthrough) nothing may need it, and building it costs a full validation.
       */
      response: () => CanonicalResponse;
      raw?: RawBody;
    }
  /** Resolved once the upstream accepted the request; events end with `usage` when known. */
  | { kind: 'stream'; events: AsyncIterable<StreamEvent> };

/**
 * The upstream side of the gateway. An adapter turns canonical requests into its provider's calls
 * and the answers back into canonical form, reading token usage as part of the contract. Errors are
 * thrown as GatewayErrors classified retryable or not.
 */
export interface ProviderAdapter {
  /** The configured provider name. */
  readonly name: string;
  /** The provider type, e.g. `openai`, `mock`. */
  readonly type: string;
  /** The client dialect this provider speaks natively, for the passthrough fast path. */
  readonly dialect: string | undefined;
  readonly timeouts: ProviderTimeouts;
  chat(request: CanonicalRequest, target: TargetSpec, context: AttemptContext): Promise<ChatOutcome>;
  embeddings(request: EmbeddingsRequest, target: TargetSpec, context: AttemptContext): Promise<EmbeddingsResponse>;
  /** Releases connections (on shutdown or config reload). */
  close(): Promise<void>;
}

/** The request's prompt token count: the pipeline's shared one when given, else counted from `request`. */
export function promptTokensOf(request: CanonicalRequest, context: Pick<AttemptContext, 'promptTokens'>): () => number {
  return context.promptTokens ?? promptTokenCounter(request);
}
