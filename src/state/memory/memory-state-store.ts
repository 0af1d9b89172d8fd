import { appended } from '../../core/small-arrays.js';
import type { CounterUse, ReserveItem, ReserveResult, SettleItem, StateStore } from '../state-store.js';

/**
 * Amounts are kept as integer micro-units (1e-6) in every backend, so sums of dollars are exact:
 * twenty reservations of 0.05 fill a limit of 1 exactly and never let a 21st in. Exact up to about
 * 9e9 whole units (2^53 micro-units); beyond that only sub-unit digits blur.
 */
export const UNITS_PER_ONE = 1_000_000;

/**
 * A positive amount is never rounded down to nothing: it counts at least one micro-unit, so a tiny
 * "is anything left?" reservation still checks strictly below the limit.
 */
export function toUnits(amount: number): number {
  if (!(amount >= 0) || amount === Infinity) throw new RangeError(`state amount must be a finite number >= 0, got ${amount}`);
  if (amount === 0) return 0;
  return Math.max(1, Math.round(amount * UNITS_PER_ONE));
}

/** Limits may be Infinity (no limit); NaN is a caller bug. */
export function limitToUnits(limit: number): number {
  if (Number.isNaN(limit)) throw new RangeError('state limit must be a number, got NaN');
  if (limit >= 1e290) return 1e296;
  if (limit <= -1e290) return -1e296;
  return Math.round(limit * UNITS_PER_ONE);
}

export function fromUnits(units: number): number {
  return units > 0 ? units / UNITS_PER_ONE : 0;
}

/** Throws a RangeError for a TTL or expiry that is not a finite number: a caller bug, not an outage. */
export function checkTime(name: string, value: number): void {
  if (!Number.isFinite(value)) throw new RangeError(`state ${name} must be a finite number, got ${value}`);
}

interface Hold {
  amount: number;
  lapseAt: number;
}

interface Counter {
  spent: number;
  reserved: number;
  expiresAtMs: number;
  holds: Map<string, Hold>;
  /** Lower bound of the holds' lapse times: below it nothing needs scanning. */
  nextLapseAt: number;
}

interface Reservation {
  lapseAt: number;
  keys: string[];
}

export interface MemoryStateStoreOptions {
  /** How often untouched counters, lapsed reservations and old settle markers are dropped. */
  sweepIntervalMs?: number;
  /** How long a settled id is remembered so a second settle is a no-op. */
  settledMarkerMs?: number;
}

/**
 * The embedded backend: one process, no service to run. Synchronous inside (one Map lookup per
 * counter), lapsed reservations removed lazily when their counter is touched, plus a periodic sweep
 * so memory stays bounded. Also the local share behind `ResilientStateStore` during a Redis outage.
 */
export class MemoryStateStore implements StateStore {
  readonly backend = 'memory' as const;
  private readonly counters = new Map<string, Counter>();
  private readonly reservations = new Map<string, Reservation>();
  /** id -> when the marker may go; insertion order is expiry order (constant marker time). */
  private readonly settled = new Map<string, number>();
  private readonly settledMarkerMs: number;
  private timer: NodeJS.Timeout | undefined;

  constructor(options: MemoryStateStoreOptions = {}) {
    // One process settles each reservation once (the limits policy guards it); the marker only
    // absorbs a stray repeat, so a short memory keeps the map small under load.
    this.settledMarkerMs = options.settledMarkerMs ?? 5_000;
    this.timer = setInterval(() => this.sweep(), options.sweepIntervalMs ?? 5_000);
    this.timer.unref();
  }

  now(): number {
    return Date.now();
  }

  async reserve(reservationId: string, items: readonly ReserveItem[], ttlMs: number): Promise<ReserveResult> {
    return this.reserveNow(reservationId, items, ttlMs);
  }

  async settle(reservationId: string, actual: readonly SettleItem[]): Promise<void> {
    this.settleNow(reservationId, actual);
  }

  reserveNow(reservationId: string, items: readonly ReserveItem[], ttlMs: number): ReserveResult {
    checkTime('ttlMs', ttlMs);
    const now = Date.now();
    const n = items.length;
    const amounts = new Array<number>(n);
    const used = new Array<number>(n);
    let heldKeys = 0;
    for (let i = 0; i < n; i += 1) {
      const item = items[i] as ReserveItem;
      checkTime('expiresAtMs', item.expiresAtMs);
      const amount = toUnits(item.amount);
      amounts[i] = amount;
      const counter = this.live(item.key, now);
      const current = counter ? counter.spent + counter.reserved : 0;
      // Earlier items of this call on the same key count too (rare; a short scan, no map).
      let before = current;
      let repeated = false;
      for (let j = 0; j < i; j += 1) {
        if ((items[j] as ReserveItem).key !== item.key) continue;
        before += amounts[j] as number;
        if ((amounts[j] as number) > 0) repeated = true;
      }
      // The one rule, also in Redis: admit while spent + reserved + amount <= limit.
      if (before + amount > limitToUnits(item.limit)) return { ok: false, index: i, used: fromUnits(current) };
      used[i] = fromUnits(before + amount);
      if (amount > 0 && !repeated) heldKeys += 1;
    }
    if (heldKeys === 0) return { ok: true, used };
    const lapseAt = now + ttlMs;
    // The keys this reservation holds, each once, in an array exactly as long (see small-arrays).
    const keys = new Array<string>(heldKeys);
    let k = 0;
    for (let i = 0; i < n; i += 1) {
      const amount = amounts[i] as number;
      if (amount === 0) continue;
      const item = items[i] as ReserveItem;
      this.hold(reservationId, item, amount, lapseAt, now);
      if (!keys.includes(item.key)) keys[k++] = item.key;
    }
    this.record(reservationId, keys, lapseAt);
    return { ok: true, used };
  }

  settleNow(reservationId: string, actual: readonly SettleItem[]): void {
    const now = Date.now();
    const amounts = new Array<number>(actual.length);
    for (let i = 0; i < actual.length; i += 1) {
      const item = actual[i] as SettleItem;
      checkTime('expiresAtMs', item.expiresAtMs);
      amounts[i] = toUnits(item.amount);
    }
    const marker = this.settled.get(reservationId);
    if (marker !== undefined && marker > now) return;
    const reservation = this.reservations.get(reservationId);
    if (reservation) {
      for (const key of reservation.keys) {
        const counter = this.live(key, now);
        const held = counter?.holds.get(reservationId);
        if (counter && held) {
          counter.reserved -= held.amount;
          counter.holds.delete(reservationId);
        }
      }
      this.reservations.delete(reservationId);
    }
    for (let i = 0; i < actual.length; i += 1) {
      const amount = amounts[i] as number;
      if (amount === 0) continue;
      const item = actual[i] as SettleItem;
      this.counterFor(item.key, item.expiresAtMs, now).spent += amount;
    }
    this.settled.delete(reservationId);
    this.settled.set(reservationId, now + this.settledMarkerMs);
  }

  async read(keys: readonly string[]): Promise<CounterUse[]> {
    const now = Date.now();
    return keys.map((key) => {
      const counter = this.live(key, now);
      return counter ? { spent: fromUnits(counter.spent), reserved: fromUnits(counter.reserved) } : { spent: 0, reserved: 0 };
    });
  }

  /** Whether a reservation was made here and not yet settled or swept (the resilient store routes settles by it). */
  hasReservation(reservationId: string): boolean {
    return this.reservations.has(reservationId);
  }

  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** The counter as it stands now: undefined once its window ended, lapsed holds removed. */
  private live(key: string, now: number): Counter | undefined {
    const counter = this.counters.get(key);
    if (!counter) return undefined;
    if (counter.expiresAtMs <= now) {
      this.counters.delete(key);
      return undefined;
    }
    if (counter.nextLapseAt <= now) lapse(counter, now);
    return counter;
  }

  private counterFor(key: string, expiresAtMs: number, now: number): Counter {
    let counter = this.live(key, now);
    if (!counter) {
      counter = { spent: 0, reserved: 0, expiresAtMs, holds: new Map(), nextLapseAt: Infinity };
      this.counters.set(key, counter);
    } else if (expiresAtMs > counter.expiresAtMs) {
      counter.expiresAtMs = expiresAtMs;
    }
    return counter;
  }

  /** Holds `amount` on the item's counter for the reservation; a second reserve under the same id merges into it. */
  private hold(reservationId: string, item: ReserveItem, amount: number, lapseAt: number, now: number): void {
    const counter = this.counterFor(item.key, item.expiresAtMs, now);
    const held = counter.holds.get(reservationId);
    if (held) {
      held.amount += amount;
      held.lapseAt = Math.max(held.lapseAt, lapseAt);
    } else {
      counter.holds.set(reservationId, { amount, lapseAt });
    }
    counter.reserved += amount;
    if (lapseAt < counter.nextLapseAt) counter.nextLapseAt = lapseAt;
  }

  /** Records which keys a reservation holds (what settle must undo); a second reserve adds its keys. */
  private record(reservationId: string, keys: string[], lapseAt: number): void {
    const reservation = this.reservations.get(reservationId);
    if (!reservation) {
      this.reservations.set(reservationId, { lapseAt, keys });
      return;
    }
    for (const key of keys) if (!reservation.keys.includes(key)) reservation.keys = appended(reservation.keys, key);
    if (lapseAt > reservation.lapseAt) reservation.lapseAt = lapseAt;
  }

  /** Drops what nobody touched: ended counters, lapsed holds and records, old settle markers. */
  private sweep(): void {
    const now = Date.now();
    for (const [key, counter] of this.counters) {
      if (counter.expiresAtMs <= now) this.counters.delete(key);
      else if (counter.nextLapseAt <= now) lapse(counter, now);
    }
    for (const [id, reservation] of this.reservations) {
      if (reservation.lapseAt <= now) this.reservations.delete(id);
    }
    for (const [id, until] of this.settled) {
      if (until > now) break;
      this.settled.delete(id);
    }
  }
}

/** Removes holds whose TTL has passed (a reservation lapses at exactly its lapse time). */
function lapse(counter: Counter, now: number): void {
  let next = Infinity;
  for (const [id, held] of counter.holds) {
    if (held.lapseAt <= now) {
      counter.reserved -= held.amount;
      counter.holds.delete(id);
    } else if (held.lapseAt < next) {
      next = held.lapseAt;
    }
  }
  counter.nextLapseAt = next;
}
