import { GatewayError } from '../../core/errors.js';
import { errorForStatus, redactSecrets } from '../classify-status.js';

/** Google's error object: `{"error": {"code", "message", "status", "details"}}`. */
export interface GoogleError {
  code?: number;
  message?: string;
  status?: string;
  details: unknown[];
}

/** Reads Google's error shape from an object (or a one-element array, as non-SSE streams send). */
export function readGoogleError(value: unknown): GoogleError {
  const outer = Array.isArray(value) ? (value[0] as unknown) : value;
  const error = isObject(outer) && isObject(outer.error) ? outer.error : {};
  const out: GoogleError = { details: Array.isArray(error.details) ? error.details : [] };
  if (typeof error.code === 'number') out.code = error.code;
  if (typeof error.message === 'string') out.message = error.message;
  if (typeof error.status === 'string') out.status = error.status;
  return out;
}

export function readGoogleErrorText(text: string): GoogleError {
  try {
    return readGoogleError(JSON.parse(text) as unknown);
  } catch {
    return { details: [] };
  }
}

/** Gemini's wording when the prompt does not fit the model's context window. */
const CONTEXT_LENGTH = /input token count .*exceeds|exceeds the maximum number of tokens|prompt is too long/i;

/**
 * Classifies a Gemini error. Google answers a bad API key with 400 INVALID_ARGUMENT (reason
 * API_KEY_INVALID), so credential problems are recognised by status name and reason too, and never
 * pass on Google's text. A 429's wait comes from Retry-After or else from RetryInfo.retryDelay.
 */
export function parseGeminiError(
  status: number,
  error: GoogleError,
  retryAfterHeader: number | undefined,
  secrets: readonly string[],
  provider: string,
): GatewayError {
  const message = error.message ? redactSecrets(error.message, secrets) : undefined;
  const reason = errorInfoReason(error.details);
  if (status === 401 || status === 403) return errorForStatus({ provider, status });
  if (reason === 'API_KEY_INVALID' || error.status === 'UNAUTHENTICATED' || error.status === 'PERMISSION_DENIED') {
    const label = [String(status), reason ?? error.status].join(' ');
    return new GatewayError('BB_UPSTREAM_AUTH', `Provider "${provider}" refused the gateway's credentials (HTTP ${label}).`, { upstreamStatus: status });
  }
  if (status === 400 && message !== undefined && CONTEXT_LENGTH.test(message)) {
    return new GatewayError('BB_CONTEXT_LENGTH_EXCEEDED', message, { upstreamStatus: status, param: 'messages' });
  }
  const retryAfter = status === 429 ? (retryAfterHeader ?? retryDelaySeconds(error.details)) : undefined;
  return errorForStatus({
    provider,
    status,
    ...(message !== undefined ? { message } : {}),
    ...(retryAfter !== undefined ? { retryAfterSeconds: retryAfter } : {}),
  });
}

function errorInfoReason(details: unknown[]): string | undefined {
  for (const detail of details) {
    if (isObject(detail) && typeof detail['@type'] === 'string' && detail['@type'].endsWith('google.rpc.ErrorInfo') && typeof detail.reason === 'string') {
      return detail.reason;
    }
  }
  return undefined;
}

/** google.rpc.RetryInfo.retryDelay is a protobuf Duration in JSON, e.g. "22s" or "0.5s". */
function retryDelaySeconds(details: unknown[]): number | undefined {
  for (const detail of details) {
    if (!isObject(detail) || typeof detail['@type'] !== 'string' || !detail['@type'].endsWith('google.rpc.RetryInfo')) continue;
    const match = typeof detail.retryDelay === 'string' ? /^(\d+(?:\.\d+)?)s$/.exec(detail.retryDelay) : null;
    if (match) return Math.ceil(Number(match[1]));
  }
  return undefined;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
