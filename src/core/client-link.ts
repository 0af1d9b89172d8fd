/**
 * The client side of one request: whether the client went away, and a hook for when it does. The
 * server implements it; attempts link their abort controllers to it. A plain callback list, since
 * an AbortController per request (an EventTarget) measured as one of the costlier steps of a request.
 */
export interface ClientLink {
  readonly closed: boolean;
  /** Calls `listener` once when the client disconnects; returns a function that unregisters it. */
  onClose(listener: () => void): () => void;
}
