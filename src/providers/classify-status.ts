import { GatewayError } from '../core/errors.js';

/** Longest upstream message passed on to clients; the rest is noise at best. */
const MAX_MESSAGE_LENGTH = 500;

/** Removes every configured secret from upstream text before it can reach a client or a log. */
export function redactSecrets(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) if (secret.length >= 8) out = out.split(secret).join('[REDACTED]');
  return out.length > MAX_MESSAGE_LENGTH ? `${out.slice(0, MAX_MESSAGE_LENGTH)}…` : out;
}

export interface UpstreamFailure {
  provider: string;
  status: number;
  /** The upstream's own message, already stripped of secrets; passed on only where it helps. */
  message?: string;
  param?: string;
  retryAfterSeconds?: number;
}

/**
 * Maps an upstream HTTP error status to the gateway's error registry, the same way for every
 * provider. Credential problems are the gateway's, not the client's, so they become a 502 without
 * the upstream's text (it may quote part of our key).
 */
export function errorForStatus(failure: UpstreamFailure): GatewayError {
  const { provider, status, message } = failure;
  const base = {
    upstreamStatus: status,
    ...(failure.retryAfterSeconds !== undefined ? { retryAfterSeconds: failure.retryAfterSeconds } : {}),
  };
  const text = (fallback: string) => message ?? fallback;
  if (status === 401 || status === 403) {
    return new GatewayError('BB_UPSTREAM_AUTH', `Provider "${provider}" refused the gateway's credentials (HTTP ${status}).`, base);
  }
  if (status === 429) return new GatewayError('BB_UPSTREAM_RATE_LIMITED', text(`Provider "${provider}" is rate limiting.`), base);
  if (status === 404) return new GatewayError('BB_UPSTREAM_NOT_FOUND', text(`Provider "${provider}" does not know the model.`), base);
  if (status === 408) return new GatewayError('BB_UPSTREAM_TIMEOUT', `Provider "${provider}" timed out.`, base);
  if (status === 413) return new GatewayError('BB_BODY_TOO_LARGE', text(`Provider "${provider}" says the request is too large.`), base);
  if (status >= 500) return new GatewayError('BB_UPSTREAM_OVERLOADED', `Provider "${provider}" failed (HTTP ${status}).`, base);
  if (status >= 400) {
    return new GatewayError('BB_UPSTREAM_BAD_REQUEST', text(`Provider "${provider}" rejected the request (HTTP ${status}).`), {
      ...base,
      ...(failure.param ? { param: failure.param } : {}),
      status: status === 422 ? 422 : 400,
    });
  }
  return new GatewayError('BB_UPSTREAM_BAD_RESPONSE', `Provider "${provider}" answered HTTP ${status}.`, base);
}

/** An upstream answer that is not the provider's documented wire format (retryable elsewhere). */
export function badResponse(provider: string, what: string): GatewayError {
  return new GatewayError('BB_UPSTREAM_BAD_RESPONSE', `Provider "${provider}" sent ${what}.`);
}

/** JSON.parse, with a broken body reported as the provider's fault in words the client can use. */
export function parseUpstreamJson(text: string, provider: string, what: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw badResponse(provider, `${what} that is not JSON`);
  }
}
