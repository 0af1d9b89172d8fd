import { GatewayError } from '../../core/errors.js';
import { errorForStatus, redactSecrets } from '../classify-status.js';

/**
 * Bedrock errors: an HTTP status with the error type in `x-amzn-errortype` (or `__type` in the
 * body) and `{"message": ...}`; mid-stream, an exception frame whose `:exception-type` names the
 * same errors in lower camel case. The type refines the generic status mapping.
 */

/** Errors that mean the gateway's AWS credentials or permissions are wrong. */
const AUTH_TYPES: ReadonlySet<string> = new Set([
  'AccessDeniedException',
  'UnrecognizedClientException',
  'InvalidSignatureException',
  'IncompleteSignatureException',
  'MissingAuthenticationTokenException',
  'ExpiredTokenException',
  'InvalidClientTokenId',
  'SignatureDoesNotMatch',
]);

/** Errors where trying again later is the remedy, whatever status carried them. */
const RATE_TYPES: ReadonlySet<string> = new Set(['ThrottlingException', 'ModelNotReadyException', 'ServiceQuotaExceededException']);

/** HTTP status of each exception Bedrock can also send as a stream frame. */
const STREAM_EXCEPTION_STATUS: Readonly<Record<string, number>> = {
  InternalServerException: 500,
  ModelStreamErrorException: 424,
  ValidationException: 400,
  ThrottlingException: 429,
  ServiceUnavailableException: 503,
  ModelTimeoutException: 408,
};

/** How Bedrock and the models behind it word "the prompt does not fit" in a ValidationException. */
const TOO_LONG = /too long|too many (input )?tokens|context (window|length)|maximum context/i;

export interface BedrockFailure {
  provider: string;
  status: number;
  /** The error type, e.g. ValidationException; '' when the upstream named none. */
  type: string;
  /** The upstream's message, not yet redacted. */
  message: string | undefined;
  retryAfterSeconds?: number;
  secrets: readonly string[];
}

/** Reads the error type and message of an HTTP error answer. */
export function readHttpError(headers: Record<string, string | string[] | undefined>, text: string): { type: string; message: string | undefined } {
  const header = headers['x-amzn-errortype'];
  let type = (Array.isArray(header) ? header[0] : header) ?? '';
  let message: string | undefined;
  try {
    const body = JSON.parse(text) as Record<string, unknown>;
    const found = body.message ?? body.Message;
    if (typeof found === 'string') message = found;
    if (type === '' && typeof body.__type === 'string') type = body.__type;
  } catch {
    // Not JSON (a proxy's HTML page, say): the status alone classifies it.
  }
  return { type: cleanType(type), message };
}

/** `ValidationException:http://internal...` and `com.amazon.coral#ValidationException` -> `ValidationException`. */
function cleanType(type: string): string {
  const withoutUri = type.split(':')[0] ?? '';
  const hash = withoutUri.lastIndexOf('#');
  return (hash === -1 ? withoutUri : withoutUri.slice(hash + 1)).trim();
}

export function bedrockError(failure: BedrockFailure): GatewayError {
  const { provider, type } = failure;
  const message = failure.message ? redactSecrets(failure.message, failure.secrets) : undefined;
  const base = { upstreamStatus: failure.status };
  if (AUTH_TYPES.has(type)) return errorForStatus({ provider, status: 403 });
  if (type === 'ValidationException' && message !== undefined && TOO_LONG.test(message)) {
    return new GatewayError('BB_CONTEXT_LENGTH_EXCEEDED', message, { ...base, param: 'messages' });
  }
  if (type === 'ModelErrorException' || type === 'ModelStreamErrorException') {
    return new GatewayError('BB_UPSTREAM_OVERLOADED', `Provider "${provider}" reports a model error${message ? `: ${message}` : '.'}`, base);
  }
  const status = RATE_TYPES.has(type) ? 429 : type === 'ModelTimeoutException' ? 408 : failure.status;
  const error = errorForStatus({
    provider,
    status,
    ...(message !== undefined ? { message } : {}),
    ...(failure.retryAfterSeconds !== undefined ? { retryAfterSeconds: failure.retryAfterSeconds } : {}),
  });
  if (status === failure.status) return error;
  // Keep the status the upstream really sent for records, with the class the type implies.
  return new GatewayError(error.code, error.message, {
    upstreamStatus: failure.status,
    ...(error.retryAfterSeconds !== undefined ? { retryAfterSeconds: error.retryAfterSeconds } : {}),
  });
}

/** An exception frame mid-stream (`:exception-type` such as `throttlingException`). */
export function streamExceptionError(exceptionType: string, body: string, provider: string, secrets: readonly string[]): GatewayError {
  const type = exceptionType.charAt(0).toUpperCase() + exceptionType.slice(1);
  let message: string | undefined;
  try {
    const parsed = JSON.parse(body) as Record<string, unknown>;
    const found = parsed.message ?? parsed.Message;
    if (typeof found === 'string') message = found;
  } catch {
    message = body === '' ? undefined : body;
  }
  return bedrockError({ provider, status: STREAM_EXCEPTION_STATUS[type] ?? 502, type, message, secrets });
}
