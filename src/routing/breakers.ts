import type { RoutingConfig } from '../config/routing-schema.js';

type BreakerOptions = RoutingConfig['breaker'];

export type BreakerState = 'closed' | 'open' | 'half-open';

/** How many buckets the error-rate window is cut into: coarse enough to be cheap, fine enough to slide. */
const WINDOW_BUCKETS = 10;
/** Weight of the newest sample in the latency moving average. */
const LATENCY_SMOOTHING = 0.2;

/** Everything the router knows about one target; kept across config reloads (keyed by target id). */
export class TargetHealth {
  state: BreakerState = 'closed';
  consecutiveFailures = 0;
  /** While open: when a half-open probe may go. */
  openUntil = 0;
  /** Times opened since the target last stayed healthy; grows the ejection time. */
  openings = 0;
  lastOpenedAt = 0;
  probesInFlight = 0;
  /** An upstream's Retry-After: no attempt at this target before then. */
  coolUntil = 0;
  inFlight = 0;
  requests = 0;
  /** Retry budget: each first attempt adds a fraction of a retry, each retry spends one. */
  retryCredit = 1;
  /** Moving average of time to first byte (streams) or to the answer (non-streaming), in ms. */
  latencyMs: number | undefined;
  private readonly okBuckets = new Array<number>(WINDOW_BUCKETS).fill(0);
  private readonly failBuckets = new Array<number>(WINDOW_BUCKETS).fill(0);
  private bucketStart = 0;
  private bucketIndex = 0;

  constructor(private readonly bucketMs: number) {}

  /** Counts an outcome in the sliding window; returns the window's totals. */
  count(now: number, failed: boolean): { ok: number; failed: number } {
    this.rotate(now);
    if (failed) this.failBuckets[this.bucketIndex] = (this.failBuckets[this.bucketIndex] ?? 0) + 1;
    else this.okBuckets[this.bucketIndex] = (this.okBuckets[this.bucketIndex] ?? 0) + 1;
    let ok = 0;
    let fails = 0;
    for (let i = 0; i < WINDOW_BUCKETS; i += 1) {
      ok += this.okBuckets[i] ?? 0;
      fails += this.failBuckets[i] ?? 0;
    }
    return { ok, failed: fails };
  }

  private rotate(now: number): void {
    if (this.bucketStart === 0) this.bucketStart = now;
    let steps = Math.floor((now - this.bucketStart) / this.bucketMs);
    if (steps <= 0) return;
    this.bucketStart += steps * this.bucketMs;
    steps = Math.min(steps, WINDOW_BUCKETS);
    for (let i = 0; i < steps; i += 1) {
      this.bucketIndex = (this.bucketIndex + 1) % WINDOW_BUCKETS;
      this.okBuckets[this.bucketIndex] = 0;
      this.failBuckets[this.bucketIndex] = 0;
    }
  }

  clearWindow(): void {
    this.okBuckets.fill(0);
    this.failBuckets.fill(0);
  }
}

/** Most retries a quiet target may save up, so a burst after a lull stays near the budget. */
const MAX_RETRY_CREDIT = 10;

/** One attempt's hold on a target, handed back when the attempt ends. */
export interface TargetTicket {
  health: TargetHealth;
  probe: boolean;
}

/** What `/readyz` shows per target. */
export interface BreakerReport {
  target: string;
  state: BreakerState;
  consecutive_failures: number;
  in_flight: number;
  latency_ms?: number;
  retry_in_ms?: number;
  cooling_ms?: number;
}

/**
 * Circuit breakers for every target. Closed: traffic flows and failures are counted. Open (after N
 * failures in a row or an error rate over the window): skipped until its ejection time passes,
 * which doubles on each reopening. Half-open: a few probes go; a success closes it, a failure
 * reopens it. The router never lets breakers refuse a request outright (see `orderCandidates`).
 */
export class BreakerBoard {
  private readonly targets = new Map<string, TargetHealth>();

  constructor(
    private options: BreakerOptions,
    private readonly now: () => number = Date.now,
  ) {}

  /** A reload may change thresholds; the targets' state carries over. */
  configure(options: BreakerOptions): void {
    this.options = options;
  }

  get(targetId: string): TargetHealth {
    let health = this.targets.get(targetId);
    if (!health) {
      health = new TargetHealth(Math.max(1, Math.floor(this.options.window_ms / WINDOW_BUCKETS)));
      this.targets.set(targetId, health);
    }
    return health;
  }

  /** Whether a request may go to the target now without overriding its breaker or Retry-After. */
  isAvailable(targetId: string): boolean {
    const health = this.targets.get(targetId);
    if (health === undefined) return true;
    const now = this.now();
    if (health.coolUntil > now) return false;
    if (health.state === 'closed') return true;
    if (health.state === 'open' && now < health.openUntil) return false;
    return health.probesInFlight < this.options.half_open_probes;
  }

  /** Whether an upstream's Retry-After still holds for the target. */
  isCooling(targetId: string): boolean {
    const health = this.targets.get(targetId);
    return health !== undefined && health.coolUntil > this.now();
  }

  /** When the target may next be tried (for ordering targets that are all unavailable). */
  availableAt(targetId: string): number {
    const health = this.targets.get(targetId);
    if (health === undefined) return 0;
    return Math.max(health.coolUntil, health.state === 'open' ? health.openUntil : 0);
  }

  /**
   * An attempt begins; an open target past its ejection time turns half-open and this is its
   * probe. A retry (the same request trying this target again) spends retry budget: false when
   * there is none, and the attempt must not go.
   */
  begin(targetId: string, retry: boolean, budgetRatio: number): TargetTicket | undefined {
    const health = this.get(targetId);
    if (retry) {
      if (health.retryCredit < 1) return undefined;
      health.retryCredit -= 1;
    } else {
      health.retryCredit = Math.min(MAX_RETRY_CREDIT, health.retryCredit + budgetRatio);
    }
    health.inFlight += 1;
    health.requests += 1;
    if (health.state === 'open' && this.now() >= health.openUntil) health.state = 'half-open';
    const probe = health.state === 'half-open';
    if (probe) health.probesInFlight += 1;
    return { health, probe };
  }

  /** The attempt succeeded; `latencyMs` feeds the least-latency strategy. */
  succeed(ticket: TargetTicket, latencyMs: number | undefined): void {
    const health = this.end(ticket);
    const now = this.now();
    health.consecutiveFailures = 0;
    health.count(now, false);
    if (latencyMs !== undefined) health.latencyMs = health.latencyMs === undefined ? latencyMs : health.latencyMs + LATENCY_SMOOTHING * (latencyMs - health.latencyMs);
    if (health.state !== 'closed') {
      health.state = 'closed';
      health.clearWindow();
    } else if (health.openings > 0 && now - health.lastOpenedAt > this.options.max_eject_ms * 2) {
      // Healthy for a long while: the next ejection starts short again.
      health.openings = 0;
    }
  }

  /** The attempt failed in a way that says the target is unwell (5xx, timeout, connection, bad answer). */
  fail(ticket: TargetTicket): void {
    const health = this.end(ticket);
    const now = this.now();
    health.consecutiveFailures += 1;
    const window = health.count(now, true);
    const total = window.ok + window.failed;
    const rateTripped = total >= this.options.min_requests && window.failed / total > this.options.error_rate;
    if (health.state === 'half-open' || (health.state === 'closed' && (health.consecutiveFailures >= this.options.consecutive_failures || rateTripped))) {
      this.open(health, now);
    }
  }

  /** The attempt ended without saying anything about the target (the request's own fault, client gone). */
  release(ticket: TargetTicket): void {
    this.end(ticket);
  }

  /** The upstream said when to come back (Retry-After); nothing goes to it before then. */
  coolDown(health: TargetHealth, seconds: number): void {
    health.coolUntil = Math.max(health.coolUntil, this.now() + seconds * 1000);
  }

  report(): BreakerReport[] {
    const now = this.now();
    return [...this.targets.entries()].map(([target, health]) => ({
      target,
      state: health.state === 'open' && now >= health.openUntil ? 'half-open' : health.state,
      consecutive_failures: health.consecutiveFailures,
      in_flight: health.inFlight,
      ...(health.latencyMs !== undefined ? { latency_ms: Math.round(health.latencyMs * 10) / 10 } : {}),
      ...(health.state === 'open' && health.openUntil > now ? { retry_in_ms: health.openUntil - now } : {}),
      ...(health.coolUntil > now ? { cooling_ms: health.coolUntil - now } : {}),
    }));
  }

  private open(health: TargetHealth, now: number): void {
    health.openings += 1;
    const ejectMs = Math.min(this.options.max_eject_ms, this.options.eject_ms * 2 ** (health.openings - 1));
    health.state = 'open';
    health.openUntil = now + ejectMs;
    health.lastOpenedAt = now;
    health.consecutiveFailures = 0;
    health.clearWindow();
  }

  private end(ticket: TargetTicket): TargetHealth {
    const health = ticket.health;
    health.inFlight = Math.max(0, health.inFlight - 1);
    if (ticket.probe && health.probesInFlight > 0) health.probesInFlight -= 1;
    return health;
  }
}
