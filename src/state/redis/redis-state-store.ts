import { Redis } from 'ioredis';
import { checkTime, fromUnits, limitToUnits, toUnits } from '../memory/memory-state-store.js';
import { StateUnavailableError, type CounterUse, type ReserveItem, type ReserveResult, type SettleItem, type StateStore } from '../state-store.js';
import { BATCH_LUA, READ_LUA, slotPrefix } from './scripts.js';

export interface RedisStateStoreOptions {
  url: string;
  /**
   * Namespace of every key. It must carry a hash tag (`bb:{limits}:` by default; `{limits}:` is
   * appended when missing) so one script may touch all keys and Redis Cluster accepts it. The
   * trade-off: all limit state of one prefix lives on one shard. Use one prefix per tenant group
   * to spread load across shards if that shard ever becomes the bottleneck.
   */
  prefix?: string;
  /** Deadline of every call; it then rejects with StateUnavailableError. */
  commandTimeoutMs?: number;
  /** Deadline of `connect()` and of each reconnect's TCP + handshake. */
  connectTimeoutMs?: number;
  /** How long a settled id is remembered, so a retried settle does not bill twice. */
  settledMarkerMs?: number;
  /** How long keys outlive their window / lapse time before Redis deletes them (garbage only). */
  keyMarginMs?: number;
  /** How often the offset to Redis TIME is measured again. */
  clockSyncMs?: number;
  /** Longest pause between reconnect attempts. */
  maxReconnectDelayMs?: number;
}

type ScriptCall = (...args: (string | number | string[])[]) => Promise<unknown>;

const DEFAULT_PREFIX = 'bb:{limits}:';

/** A reserve or settle waiting for its turn's batch. */
interface QueuedCall {
  what: 'reserve' | 'settle';
  keys: string[];
  /** Its kind ('r' or 's'), its item count, then its own arguments (BATCH_LUA). */
  args: string[];
  resolve: (reply: unknown) => void;
  reject: (error: unknown) => void;
}

/** Most calls in one batch: bounds how long one script holds Redis (each call is about 0.1 ms there). */
export const MAX_BATCH = 32;

/**
 * Counters shared by several gateway instances, kept by atomic Lua scripts. The reserves and
 * settles asked for in one event-loop turn go out together as one script call (EVALSHA) when the
 * turn ends (or once MAX_BATCH are waiting): one command, one write and one reply for all of them,
 * where each call used to cost its own, on the gateway's thread and in Redis. A reserve is still
 * one round trip, and the calls apply in order, each atomically, as separate scripts would. A
 * batch that fails (deadline, lost connection, a script error) fails every call in it; a reserve
 * applied before the failure keeps its holds until they lapse, as after a timeout. Every batch has
 * a deadline and fails fast with StateUnavailableError while the connection is down (no offline
 * queue); ioredis reconnects in the background with backoff, so recovery needs nothing from the
 * caller. `now()` is aligned to Redis TIME so every
 * instance builds the same window keys.
 */
export class RedisStateStore implements StateStore {
  readonly backend = 'redis' as const;
  /** The full key prefix, hash tag included. */
  readonly prefix: string;
  private readonly client: Redis;
  private readonly timeoutMs: number;
  private readonly connectTimeoutMs: number;
  private readonly settledMarkerMs: number;
  private readonly marginMs: number;
  private readonly batchScript: ScriptCall;
  private readonly readScript: ScriptCall;
  /** The calls of this turn, sent by `flush`. */
  private queue: QueuedCall[] = [];
  private flushPending = false;
  private readonly clockTimer: NodeJS.Timeout;
  private offsetMs = 0;
  private closed = false;
  /** The last connection error ioredis reported, for messages. */
  private lastError: Error | undefined;

  constructor(options: RedisStateStoreOptions) {
    this.prefix = slotPrefix(options.prefix ?? DEFAULT_PREFIX);
    this.timeoutMs = options.commandTimeoutMs ?? 200;
    this.connectTimeoutMs = options.connectTimeoutMs ?? Math.max(1_000, this.timeoutMs * 5);
    this.settledMarkerMs = options.settledMarkerMs ?? 300_000;
    this.marginMs = options.keyMarginMs ?? 5_000;
    const maxDelay = options.maxReconnectDelayMs ?? 1_000;
    this.client = new Redis(options.url, {
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      // Each script is written at once. ioredis's auto-pipelining (the scripts of one event-loop
      // turn in one write) cost more than it saved: measured off against on, 50 connections,
      // 10 interleaved rounds, 3,953-4,208 against 3,613-4,097 req/s and about 10 µs less CPU a
      // request; at concurrency 1 the reserve no longer waits for the next tick (p50 -46 µs).
      enableAutoPipelining: false,
      // No commandTimeout: `deadline` bounds every call already, and a second timer per command
      // cost time on every reserve and settle. A late reply still lands in order (ioredis keeps
      // its queue aligned), so a timed-out call never confuses the next one.
      // A connection that stops answering is dropped and redialled instead of piling up commands.
      socketTimeout: Math.max(1_000, this.timeoutMs * 5),
      connectTimeout: this.connectTimeoutMs,
      retryStrategy: (times) => Math.min(50 * 2 ** Math.min(times, 10), maxDelay) + Math.floor(Math.random() * 50),
    });
    this.client.on('error', (error: Error) => {
      this.lastError = error;
    });
    this.client.on('ready', () => {
      this.lastError = undefined;
      void this.syncClock();
    });
    this.client.defineCommand('bbBatch', { lua: BATCH_LUA });
    this.client.defineCommand('bbRead', { lua: READ_LUA });
    const scripts = this.client as unknown as Record<'bbBatch' | 'bbRead', ScriptCall>;
    this.batchScript = scripts.bbBatch.bind(this.client);
    this.readScript = scripts.bbRead.bind(this.client);
    this.clockTimer = setInterval(() => void this.syncClock(), options.clockSyncMs ?? 10_000);
    this.clockTimer.unref();
  }

  /** Connects and measures the clock; rejects with StateUnavailableError if Redis is not there in time. Reconnecting goes on either way. */
  async connect(): Promise<void> {
    if (this.client.status === 'wait') {
      await this.deadline('connect', this.client.connect(), this.connectTimeoutMs);
    } else if (this.client.status !== 'ready') {
      await this.deadline('connect', new Promise<void>((resolve) => this.client.once('ready', resolve)), this.connectTimeoutMs);
    }
    await this.syncClock();
  }

  now(): number {
    return Date.now() + this.offsetMs;
  }

  async reserve(reservationId: string, items: readonly ReserveItem[], ttlMs: number): Promise<ReserveResult> {
    checkTime('ttlMs', ttlMs);
    if (items.length === 0) return { ok: true, used: [] };
    const keys: string[] = [`${this.prefix}r:${reservationId}`];
    const args: string[] = ['r', String(items.length), reservationId, String(Math.max(1, Math.ceil(ttlMs)))];
    for (const item of items) {
      checkTime('expiresAtMs', item.expiresAtMs);
      keys.push(`${this.prefix}c:${item.key}`, `${this.prefix}z:${item.key}`);
      args.push(item.key, String(toUnits(item.amount)), String(limitToUnits(item.limit)), String(Math.ceil(item.expiresAtMs)));
    }
    const reply = numbers(await this.enqueue('reserve', keys, args));
    if (reply[0] === 1) return { ok: true, used: reply.slice(1).map(fromUnits) };
    return { ok: false, index: reply[1] ?? 0, used: fromUnits(reply[2] ?? 0) };
  }

  async settle(reservationId: string, actual: readonly SettleItem[]): Promise<void> {
    const keys: string[] = [`${this.prefix}r:${reservationId}`, `${this.prefix}s:${reservationId}`];
    const args: string[] = ['s', String(actual.length), reservationId];
    for (const item of actual) {
      checkTime('expiresAtMs', item.expiresAtMs);
      keys.push(`${this.prefix}c:${item.key}`, `${this.prefix}z:${item.key}`);
      args.push(String(toUnits(item.amount)), String(Math.ceil(item.expiresAtMs)));
    }
    await this.enqueue('settle', keys, args);
  }

  async read(keys: readonly string[]): Promise<CounterUse[]> {
    if (keys.length === 0) return [];
    const names = keys.flatMap((key) => [`${this.prefix}c:${key}`, `${this.prefix}z:${key}`]);
    // Calls queued before this read go out first (one connection keeps the order): a read sees
    // every reserve and settle asked for before it, as when each call was sent at once.
    this.flush();
    const reply = numbers(await this.deadline('read', this.readScript(names.length, ...names)));
    return keys.map((_, i) => ({ spent: fromUnits(reply[2 * i] ?? 0), reserved: fromUnits(reply[2 * i + 1] ?? 0) }));
  }

  /** Quits politely when connected (calls still queued go out first), then stops reconnecting and the clock timer. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.flush();
    this.closed = true;
    clearInterval(this.clockTimer);
    if (this.client.status === 'ready') {
      await this.deadline('quit', this.client.quit()).catch(() => undefined);
    }
    this.client.disconnect();
  }

  /** Queues a call for this turn's batch; its promise settles with the call's own reply. */
  private enqueue(what: QueuedCall['what'], keys: string[], args: string[]): Promise<unknown> {
    if (this.closed) return Promise.reject(new StateUnavailableError(`redis state store is closed (${what})`));
    return new Promise((resolve, reject) => {
      this.queue.push({ what, keys, args, resolve, reject });
      if (this.queue.length >= MAX_BATCH) this.flush();
      else if (!this.flushPending) {
        this.flushPending = true;
        // The check phase comes after every I/O callback of this turn, so the batch holds the
        // calls of all requests read in it; a lone request waits for nothing else.
        setImmediate(this.flushTurn);
      }
    });
  }

  private readonly flushTurn = (): void => {
    this.flushPending = false;
    this.flush();
  };

  /** Sends the queued calls as one script; each call gets its own reply, or the batch's failure. */
  private flush(): void {
    const calls = this.queue;
    if (calls.length === 0) return;
    this.queue = [];
    const keys: string[] = [];
    const args: string[] = [this.prefix, String(this.settledMarkerMs), String(this.marginMs), String(calls.length)];
    let what: string = calls[0]?.what ?? 'reserve';
    for (const call of calls) {
      for (const key of call.keys) keys.push(key);
      for (const arg of call.args) args.push(arg);
      if (call.what !== what) what = 'reserve and settle';
    }
    void this.deadline(what, this.batchScript(keys.length, keys, args)).then(
      (reply) => {
        if (!Array.isArray(reply) || reply.length !== calls.length) {
          const error = new StateUnavailableError(`unexpected redis reply to a batch of ${calls.length}: ${String(reply)}`);
          for (const call of calls) call.reject(error);
          return;
        }
        for (let i = 0; i < calls.length; i += 1) (calls[i] as QueuedCall).resolve(reply[i]);
      },
      (error: unknown) => {
        for (const call of calls) call.reject(error);
      },
    );
  }

  /**
   * Re-measures the offset to Redis TIME: three samples, the one with the shortest round trip wins
   * (its midpoint is the best estimate). Failures keep the last offset.
   */
  private async syncClock(): Promise<void> {
    if (this.closed || this.client.status !== 'ready') return;
    let best: { rtt: number; offset: number } | undefined;
    for (let i = 0; i < 3; i += 1) {
      try {
        const sent = Date.now();
        const [seconds, micros] = (await this.deadline('time', this.client.time())).map(Number);
        const received = Date.now();
        const serverMs = (seconds ?? 0) * 1000 + (micros ?? 0) / 1000;
        const rtt = received - sent;
        if (!best || rtt < best.rtt) best = { rtt, offset: serverMs - (sent + received) / 2 };
      } catch {
        break;
      }
    }
    if (best) this.offsetMs = best.offset;
  }

  /** Bounds a call by the deadline and turns every failure into StateUnavailableError. */
  private deadline<T>(what: string, call: Promise<T>, ms = this.timeoutMs): Promise<T> {
    if (this.closed && what !== 'quit') {
      call.catch(() => undefined);
      return Promise.reject(new StateUnavailableError(`redis state store is closed (${what})`));
    }
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(new StateUnavailableError(`redis ${what} got no answer within ${ms} ms${this.lastError ? ` (last error: ${this.lastError.message})` : ''}`));
      }, ms);
      call.then(
        (value) => {
          clearTimeout(timer);
          resolve(value);
        },
        (error: unknown) => {
          clearTimeout(timer);
          const message = error instanceof Error ? error.message : String(error);
          const last = this.lastError && this.lastError.message !== message ? ` (last error: ${this.lastError.message})` : '';
          reject(new StateUnavailableError(`redis ${what} failed: ${message}${last}`, { cause: error }));
        },
      );
    });
  }
}

/** Script replies are arrays of integers; anything else means a broken server or script. */
function numbers(reply: unknown): number[] {
  if (!Array.isArray(reply)) throw new StateUnavailableError(`unexpected redis reply: ${String(reply)}`);
  return reply.map((value: unknown) => Number(value));
}
