import type { ClientLink } from '../core/client-link.js';
import { GatewayError } from '../core/errors.js';
import { appended } from '../core/small-arrays.js';
import type { AttemptSignal } from '../providers/provider-adapter.js';

/**
 * How often armed deadlines are checked. Timeouts are seconds long, so firing up to this much late
 * is harmless; in exchange, arming is a field write instead of a timer per request (and, for the
 * idle timeout, per streamed event).
 */
export const DEADLINE_RESOLUTION_MS = 50;

/** One shared interval checks every armed deadline; it runs only while some are armed. */
class DeadlineClock {
  private readonly armed = new Set<AttemptDeadline>();
  private timer: NodeJS.Timeout | undefined;

  add(deadline: AttemptDeadline): void {
    this.armed.add(deadline);
    if (this.timer === undefined) {
      this.timer = setInterval(() => this.tick(), DEADLINE_RESOLUTION_MS);
      this.timer.unref();
    }
  }

  delete(deadline: AttemptDeadline): void {
    this.armed.delete(deadline);
  }

  private tick(): void {
    const now = performance.now();
    for (const deadline of this.armed) if (deadline.expiresAt <= now) deadline.expire();
    if (this.armed.size === 0 && this.timer !== undefined) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }
}

const clock = new DeadlineClock();

const clientClosed = () => new GatewayError('BB_CLIENT_CLOSED', 'The client closed the connection.');

/**
 * One attempt's abort signal: aborted by the client's disconnect, a server interruption (its
 * reason, e.g. BB_SHUTTING_DOWN) or whichever timeout is armed. The abort reason tells them
 * apart, so the error is exact.
 */
export class AttemptDeadline implements AttemptSignal {
  aborted = false;
  reason: unknown = undefined;
  private listeners: Array<() => void> | undefined;
  private controller: AbortController | undefined;
  private readonly unlink: () => void;
  /** performance.now() after which the armed timeout fires; Infinity when disarmed. */
  expiresAt = Number.POSITIVE_INFINITY;
  private armedMs = 0;
  private armedWhat = '';

  constructor(client: ClientLink) {
    // A reason means the server interrupted the request (e.g. shutdown), not that the client left.
    this.unlink = client.onClose((reason) => {
      this.disarm();
      this.abort(reason ?? clientClosed());
    });
  }

  get signal(): AttemptSignal {
    return this;
  }

  addEventListener(_type: 'abort', listener: () => void): void {
    this.listeners = appended(this.listeners, listener);
  }

  removeEventListener(_type: 'abort', listener: () => void): void {
    const index = this.listeners?.indexOf(listener) ?? -1;
    if (index !== -1) this.listeners?.splice(index, 1);
  }

  toAbortSignal(): AbortSignal {
    if (!this.controller) {
      this.controller = new AbortController();
      if (this.aborted) this.controller.abort(this.reason);
    }
    return this.controller.signal;
  }

  abort(reason: unknown): void {
    if (this.aborted) return;
    this.aborted = true;
    this.reason = reason;
    this.controller?.abort(reason);
    const listeners = this.listeners;
    this.listeners = undefined;
    for (const listener of listeners ?? []) listener();
  }

  /** (Re)starts the timeout; when it fires the attempt aborts with a BB_UPSTREAM_TIMEOUT naming it. */
  arm(ms: number, what: string): void {
    if (this.aborted) return;
    if (this.expiresAt === Number.POSITIVE_INFINITY) clock.add(this);
    this.expiresAt = performance.now() + ms;
    this.armedMs = ms;
    this.armedWhat = what;
  }

  disarm(): void {
    if (this.expiresAt === Number.POSITIVE_INFINITY) return;
    this.expiresAt = Number.POSITIVE_INFINITY;
    clock.delete(this);
  }

  /** Called by the clock when the armed time has passed. */
  expire(): void {
    const ms = this.armedMs;
    const what = this.armedWhat;
    this.disarm();
    this.abort(new GatewayError('BB_UPSTREAM_TIMEOUT', `The upstream provider exceeded the ${what} timeout (${ms} ms).`));
  }

  /** Stops the timeout and unlinks from the client; aborting the attempt too if asked. */
  dispose(abortReason?: unknown): void {
    this.disarm();
    this.unlink();
    if (abortReason !== undefined) this.abort(abortReason);
  }
}
