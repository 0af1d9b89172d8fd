/**
 * The one error registry. Every error a client can see is a `GatewayError` carrying a `BB_*` code
 * from this table; dialect encoders turn it into the client's own error shape. docs/errors.md
 * documents every entry (a test keeps the two in sync).
 */

/** The client-facing class of an error, used by dialect encoders to pick their own type names. */
export type ErrorKind =
  | 'invalid_request'
  | 'authentication'
  | 'permission'
  | 'not_found'
  | 'rate_limit'
  | 'timeout'
  | 'upstream'
  | 'overloaded'
  | 'internal';

export interface ErrorSpec {
  readonly status: number;
  readonly kind: ErrorKind;
  /** Whether the same request may succeed if tried again later (drives retries and client hints). */
  readonly retryable: boolean;
  /** OpenAI's own `code` for this situation, where OpenAI has one, so SDK users can match on it. */
  readonly openaiCode?: string;
  readonly summary: string;
}

export const ERROR_REGISTRY = {
  BB_INVALID_JSON: { status: 400, kind: 'invalid_request', retryable: false, summary: 'The request body is not valid JSON.' },
  BB_INVALID_REQUEST: { status: 400, kind: 'invalid_request', retryable: false, summary: 'A field is missing, of the wrong type, or out of range.' },
  BB_UNSUPPORTED_PARAMETER: { status: 400, kind: 'invalid_request', retryable: false, openaiCode: 'unsupported_parameter', summary: 'The chosen provider cannot honour a parameter the request sets.' },
  BB_UNAUTHENTICATED: { status: 401, kind: 'authentication', retryable: false, openaiCode: 'missing_api_key', summary: 'No API key was sent.' },
  BB_INVALID_API_KEY: { status: 401, kind: 'authentication', retryable: false, openaiCode: 'invalid_api_key', summary: 'The API key is unknown, revoked or expired.' },
  BB_INVALID_TOKEN: { status: 401, kind: 'authentication', retryable: false, openaiCode: 'invalid_api_key', summary: 'The bearer JWT failed verification (signature, issuer, audience, expiry or not-before); the message says which check.' },
  BB_AUTH_UNAVAILABLE: { status: 503, kind: 'overloaded', retryable: true, summary: 'The identity provider\'s key set (JWKS) could not be fetched, so a JWT could not be checked.' },
  BB_ACCESS_DENIED: { status: 403, kind: 'permission', retryable: false, openaiCode: 'permission_denied', summary: 'An access rule refuses this caller the model or endpoint; the message names the rule.' },
  BB_ADMIN_FORBIDDEN: { status: 403, kind: 'permission', retryable: false, summary: 'The admin API caller\'s role does not allow this action.' },
  BB_ADMIN_NOT_FOUND: { status: 404, kind: 'not_found', retryable: false, summary: 'No such admin object, or it belongs to another team.' },
  BB_ADMIN_CONFLICT: { status: 409, kind: 'invalid_request', retryable: false, summary: 'An admin object with that name already exists, or it is still in use.' },
  BB_HEADERS_TOO_LARGE: { status: 431, kind: 'invalid_request', retryable: false, summary: 'The request headers are larger than the server accepts.' },
  BB_RATE_LIMITED: { status: 429, kind: 'rate_limit', retryable: true, openaiCode: 'rate_limit_exceeded', summary: 'A rate limit of the caller\'s plan (requests, tokens or concurrent requests) is used up; the message names it and `Retry-After` says when it resets.' },
  BB_BUDGET_EXCEEDED: { status: 429, kind: 'rate_limit', retryable: false, openaiCode: 'insufficient_quota', summary: 'A budget of the caller\'s plan (tokens per day or month, spend, conversation output) is used up; the message names it.' },
  BB_INPUT_TOO_LARGE: { status: 400, kind: 'invalid_request', retryable: false, openaiCode: 'context_length_exceeded', summary: 'The prompt is longer than the plan\'s max_input_tokens_per_request.' },
  BB_OUTPUT_CAP_EXCEEDED: { status: 400, kind: 'invalid_request', retryable: false, summary: 'max_tokens is above the plan\'s max_output_tokens_per_request and `limits.output_cap` is `refuse`.' },
  BB_PRICE_UNKNOWN: { status: 403, kind: 'permission', retryable: false, summary: 'The model has no known price, and the caller has a spend cap (`pricing.unknown_price: refuse`).' },
  BB_LIMITS_UNAVAILABLE: { status: 503, kind: 'overloaded', retryable: true, summary: 'The shared limit store (Redis) is unreachable and the request needs a budget, which fails closed.' },
  BB_MODEL_NOT_FOUND: { status: 404, kind: 'not_found', retryable: false, openaiCode: 'model_not_found', summary: 'No public model of that name exists for this caller.' },
  BB_ROUTE_NOT_FOUND: { status: 404, kind: 'not_found', retryable: false, openaiCode: 'unknown_url', summary: 'No endpoint at that path.' },
  BB_METHOD_NOT_ALLOWED: { status: 405, kind: 'invalid_request', retryable: false, openaiCode: 'method_not_allowed', summary: 'The endpoint exists but not for that HTTP method.' },
  BB_BODY_TOO_LARGE: { status: 413, kind: 'invalid_request', retryable: false, openaiCode: 'request_too_large', summary: 'The request body is larger than `server.max_body_bytes`.' },
  BB_UNSUPPORTED_MEDIA_TYPE: { status: 415, kind: 'invalid_request', retryable: false, openaiCode: 'unsupported_media_type', summary: 'The body is not sent as `application/json`.' },
  BB_UNSUPPORTED_OPERATION: { status: 400, kind: 'invalid_request', retryable: false, openaiCode: 'unsupported_operation', summary: 'The model\'s provider does not offer that operation (e.g. embeddings).' },
  BB_CONTEXT_LENGTH_EXCEEDED: { status: 400, kind: 'invalid_request', retryable: false, openaiCode: 'context_length_exceeded', summary: 'The upstream model says the prompt does not fit its context window.' },
  BB_GUARDRAIL_BLOCKED: { status: 400, kind: 'invalid_request', retryable: false, summary: 'A guardrail refused the request: personal data or a secret that may not go to the providers that could serve it, a prompt-injection attempt, or a deny pattern. The message names the kind of value, never the value.' },
  BB_GUARD_UNAVAILABLE: { status: 503, kind: 'overloaded', retryable: true, summary: 'A webhook guard set to fail closed did not answer in time or answered badly, so the request was refused.' },
  BB_OUTPUT_BLOCKED: { status: 502, kind: 'upstream', retryable: false, summary: 'The model\'s answer contained a secret or personal data that an output guard is set to stop (`terminate`); a stream ends with a terminal error event.' },
  BB_CONTENT_FILTERED: { status: 400, kind: 'invalid_request', retryable: false, openaiCode: 'content_filter', summary: "The provider's content filter refused the prompt or the answer." },
  BB_UPSTREAM_BAD_REQUEST: { status: 400, kind: 'invalid_request', retryable: false, summary: 'The upstream provider rejected the request as invalid; its message is passed on.' },
  BB_UPSTREAM_NOT_FOUND: { status: 404, kind: 'not_found', retryable: false, openaiCode: 'model_not_found', summary: 'The upstream provider does not know the configured upstream model.' },
  BB_UPSTREAM_AUTH: { status: 502, kind: 'upstream', retryable: false, summary: 'The upstream provider refused the gateway\'s own credentials (a gateway configuration problem; the client\'s key is fine).' },
  BB_UPSTREAM_RATE_LIMITED: { status: 429, kind: 'rate_limit', retryable: true, openaiCode: 'rate_limit_exceeded', summary: 'The upstream provider is rate limiting; `Retry-After` is passed on when known.' },
  BB_UPSTREAM_OVERLOADED: { status: 503, kind: 'overloaded', retryable: true, summary: 'The upstream provider answered 5xx or says it is overloaded.' },
  BB_UPSTREAM_CONNECT: { status: 502, kind: 'upstream', retryable: true, summary: 'The gateway could not connect to the upstream, or the connection broke.' },
  BB_UPSTREAM_BAD_RESPONSE: { status: 502, kind: 'upstream', retryable: true, summary: 'The upstream answered with something that is not its documented wire format.' },
  BB_UPSTREAM_TIMEOUT: { status: 504, kind: 'timeout', retryable: true, openaiCode: 'timeout', summary: 'A connect, first-byte, idle or total timeout expired.' },
  BB_UPSTREAM_ERROR: { status: 502, kind: 'upstream', retryable: false, summary: 'Any other upstream failure.' },
  BB_CLIENT_CLOSED: { status: 499, kind: 'invalid_request', retryable: false, summary: 'The client closed the connection before the answer was complete (recorded, never sent).' },
  BB_SHUTTING_DOWN: { status: 503, kind: 'overloaded', retryable: true, summary: 'The gateway is draining for shutdown; retry on another instance.' },
  BB_GATEWAY_BUSY: { status: 503, kind: 'overloaded', retryable: true, summary: 'This gateway instance already has `server.max_in_flight` requests running (load shedding); retry after `Retry-After`.' },
  BB_INTERNAL: { status: 500, kind: 'internal', retryable: false, summary: 'A bug in the gateway. The message carries the request id, never a stack trace.' },
} as const satisfies Record<string, ErrorSpec>;

export type ErrorCode = keyof typeof ERROR_REGISTRY;

export interface GatewayErrorOptions {
  /** The request field the error is about, e.g. `messages[0].content`. */
  param?: string;
  /** Seconds the client should wait before retrying. */
  retryAfterSeconds?: number;
  /** The upstream's HTTP status, kept for records and retry decisions. */
  upstreamStatus?: number;
  /** The limit (a plan field, e.g. `requests_per_minute`) behind a limits refusal, for records. */
  limit?: string;
  /** Overrides the registry status, e.g. to pass an upstream 422 through unchanged. */
  status?: number;
  cause?: unknown;
}

/** A typed, client-safe error: its message is shown to the client, so it never holds secrets. */
export class GatewayError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly retryable: boolean;
  readonly param: string | undefined;
  readonly retryAfterSeconds: number | undefined;
  readonly upstreamStatus: number | undefined;
  readonly limit: string | undefined;

  constructor(code: ErrorCode, message: string, options: GatewayErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'GatewayError';
    const spec: ErrorSpec = ERROR_REGISTRY[code];
    this.code = code;
    this.status = options.status ?? spec.status;
    this.retryable = spec.retryable;
    this.param = options.param;
    this.retryAfterSeconds = options.retryAfterSeconds;
    this.upstreamStatus = options.upstreamStatus;
    this.limit = options.limit;
  }

  get spec(): ErrorSpec {
    return ERROR_REGISTRY[this.code];
  }
}

/** Wraps anything thrown into a GatewayError without exposing its message (it may hold internals). */
export function toGatewayError(error: unknown, requestId?: string): GatewayError {
  if (error instanceof GatewayError) return error;
  const suffix = requestId ? ` (request id ${requestId})` : '';
  return new GatewayError('BB_INTERNAL', `The gateway hit an internal error${suffix}.`, { cause: error });
}
