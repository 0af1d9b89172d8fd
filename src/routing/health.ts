/**
 * Passive target health: a target that failed several times in a row is skipped for a cool-down,
 * then tried again. The routing issue replaces this with full circuit breakers; the interface
 * (isHealthy / recordSuccess / recordFailure) stays.
 */
export interface HealthOptions {
  failuresToEject: number;
  ejectMs: number;
}

interface TargetHealth {
  consecutiveFailures: number;
  ejectedUntil: number;
}

export class HealthTracker {
  private readonly targets = new Map<string, TargetHealth>();

  constructor(
    private readonly options: HealthOptions = { failuresToEject: 3, ejectMs: 5_000 },
    private readonly now: () => number = Date.now,
  ) {}

  isHealthy(targetId: string): boolean {
    const state = this.targets.get(targetId);
    return state === undefined || state.ejectedUntil <= this.now();
  }

  recordSuccess(targetId: string): void {
    const state = this.targets.get(targetId);
    if (state) {
      state.consecutiveFailures = 0;
      state.ejectedUntil = 0;
    }
  }

  recordFailure(targetId: string): void {
    let state = this.targets.get(targetId);
    if (!state) {
      state = { consecutiveFailures: 0, ejectedUntil: 0 };
      this.targets.set(targetId, state);
    }
    state.consecutiveFailures += 1;
    if (state.consecutiveFailures >= this.options.failuresToEject) state.ejectedUntil = this.now() + this.options.ejectMs;
  }
}
