import type { ErrorKind, GatewayError } from '../../core/errors.js';
import type { EncodedError } from '../dialect.js';

const OPENAI_ERROR_TYPES: Record<ErrorKind, string> = {
  invalid_request: 'invalid_request_error',
  authentication: 'authentication_error',
  permission: 'permission_error',
  not_found: 'invalid_request_error',
  rate_limit: 'rate_limit_error',
  timeout: 'timeout_error',
  upstream: 'server_error',
  overloaded: 'server_error',
  internal: 'server_error',
};

/** The `error` object of OpenAI's error shape, plus `bb_code` so logs and docs can be matched. */
export function openAIErrorObject(error: GatewayError) {
  return {
    message: error.message,
    type: OPENAI_ERROR_TYPES[error.spec.kind],
    param: error.param ?? null,
    code: error.spec.openaiCode ?? error.code.toLowerCase(),
    bb_code: error.code,
    retryable: error.retryable,
  };
}

export function encodeOpenAIError(error: GatewayError, requestId: string): EncodedError {
  const headers: Record<string, string> = { 'x-request-id': requestId };
  if (error.retryAfterSeconds !== undefined) headers['retry-after'] = String(error.retryAfterSeconds);
  return { status: error.status, headers, body: JSON.stringify({ error: openAIErrorObject(error) }) };
}
