import type { RouteEnv } from './routes.js';

/**
 * One compiled config and the requests running on it. After a reload the slot is retired: its
 * runtime (provider connection pools) is closed once the last request that started on it has
 * finished, so in-flight requests and open streams keep the config they started with.
 */
export class RuntimeSlot {
  /** Requests that started on this runtime and have not finished. */
  private active = 0;
  private release: (() => void) | undefined;
  private closing: Promise<void> | undefined;

  constructor(readonly env: RouteEnv) {}

  enter(): void {
    this.active += 1;
  }

  leave(): void {
    this.active -= 1;
    if (this.active === 0) this.release?.();
  }

  /** Resolves (or rejects with the close error) once the runtime is closed; the same promise on every call. */
  retire(): Promise<void> {
    this.closing ??= new Promise<void>((resolve) => {
      this.release = resolve;
      if (this.active === 0) resolve();
    }).then(() => this.env.runtime.close());
    return this.closing;
  }

  /** Closes a retired runtime now, even with requests still counted (shutdown, after the grace). */
  forceClose(): void {
    this.release?.();
  }
}
