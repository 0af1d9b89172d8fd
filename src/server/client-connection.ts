import type { ClientLink } from '../core/client-link.js';
import type { GatewayError } from '../core/errors.js';

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
    const listeners = (this.listeners ??= []);
    const index = listeners.push(listener) - 1;
    return () => {
      listeners[index] = undefined;
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
