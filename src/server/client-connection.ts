import type { ClientLink } from '../core/client-link.js';
import type { GatewayError } from '../core/errors.js';
import { appended } from '../core/small-arrays.js';

type Listener = (reason?: GatewayError) => void;

/**
 * A ClientLink for one request: the server calls `close()` when the response closes early, and
 * `interrupt()` when it must end the request itself (shutdown) while the client still listens.
 */
export class ClientConnection implements ClientLink {
  private listeners: Array<Listener | undefined> | undefined;
  closed = false;
  interruption: GatewayError | undefined = undefined;

  onClose(listener: Listener): () => void {
    if (this.closed || this.interruption) {
      listener(this.closed ? undefined : this.interruption);
      return noop;
    }
    // Copied, not pushed: a request registers one or two listeners and holds them while it lasts.
    const listeners = appended(this.listeners, listener);
    this.listeners = listeners;
    const index = listeners.length - 1;
    return () => {
      // A later registration copied the list: clear the entry in whichever list is current.
      if (this.listeners) this.listeners[index] = undefined;
    };
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.notify(undefined);
  }

  /** Ends the request with `reason` (e.g. BB_SHUTTING_DOWN); the connection stays open for the answer. */
  interrupt(reason: GatewayError): void {
    if (this.closed || this.interruption) return;
    this.interruption = reason;
    this.notify(reason);
  }

  private notify(reason: GatewayError | undefined): void {
    const listeners = this.listeners;
    this.listeners = undefined;
    for (const listener of listeners ?? []) listener?.(reason);
  }
}

function noop(): void {}
