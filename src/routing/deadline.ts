import { GatewayError } from '../core/errors.js';

/**
 * One attempt's abort controller: aborted by the client's disconnect (linked parent signal) or by
 * whichever timeout is armed. The abort reason tells the two apart, so the error is exact.
 */
export class AttemptDeadline {
  private readonly controller = new AbortController();
  private timer: NodeJS.Timeout | undefined;
  private readonly onParentAbort: () => void;

  constructor(private readonly parent: AbortSignal) {
    this.onParentAbort = () => {
      this.disarm();
      this.controller.abort(parent.reason);
    };
    if (parent.aborted) this.controller.abort(parent.reason);
    else parent.addEventListener('abort', this.onParentAbort, { once: true });
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** (Re)starts the timeout; when it fires the attempt aborts with a BB_UPSTREAM_TIMEOUT naming it. */
  arm(ms: number, what: string): void {
    this.disarm();
    if (this.controller.signal.aborted) return;
    this.timer = setTimeout(() => {
      this.controller.abort(new GatewayError('BB_UPSTREAM_TIMEOUT', `The upstream provider exceeded the ${what} timeout (${ms} ms).`));
    }, ms);
  }

  disarm(): void {
    if (this.timer !== undefined) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
  }

  /** Stops timers and unlinks from the client signal; aborting the attempt too if asked. */
  dispose(abortReason?: unknown): void {
    this.disarm();
    this.parent.removeEventListener('abort', this.onParentAbort);
    if (abortReason !== undefined && !this.controller.signal.aborted) this.controller.abort(abortReason);
  }
}
