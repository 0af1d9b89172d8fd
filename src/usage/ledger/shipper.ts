import { UNREADABLE_ROW_CODE, rowToText, type LedgerRow } from '../../store/ledger-records.js';
import { ledgerRowFromOutbox, ledgerRowText } from './ledger-row.js';
import { outboxText, type OutboxEntry } from './outbox.js';

/** What the shipper drains: the outbox file, an adopted one, or the in-memory fallback. */
export interface OutboxSource {
  take(limit: number): OutboxEntry[];
  remove(seq: number): void;
  reject(entries: readonly OutboxEntry[], reason: string): void;
  depth(): number;
  /** Upkeep between drains (an outbox file's WAL checkpoint); the shipper awaits it before its next run. */
  maintain(): void | Promise<void>;
}

/** Writes rows to the record store in one transaction (idempotent by request id). */
export type LedgerSink = (rows: LedgerRow[]) => Promise<unknown>;

/**
 * A record store that takes each row as its JSON text and parses it off the event loop (an
 * SQLite file's writer thread): the outbox's texts go to it as read, and nothing is parsed here.
 */
export interface LedgerTextSink {
  texts(texts: string[]): Promise<unknown>;
}

/** A waiting record ready to ship: the row, or its text for a text sink. */
type Shippable = { entry: OutboxEntry; row: LedgerRow; text?: undefined } | { entry: OutboxEntry; text: string; row?: undefined };

/** A batch being shipped: its readable records, how many it took from the source, and up to where. */
interface ShipBatch {
  items: Shippable[];
  count: number;
  lastSeq: number;
}

/** The few log calls the ledger makes (pino's Logger fits). */
export interface LedgerLog {
  info(fields: Record<string, unknown>, message: string): void;
  warn(fields: Record<string, unknown>, message: string): void;
  error(fields: Record<string, unknown>, message: string): void;
}

export interface ShipperOptions {
  flushMs: number;
  batchSize: number;
  retryMaxMs: number;
  /** A store write not answered by then counts as failed (it may still land: replays are idempotent). */
  writeTimeoutMs?: number;
  log: LedgerLog;
}

const DEFAULT_WRITE_TIMEOUT_MS = 15_000;

/**
 * An error about the rows themselves (PostgreSQL data exception or integrity class, an SQLite
 * constraint or type error, a row text the store could not read), as opposed to the store being
 * unreachable: retrying such a batch would block the ledger forever, so its culprits are set
 * aside instead.
 */
export function isDataError(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code !== 'string') return false;
  if (code === UNREADABLE_ROW_CODE) return true;
  if (/^2[23][0-9A-Z]{3}$/.test(code)) return true;
  return code.startsWith('SQLITE_CONSTRAINT') || code === 'SQLITE_MISMATCH' || code === 'SQLITE_TOOBIG' || code === 'SQLITE_RANGE';
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Moves records from the outbox to the record store: every `flushMs` (and at once when a batch is
 * waiting), one transaction per batch, removed from the outbox only after the store committed.
 * On a store error the records stay and the next attempt backs off (doubling, jittered, up to
 * `retryMaxMs`); one warning per outage and one info on recovery. Adopted sources (outboxes left
 * by a process that died) drain first and are handed back empty through `onDrained`.
 */
export class Shipper {
  private readonly interval: NodeJS.Timeout;
  private running: Promise<void> | undefined;
  private nudged = false;
  private failures = 0;
  private outageSince: number | undefined;
  private nextAttemptAt = 0;
  private closing = false;
  private abandoned = false;

  /**
   * `sources` are drained in order and kept (the outbox file first: its depth decides when a full
   * batch waits); `adopted` ones drain first and are dropped, through `onDrained`, once empty.
   */
  constructor(
    private readonly sources: readonly [OutboxSource, ...OutboxSource[]],
    private readonly adopted: OutboxSource[],
    private readonly sink: LedgerSink | LedgerTextSink,
    private readonly options: ShipperOptions,
    private readonly onDrained: (source: OutboxSource) => void = () => undefined,
  ) {
    this.interval = setInterval(() => this.tick(), options.flushMs);
    this.interval.unref();
    const waiting = this.depth();
    if (waiting > 0) options.log.info({ waiting }, 'ledger: replaying records left in the outbox');
    this.nudge(true);
  }

  /** Records waiting in every source. */
  depth(): number {
    let total = 0;
    for (const source of this.sources) total += source.depth();
    for (const source of this.adopted) total += source.depth();
    return total;
  }

  /** Called after an append: ships at once when a full batch waits (and the store is not failing). */
  nudge(force = false): void {
    if (this.nudged || this.running || this.closing) return;
    if (!force && this.sources[0].depth() < this.options.batchSize) return;
    if (Date.now() < this.nextAttemptAt) return;
    this.nudged = true;
    setImmediate(() => {
      this.nudged = false;
      this.tick();
    });
  }

  /** Ships what is waiting now (ignoring any backoff); resolves when that attempt ends. */
  async flush(): Promise<void> {
    await this.running;
    this.nextAttemptAt = 0;
    await this.run();
  }

  /**
   * Stops the timer and ships what it can within `timeoutMs`; resolves to how many records are
   * left (they stay in the outbox for the next start).
   */
  async close(timeoutMs: number): Promise<number> {
    this.closing = true;
    clearInterval(this.interval);
    const deadline = Date.now() + timeoutMs;
    const drain = async () => {
      await this.running;
      while (!this.abandoned && this.depth() > 0) {
        const before = this.failures;
        this.nextAttemptAt = 0;
        await this.run();
        if (this.failures === before) continue;
        const pause = Math.min(this.backoffMs(), deadline - Date.now());
        if (pause <= 0) return;
        await new Promise((resolve) => setTimeout(resolve, pause));
      }
    };
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<void>((resolve) => (timer = setTimeout(resolve, Math.max(0, timeoutMs))));
    await Promise.race([drain(), expired]);
    clearTimeout(timer);
    // A write still in flight may land later; its rows stay in the outbox and replay idempotently.
    this.abandoned = true;
    return this.depth();
  }

  private tick(): void {
    if (this.running || this.closing || Date.now() < this.nextAttemptAt) return;
    void this.run();
  }

  private run(): Promise<void> {
    this.running ??= this.drainAll().finally(() => (this.running = undefined));
    return this.running;
  }

  private async drainAll(): Promise<void> {
    try {
      for (const source of [...this.adopted]) {
        await this.drain(source);
        if (source.depth() === 0 && !this.abandoned) {
          this.adopted.splice(this.adopted.indexOf(source), 1);
          this.onDrained(source);
        }
      }
      for (const source of this.sources) await this.drain(source);
      this.succeeded();
    } catch (error) {
      if (!this.abandoned) this.failed(error);
    }
    if (!this.abandoned) await this.maintainSources();
  }

  /** The sources' upkeep; a failed checkpoint is logged and tried again after later drains. */
  private async maintainSources(): Promise<void> {
    for (const source of this.sources) {
      try {
        await source.maintain();
      } catch (error) {
        this.options.log.warn({ err: errorText(error) }, 'ledger: outbox checkpoint failed; the outbox file grows until one succeeds');
      }
    }
  }

  /** Ships one source batch by batch until it is empty, or throws on a store failure. */
  private async drain(source: OutboxSource): Promise<void> {
    for (;;) {
      if (this.abandoned) return;
      const batch = this.take(source, this.options.batchSize, true);
      if (batch === undefined) return;
      await this.write(source, batch);
      if (this.abandoned) return;
      source.remove(batch.lastSeq);
      if (batch.count < this.options.batchSize) return;
    }
  }

  /** The oldest `limit` records, ready to ship; unreadable ones are left out (and set aside when asked). */
  private take(source: OutboxSource, limit: number, setAside: boolean): ShipBatch | undefined {
    const entries = source.take(limit);
    const last = entries[entries.length - 1];
    if (last === undefined) return undefined;
    const items: Shippable[] = [];
    const unreadable: OutboxEntry[] = [];
    for (const entry of entries) {
      try {
        items.push(this.shippable(entry));
      } catch {
        unreadable.push(entry);
      }
    }
    if (setAside && unreadable.length > 0) this.setAside(source, unreadable, 'unreadable record');
    return { items, count: entries.length, lastSeq: last.seq };
  }

  /** The entry as the sink takes it; throws when its text is neither a row nor a record. */
  private shippable(entry: OutboxEntry): Shippable {
    if (typeof this.sink === 'function') return { entry, row: entry.row ?? ledgerRowFromOutbox(outboxText(entry)) };
    return { entry, text: entry.record === undefined ? rowToText(entry.row) : ledgerRowText(entry.record) };
  }

  private send(items: readonly Shippable[]): Promise<unknown> {
    const sink = this.sink;
    // Every item was made for this sink (shippable), so each has the field it reads.
    if (typeof sink === 'function') return sink(items.map((item) => item.row as LedgerRow));
    return sink.texts(items.map((item) => item.text as string));
  }

  /** One transaction for the batch; if the store refuses the content, row by row to find the culprits. */
  private async write(source: OutboxSource, batch: ShipBatch): Promise<void> {
    if (batch.items.length === 0) return;
    try {
      const sent = this.send(batch.items);
      // Handed over, the batch is let go while the store works: kept, its texts (a read-back
      // batch holds the only reference) would be copied by every young-generation collection
      // until the answer. A refused batch is taken again below.
      batch.items = [];
      await this.timed(sent);
      return;
    } catch (error) {
      if (!isDataError(error)) throw error;
    }
    // Nothing left the source meanwhile, so its oldest `count` records are this batch again.
    const items = this.take(source, batch.count, false)?.items ?? [];
    for (const item of items) {
      try {
        await this.timed(this.send([item]));
      } catch (error) {
        if (!isDataError(error)) throw error;
        this.setAside(source, [item.entry], errorText(error));
      }
    }
  }

  private setAside(source: OutboxSource, entries: OutboxEntry[], reason: string): void {
    source.reject(entries, reason);
    this.options.log.error({ records: entries.length, reason }, 'ledger: the record store refused records; they are kept aside in the outbox (table rejected)');
  }

  private async timed<T>(work: Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const limit = this.options.writeTimeoutMs ?? DEFAULT_WRITE_TIMEOUT_MS;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`record store write took over ${limit} ms`)), limit);
      // An abandoned write (after close gave up) must not keep the process alive.
      timer.unref();
    });
    try {
      return await Promise.race([work, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  private succeeded(): void {
    if (this.outageSince !== undefined) {
      this.options.log.info({ outage_ms: Date.now() - this.outageSince, waiting: this.depth() }, 'ledger: record store reachable again; outbox shipped');
    }
    this.failures = 0;
    this.outageSince = undefined;
    this.nextAttemptAt = 0;
  }

  private failed(error: unknown): void {
    this.failures += 1;
    if (this.outageSince === undefined) {
      this.outageSince = Date.now();
      this.options.log.warn({ err: errorText(error), waiting: this.depth() }, 'ledger: record store unreachable; records wait in the outbox and are retried');
    }
    this.nextAttemptAt = Date.now() + this.backoffMs();
  }

  /** Doubling from flush_ms up to retry_max_ms, with jitter so instances do not retry in step. */
  private backoffMs(): number {
    const base = Math.min(this.options.retryMaxMs, this.options.flushMs * 2 ** Math.min(this.failures - 1, 20));
    return Math.round(base * (0.5 + Math.random() / 2));
  }
}
