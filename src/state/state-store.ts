/**
 * Fast shared counters for limits and budgets: the contract every backend (memory, Redis) meets.
 *
 * A counter holds `spent` (settled use) and `reserved` (live reservations). Admission reserves an
 * amount on several counters at once, all or nothing; settle replaces the reservation by the actual
 * amount. A reservation that is never settled (its instance died) lapses after its TTL and stops
 * counting. Counter keys carry their window (e.g. `rpm:key:k1:29583001`), computed by the caller
 * with `now()`, so every instance buckets time by the same clock.
 */

/** Rate limits may fall back to a local share when the shared store is down; budgets fail closed. */
export type CounterKind = 'rate' | 'budget';

export interface ReserveItem {
  /** Counter name, window included. Backends add their own prefix. */
  key: string;
  /** Most the counter may hold (spent + reserved) once this reservation is added. */
  limit: number;
  /** Amount to reserve; 0 checks the counter without adding to it. */
  amount: number;
  /** When the counter may be forgotten (its window's end), ms since the epoch on `now()`'s clock. */
  expiresAtMs: number;
  kind: CounterKind;
}

export interface CounterUse {
  spent: number;
  reserved: number;
}

export type ReserveResult =
  /** `used[i]` is item i's spent + reserved after the reservation. */
  | { ok: true; used: number[] }
  /** Item `index` would go over its limit; nothing was reserved. `used` is its spent + reserved now. */
  | { ok: false; index: number; used: number };

export interface SettleItem {
  key: string;
  /** What was actually used (0 for a concurrency slot). */
  amount: number;
  expiresAtMs: number;
}

export interface StateStore {
  readonly backend: 'memory' | 'redis';
  /** The shared clock in ms (Redis: aligned to the server's TIME). */
  now(): number;
  /**
   * Atomically checks every item and, only if all fit, reserves each amount under `reservationId`
   * for `ttlMs`. One round trip for a remote backend.
   */
  reserve(reservationId: string, items: readonly ReserveItem[], ttlMs: number): Promise<ReserveResult>;
  /**
   * Ends a reservation: its reserved amounts are removed and `actual` amounts are added to `spent`.
   * Idempotent per reservation id; a lapsed reservation still adds `actual` (bill what was used).
   */
  settle(reservationId: string, actual: readonly SettleItem[]): Promise<void>;
  /**
   * `reserve` without a promise, for a backend that answers in-process (memory): admission then
   * costs no microtask hops. Remote backends leave it undefined.
   */
  reserveNow?(reservationId: string, items: readonly ReserveItem[], ttlMs: number): ReserveResult;
  /** `settle` without a promise, where `reserveNow` exists. */
  settleNow?(reservationId: string, actual: readonly SettleItem[]): void;
  /** Current use of counters (headers, tests). Lapsed reservations are not counted. */
  read(keys: readonly string[]): Promise<CounterUse[]>;
  close(): Promise<void>;
}

/** The shared store could not answer in time; the caller applies the outage policy. */
export class StateUnavailableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StateUnavailableError';
  }
}
