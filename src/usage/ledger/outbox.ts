import { mkdirSync } from 'node:fs';
import { open as openFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { rowToText, type LedgerRow } from '../../store/ledger-records.js';

/**
 * One waiting record: its outbox sequence number and the record as JSON and, for a row this
 * process appended and kept in memory, the row itself too (a shipper to a store that takes
 * objects need not parse the text).
 */
export type OutboxEntry = { seq: number; record: string; row?: LedgerRow } | { seq: number; record?: undefined; row: LedgerRow };

/** The entry's record as the outbox file holds it. */
export function outboxText(entry: OutboxEntry): string {
  return entry.record ?? rowToText(entry.row);
}

/** The outbox file is held by another process (or another gateway in this one). */
export class OutboxBusyError extends Error {
  constructor(readonly path: string) {
    super(`the ledger outbox ${path} is in use by another process`);
    this.name = 'OutboxBusyError';
  }
}

/** Writes between two WAL checkpoints; the shipper checkpoints off the request path. */
const CHECKPOINT_EVERY_WRITES = 4_000;
/** Rows appended by this process kept in memory for the shipper; past this (store down), it reads the file. */
const DEFAULT_HOT_CAPACITY = 2_000;

/**
 * Writes a file's dirty pages to disk on libuv's thread pool, off the event loop. Never the
 * database file itself: closing any descriptor of a file drops every POSIX lock the process
 * holds on it, SQLite's exclusive lock included (a second process could then open the outbox).
 * SQLite takes no locks on the WAL file, so that one is safe to open and close.
 */
async function flushToDisk(path: string): Promise<void> {
  const handle = await openFile(path, 'r');
  try {
    await handle.datasync();
  } finally {
    await handle.close();
  }
}

function isBusy(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === 'SQLITE_BUSY' || code === 'SQLITE_LOCKED';
}

/**
 * The local durable outbox: every settled request is appended here synchronously, before its
 * response's last byte leaves, and the shipper moves it to the record store later.
 *
 * SQLite in WAL mode with synchronous=NORMAL: a commit is a write into the WAL file, which the
 * kernel holds once the call returns, so a kill -9 right after loses nothing; an OS crash or power
 * loss may lose the last commits (no fsync per commit: that would cost milliseconds a request).
 * EXCLUSIVE locking: the file belongs to this connection for its life, which saves the
 * shared-memory lock calls of every commit (measured about a third of an append) and makes a
 * second process opening the same file fail at once instead of interleaving. Automatic
 * checkpoints are off: one inside an append would put an fsync on a request; `maintain()` runs
 * them from the shipper instead. Rows are keyed by an ascending seq; the record store
 * deduplicates by request id, so a row shipped twice is harmless.
 */
export class Outbox {
  private readonly insert: BetterSqlite3.Statement<[string]>;
  private readonly selectFileOnly: BetterSqlite3.Statement<[number, number], OutboxEntry>;
  private readonly deleteUpTo: BetterSqlite3.Statement<[number]>;
  private readonly rejectOne: BetterSqlite3.Statement<[number, string, string, number]>;
  private waiting: number;
  private writesSinceCheckpoint = 0;
  private maintaining = false;
  /**
   * What this process appended with its row, oldest first: every waiting record above
   * `fileOnlyUpTo` is here. Records at or below it (left by an earlier run, appended without a
   * row, or dropped from memory past the capacity) are read back from the file.
   */
  private hot: OutboxEntry[] = [];
  private fileOnlyUpTo: number;
  private fileOnlyWaiting: boolean;

  private readonly appendAll: (records: readonly string[]) => number[];

  private constructor(
    private readonly db: BetterSqlite3.Database,
    readonly path: string,
    private readonly hotCapacity: number,
  ) {
    this.insert = db.prepare('insert into outbox (record) values (?)');
    const insert = this.insert;
    this.appendAll = db.transaction((records: readonly string[]) => records.map((record) => Number(insert.run(record).lastInsertRowid)));
    this.selectFileOnly = db.prepare<[number, number], OutboxEntry>('select seq, record from outbox where seq <= ? order by seq limit ?');
    this.deleteUpTo = db.prepare('delete from outbox where seq <= ?');
    this.rejectOne = db.prepare('insert into rejected (seq, record, reason, at_ms) values (?, ?, ?, ?)');
    const { n, top } = db.prepare('select count(*) as n, max(seq) as top from outbox').get() as { n: number; top: number | null };
    this.waiting = n;
    this.fileOnlyUpTo = top ?? 0;
    this.fileOnlyWaiting = n > 0;
  }

  /**
   * Opens (creating folder and file if needed) and locks an outbox; `:memory:` for tests only.
   * `hotCapacity`: how many appended rows to keep in memory for the shipper; 0 when the store
   * takes texts: reading a batch back from the file costs less than keeping every row and its
   * text alive until shipped (they outlive a young-generation collection or two, so the garbage
   * collector copies them and later sweeps them from the old generation).
   */
  static open(path: string, options: { hotCapacity?: number } = {}): Outbox {
    const memory = path === ':memory:';
    if (!memory) mkdirSync(dirname(path), { recursive: true });
    // No busy wait: the lock is held for the connection's life, so waiting would never end.
    const db = new BetterSqlite3(path, { timeout: 0 });
    try {
      db.pragma('locking_mode = EXCLUSIVE');
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = NORMAL');
      db.pragma('wal_autocheckpoint = 0');
      // After a checkpoint the WAL is reused from its start (overwriting blocks is cheaper than
      // growing a file); this caps what stays on disk after a burst.
      db.pragma('journal_size_limit = 67108864');
      // No AUTOINCREMENT: its bookkeeping row is one more page written per commit. A new seq is
      // always above every waiting one (max + 1), and only the shipper removes, so a batch in
      // flight can never share a seq with a newer record.
      db.exec(`create table if not exists outbox (seq integer primary key, record text not null);
        create table if not exists rejected (seq integer not null, record text not null, reason text not null, at_ms integer not null)`);
      // Takes the write lock now (and keeps it), so a second opener fails at start, not later.
      db.exec('begin immediate; commit');
      return new Outbox(db, path, options.hotCapacity ?? DEFAULT_HOT_CAPACITY);
    } catch (error) {
      db.close();
      if (isBusy(error)) throw new OutboxBusyError(path);
      throw error;
    }
  }

  /**
   * Appends one record (JSON text of `row`, when given). Synchronous: it is committed when this
   * returns.
   */
  append(record: string, row?: LedgerRow): void {
    this.keep(Number(this.insert.run(record).lastInsertRowid), record, row);
    this.waiting += 1;
    this.writesSinceCheckpoint += 1;
  }

  /** Appends records in one transaction: one WAL commit for all of them (a group commit). */
  appendMany(records: readonly string[], rows?: readonly LedgerRow[]): void {
    if (records.length === 1) return this.append(records[0] as string, rows?.[0]);
    const seqs = this.appendAll(records);
    for (let i = 0; i < seqs.length; i += 1) this.keep(seqs[i] as number, records[i] as string, rows?.[i]);
    this.waiting += records.length;
    this.writesSinceCheckpoint += 1;
  }

  private keep(seq: number, record: string, row: LedgerRow | undefined): void {
    if (row !== undefined && this.hot.length < this.hotCapacity) {
      this.hot.push({ seq, record, row });
      return;
    }
    // Everything waiting up to here is read from the file from now on.
    if (this.hot.length > 0) this.hot = [];
    this.fileOnlyUpTo = seq;
    this.fileOnlyWaiting = true;
  }

  /** The oldest `limit` waiting records, oldest first; they stay until `remove`. */
  take(limit: number): OutboxEntry[] {
    if (!this.fileOnlyWaiting) return this.hot.slice(0, limit);
    const older = this.selectFileOnly.all(this.fileOnlyUpTo, limit);
    if (older.length === 0) this.fileOnlyWaiting = false;
    return older.length < limit ? older.concat(this.hot.slice(0, limit - older.length)) : older;
  }

  /** Removes every record up to and including `seq` (a batch taken and shipped). */
  remove(seq: number): void {
    const { changes } = this.deleteUpTo.run(seq);
    this.waiting -= changes;
    this.writesSinceCheckpoint += 1;
    let shipped = 0;
    while (shipped < this.hot.length && (this.hot[shipped] as OutboxEntry).seq <= seq) shipped += 1;
    if (shipped > 0) this.hot.splice(0, shipped);
    if (seq >= this.fileOnlyUpTo) this.fileOnlyWaiting = false;
  }

  /** Moves records the record store refused for their content aside, so they cannot block the rest. */
  reject(entries: readonly OutboxEntry[], reason: string): void {
    if (entries.length === 0) return;
    const at = Date.now();
    this.db.transaction(() => {
      for (const entry of entries) this.rejectOne.run(entry.seq, outboxText(entry), reason, at);
    })();
  }

  /** Records waiting to be shipped. */
  depth(): number {
    return this.waiting;
  }

  /** Records set aside as refused (for operators). */
  rejectedCount(): number {
    return (this.db.prepare('select count(*) as n from rejected').get() as { n: number }).n;
  }

  /**
   * Checkpoints the WAL into the file once enough was written. PASSIVE: nothing else reads this
   * file, so it copies everything, and the WAL is then reused. The checkpoint fsyncs the WAL and
   * then the file, and after 4,000 commits the WAL's megabytes are still in the page cache: 32-46
   * ms on this project's test VM, all of it on the event loop, stalling every request in flight.
   * So the WAL is first flushed to disk on libuv's thread pool; the checkpoint's fsyncs then have
   * only the few pages it copies into the file left to write (1.1-1.6 ms measured). SQLite's
   * durability is unchanged: its fsyncs still run, they only have less to do.
   */
  async maintain(force = false): Promise<void> {
    if (this.maintaining || (!force && this.writesSinceCheckpoint < CHECKPOINT_EVERY_WRITES)) return;
    this.writesSinceCheckpoint = 0;
    this.maintaining = true;
    try {
      // A failed early flush only means the checkpoint's fsync does the work, as it did before.
      if (this.path !== ':memory:') await flushToDisk(`${this.path}-wal`).catch(() => undefined);
      if (this.db.open) this.db.pragma('wal_checkpoint(PASSIVE)');
    } finally {
      this.maintaining = false;
    }
  }

  /** Closes the file (SQLite checkpoints on close); waiting records stay for the next start. */
  close(): void {
    if (this.db.open) this.db.close();
  }
}

/**
 * Where records go when the outbox file refuses an append (disk full, I/O error): kept in memory,
 * up to a bound, and shipped like the rest. Not durable; the ledger logs when it is used.
 */
export class MemoryOutbox {
  private entries: OutboxEntry[] = [];
  private nextSeq = 1;
  dropped = 0;

  constructor(private readonly capacity: number) {}

  append(record: string, row?: LedgerRow): void {
    if (this.entries.length >= this.capacity) {
      this.dropped += 1;
      return;
    }
    this.entries.push(row === undefined ? { seq: this.nextSeq, record } : { seq: this.nextSeq, record, row });
    this.nextSeq += 1;
  }

  take(limit: number): OutboxEntry[] {
    return this.entries.slice(0, limit);
  }

  remove(seq: number): void {
    let count = 0;
    while (count < this.entries.length && (this.entries[count] as OutboxEntry).seq <= seq) count += 1;
    this.entries.splice(0, count);
  }

  /** Refused records cannot be kept aside in memory: the ledger logs them and they are dropped. */
  reject(): void {}

  depth(): number {
    return this.entries.length;
  }

  async maintain(): Promise<void> {}
}
