import type { MemoryStateStore } from './memory/memory-state-store.js';
import { StateUnavailableError, type CounterUse, type ReserveItem, type ReserveResult, type SettleItem, type StateStore } from './state-store.js';

/** Reported when the store switches between the shared backend and the local share. */
export interface StateChange {
  degraded: boolean;
  /** Why it degraded (the StateUnavailableError), absent on recovery. */
  cause?: unknown;
}

export interface ResilientStateStoreOptions {
  /** How many gateway instances share the limits: each takes `limit / instances` locally during an outage. */
  instances: number;
  /** While degraded, at most one call per interval tries the shared store. */
  probeIntervalMs?: number;
  /** Settles waiting for the shared store; beyond this the oldest are dropped (and counted). */
  maxQueuedSettles?: number;
  /** Start degraded (the shared store was down at start): the first probe is immediate. */
  startDegraded?: boolean;
  /** For logs and metrics. Must not throw. */
  onStateChange?: (change: StateChange) => void;
}

interface QueuedSettle {
  id: string;
  actual: readonly SettleItem[];
}

/**
 * The documented outage policy of shared limits: when the shared store is unavailable, rate limits
 * fall back to this instance's share (`limit / instances`, at least 1) kept in memory, and budgets
 * fail closed (StateUnavailableError: money must not be overspent). While down, only one call per
 * second pays the shared store's timeout; the rest go local at once. Settles of shared reservations
 * are queued (bounded) and replayed when it answers again; the shared store dedupes them by id.
 */
export class ResilientStateStore implements StateStore {
  readonly backend: 'memory' | 'redis';
  private readonly instances: number;
  private readonly probeIntervalMs: number;
  private readonly maxQueued: number;
  private readonly onStateChange: ((change: StateChange) => void) | undefined;
  private readonly queue: QueuedSettle[] = [];
  private isDegraded: boolean;
  private nextProbeAt = 0;
  private draining = false;
  private dropped = 0;

  constructor(
    private readonly remote: StateStore,
    private readonly local: MemoryStateStore,
    options: ResilientStateStoreOptions,
  ) {
    this.backend = remote.backend;
    this.instances = Math.max(1, Math.floor(options.instances));
    this.probeIntervalMs = options.probeIntervalMs ?? 1_000;
    this.maxQueued = options.maxQueuedSettles ?? 10_000;
    this.onStateChange = options.onStateChange;
    this.isDegraded = options.startDegraded ?? false;
  }

  /** True while calls are served by the local share. */
  get degraded(): boolean {
    return this.isDegraded;
  }

  /** Settles lost because the queue was full (oldest first) or the shared store refused them. */
  get droppedSettles(): number {
    return this.dropped;
  }

  /** Settles waiting for the shared store. */
  get queuedSettles(): number {
    return this.queue.length;
  }

  now(): number {
    return this.remote.now();
  }

  async reserve(reservationId: string, items: readonly ReserveItem[], ttlMs: number): Promise<ReserveResult> {
    if (this.shouldTryRemote()) {
      try {
        const result = await this.remote.reserve(reservationId, items, ttlMs);
        this.succeeded();
        return result;
      } catch (error) {
        this.failed(error);
      }
    }
    if (items.some((item) => item.kind === 'budget')) {
      throw new StateUnavailableError('the shared state store is unavailable and budgets fail closed');
    }
    const share = items.map((item) => ({ ...item, limit: Math.max(1, Math.floor(item.limit / this.instances)) }));
    return this.local.reserve(reservationId, share, ttlMs);
  }

  async settle(reservationId: string, actual: readonly SettleItem[]): Promise<void> {
    if (this.local.hasReservation(reservationId)) {
      // Made locally during an outage: settle here; telling the shared store is best effort only.
      await this.local.settle(reservationId, actual);
      if (this.isDegraded) return;
      try {
        await this.remote.settle(reservationId, actual);
        this.succeeded();
      } catch (error) {
        this.failed(error);
      }
      return;
    }
    if (!this.shouldTryRemote()) {
      this.enqueue(reservationId, actual);
      return;
    }
    try {
      await this.remote.settle(reservationId, actual);
      this.succeeded();
    } catch (error) {
      this.failed(error);
      this.enqueue(reservationId, actual);
    }
  }

  async read(keys: readonly string[]): Promise<CounterUse[]> {
    if (this.shouldTryRemote()) {
      try {
        const use = await this.remote.read(keys);
        this.succeeded();
        return use;
      } catch (error) {
        this.failed(error);
      }
    }
    return this.local.read(keys);
  }

  async close(): Promise<void> {
    await Promise.all([this.remote.close(), this.local.close()]);
  }

  /** Healthy: always. Degraded: one caller per probe interval gets to try. */
  private shouldTryRemote(): boolean {
    if (!this.isDegraded) return true;
    const now = Date.now();
    if (now < this.nextProbeAt) return false;
    this.nextProbeAt = now + this.probeIntervalMs;
    return true;
  }

  private succeeded(): void {
    if (this.isDegraded) {
      this.isDegraded = false;
      this.onStateChange?.({ degraded: false });
    }
    if (this.queue.length > 0 && !this.draining) void this.drain();
  }

  /** Rethrows anything that is not an outage (a caller bug must not look like one). */
  private failed(error: unknown): void {
    if (!(error instanceof StateUnavailableError)) throw error;
    this.nextProbeAt = Date.now() + this.probeIntervalMs;
    if (!this.isDegraded) {
      this.isDegraded = true;
      this.onStateChange?.({ degraded: true, cause: error });
    }
  }

  private enqueue(id: string, actual: readonly SettleItem[]): void {
    if (this.queue.length >= this.maxQueued) {
      this.queue.shift();
      this.dropped += 1;
    }
    this.queue.push({ id, actual });
  }

  /** Replays queued settles in order, one at a time, until done or the shared store fails again. */
  private async drain(): Promise<void> {
    this.draining = true;
    try {
      while (this.queue.length > 0 && !this.isDegraded) {
        const next = this.queue[0] as QueuedSettle;
        try {
          await this.remote.settle(next.id, next.actual);
        } catch (error) {
          if (error instanceof StateUnavailableError) {
            this.failed(error);
            return;
          }
          this.dropped += 1;
        }
        // The head may have been dropped by a full queue meanwhile; only remove it if still there.
        if (this.queue[0] === next) this.queue.shift();
      }
    } finally {
      this.draining = false;
    }
  }
}
