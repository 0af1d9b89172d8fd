import type { ErrorClass } from '../config/routing-schema.js';
import type { ErrorCode } from '../core/errors.js';

/**
 * The fallback class of an upstream failure; undefined for failures that another attempt would
 * not fix (a bad request, the gateway's own upstream credentials, an unknown upstream model, the
 * client gone).
 */
export function errorClassOf(code: ErrorCode): ErrorClass | undefined {
  switch (code) {
    case 'BB_UPSTREAM_RATE_LIMITED':
      return 'rate_limited';
    case 'BB_UPSTREAM_OVERLOADED':
    case 'BB_UPSTREAM_BAD_RESPONSE':
      return 'overloaded';
    case 'BB_UPSTREAM_TIMEOUT':
      return 'timeout';
    case 'BB_UPSTREAM_CONNECT':
      return 'connection';
    case 'BB_CONTEXT_LENGTH_EXCEEDED':
      return 'context_window';
    case 'BB_CONTENT_FILTERED':
      return 'content_filter';
    default:
      return undefined;
  }
}

/** Classes worth trying the same target again for (after a backoff). */
export function isTransient(errorClass: ErrorClass | undefined): boolean {
  return errorClass === 'rate_limited' || errorClass === 'overloaded' || errorClass === 'timeout' || errorClass === 'connection';
}

/** Classes that say the target itself is unwell (counted by its circuit breaker). */
export function countsAgainstTarget(errorClass: ErrorClass | undefined): boolean {
  return errorClass === 'overloaded' || errorClass === 'timeout' || errorClass === 'connection';
}
