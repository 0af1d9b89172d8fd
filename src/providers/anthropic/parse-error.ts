import { GatewayError } from '../../core/errors.js';
import { errorForStatus, redactSecrets } from '../classify-status.js';

/**
 * The HTTP status Anthropic documents for each error `type`. Used for `event: error` in a stream,
 * which carries only the type, so it is classified exactly like the same error answered over HTTP.
 */
const STATUS_BY_TYPE: Readonly<Record<string, number>> = {
  invalid_request_error: 400,
  authentication_error: 401,
  billing_error: 402,
  permission_error: 403,
  not_found_error: 404,
  request_too_large: 413,
  rate_limit_error: 429,
  api_error: 500,
  timeout_error: 504,
  overloaded_error: 529,
};

/** Anthropic's wording when the prompt (plus max_tokens) does not fit the context window. */
const CONTEXT_LENGTH = /prompt is too long|exceeds? (the )?context (limit|window)|context window/i;

interface AnthropicErrorBody {
  type?: string;
  message?: string;
}

/** Reads `{"type":"error","error":{"type","message"}}`; tolerant of proxies answering other shapes. */
export function readErrorBody(value: unknown): AnthropicErrorBody {
  if (typeof value !== 'object' || value === null) return {};
  const outer = value as Record<string, unknown>;
  const inner = typeof outer.error === 'object' && outer.error !== null ? (outer.error as Record<string, unknown>) : outer;
  const body: AnthropicErrorBody = {};
  if (typeof inner.type === 'string' && inner.type !== 'error') body.type = inner.type;
  if (typeof inner.message === 'string') body.message = inner.message;
  return body;
}

function parseText(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/** The status an `event: error` stands for (502 for a type Anthropic has not documented). */
export function statusForErrorType(type: string | undefined): number {
  return (type !== undefined ? STATUS_BY_TYPE[type] : undefined) ?? 502;
}

/**
 * Classifies an Anthropic error answer. The shared status mapping does most of the work; Anthropic
 * specifics refine it: a prompt too long is a context-length error, `overloaded_error` is
 * retryable whatever the status, and a billing problem is the gateway's, not the client's.
 */
export function parseAnthropicError(
  status: number,
  body: string | unknown,
  retryAfter: number | undefined,
  secrets: readonly string[],
  provider: string,
): GatewayError {
  const error = readErrorBody(typeof body === 'string' ? parseText(body) : body);
  const message = error.message !== undefined ? redactSecrets(error.message, secrets) : undefined;
  const base = { upstreamStatus: status, ...(retryAfter !== undefined ? { retryAfterSeconds: retryAfter } : {}) };
  if (error.type === 'overloaded_error') {
    return new GatewayError('BB_UPSTREAM_OVERLOADED', `Provider "${provider}" is overloaded (HTTP ${status}).`, base);
  }
  if (error.type === 'billing_error' || status === 402) {
    return new GatewayError('BB_UPSTREAM_ERROR', `Provider "${provider}" reports a billing problem with the gateway's account.`, base);
  }
  if (status === 400 && message !== undefined && CONTEXT_LENGTH.test(message)) {
    return new GatewayError('BB_CONTEXT_LENGTH_EXCEEDED', message, { ...base, param: 'messages' });
  }
  return errorForStatus({
    provider,
    status,
    ...(message !== undefined ? { message } : {}),
    ...(retryAfter !== undefined ? { retryAfterSeconds: retryAfter } : {}),
  });
}
