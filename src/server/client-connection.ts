import type { ClientLink } from '../core/client-link.js';

/** A ClientLink for one request: `close()` is called by the server when the response closes early. */
export class ClientConnection implements ClientLink {
  private listeners: Array<(() => void) | undefined> | undefined;
  closed = false;

  onClose(listener: () => void): () => void {
    if (this.closed) {
      listener();
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
    const listeners = this.listeners;
    this.listeners = undefined;
    for (const listener of listeners ?? []) listener?.();
  }
}

function noop(): void {}
