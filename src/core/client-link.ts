import type { GatewayError } from './errors.js';

/**
 * The client side of one request: whether the client went away, and a hook for when the request
 * must stop. The server implements it; attempts link their abort controllers to it. A plain
 * callback list, since an AbortController per request (an EventTarget) measured as one of the
 * costlier steps of a request.
 */
export interface ClientLink {
  readonly closed: boolean;
  /**
   * Set when the server ends the request while the client is still connected (e.g. a shutdown
   * deadline): the error the client should get instead of the answer. `closed` stays false, so a
   * stream still writes its terminal error event.
   */
  readonly interruption: GatewayError | undefined;
  /**
   * Calls `listener` once when the client disconnects (no reason) or the server interrupts the
   * request (with the reason); at once if that already happened. Returns a function that unregisters it.
   */
  onClose(listener: (reason?: GatewayError) => void): () => void;
}
