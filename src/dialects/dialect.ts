import type { CanonicalRequest, CanonicalResponse, StreamEvent } from '../core/canonical.js';
import type { GatewayError } from '../core/errors.js';

/** An error rendered in a client's own shape. */
export interface EncodedError {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/**
 * What a stream encoder needs of the request. Not the request itself: an open stream holds its
 * encoder for its whole life, and the prompt can be hundreds of KB.
 */
export interface StreamRequest {
  /** The client asked for a final usage chunk (OpenAI's `stream_options.include_usage`). */
  readonly streamUsage: boolean;
  /** The prompt's token count, counted on first call. */
  readonly promptTokens: () => number;
}

/** Turns canonical stream events into a client's SSE text, holding per-stream state. */
export interface StreamEncoder {
  /** SSE text for one event; '' when the event produces nothing for this client. */
  encode(event: StreamEvent): string;
  /** The stream's normal end marker. */
  end(): string;
  /** A terminal error event, for failures after the stream has begun. */
  error(error: GatewayError): string;
}

/**
 * A client-facing wire format. Each dialect decodes its requests to canonical form and encodes
 * responses, streams and errors back in its own shape, so a client never sees another API's shape.
 */
export interface ChatDialect {
  readonly name: string;
  /** Validates and decodes a parsed JSON body; throws BB_INVALID_REQUEST naming the field. */
  decodeChat(body: unknown): CanonicalRequest;
  encodeChat(response: CanonicalResponse, request: CanonicalRequest): string;
  createStreamEncoder(request: StreamRequest): StreamEncoder;
  encodeError(error: GatewayError, requestId: string): EncodedError;
}
