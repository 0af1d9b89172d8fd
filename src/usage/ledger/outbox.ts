import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';

/** One waiting record: its outbox sequence number and the record as JSON. */
export interface OutboxEntry {
  seq: number;
  record: string;
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
  private readonly selectBatch: BetterSqlite3.Statement<[number], OutboxEntry>;
  private readonly deleteUpTo: BetterSqlite3.Statement<[number]>;
  private readonly rejectOne: BetterSqlite3.Statement<[number, string, string, number]>;
  private waiting: number;
  private writesSinceCheckpoint = 0;

  private readonly appendAll: (records: readonly string[]) => void;

  private constructor(
    private readonly db: BetterSqlite3.Database,
    readonly path: string,
  ) {
    this.insert = db.prepare('insert into outbox (record) values (?)');
    const insert = this.insert;
    this.appendAll = db.transaction((records: readonly string[]) => {
      for (const record of records) insert.run(record);
    });
    this.selectBatch = db.prepare<[number], OutboxEntry>('select seq, record from outbox order by seq limit ?');
    this.deleteUpTo = db.prepare('delete from outbox where seq <= ?');
    this.rejectOne = db.prepare('insert into rejected (seq, record, reason, at_ms) values (?, ?, ?, ?)');
    this.waiting = (db.prepare('select count(*) as n from outbox').get() as { n: number }).n;
  }

  /** Opens (creating folder and file if needed) and locks an outbox; `:memory:` for tests only. */
  static open(path: string): Outbox {
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
      return new Outbox(db, path);
    } catch (error) {
      db.close();
      if (isBusy(error)) throw new OutboxBusyError(path);
      throw error;
    }
  }

  /** Appends one record (JSON text). Synchronous: the row is committed when this returns. */
  append(record: string): void {
    this.insert.run(record);
    this.waiting += 1;
    this.writesSinceCheckpoint += 1;
  }

  /** Appends records in one transaction: one WAL commit for all of them (a group commit). */
  appendMany(records: readonly string[]): void {
    if (records.length === 1) return this.append(records[0] as string);
    this.appendAll(records);
    this.waiting += records.length;
    this.writesSinceCheckpoint += 1;
  }


  /** The oldest `limit` waiting records, oldest first; they stay until `remove`. */
  take(limit: number): OutboxEntry[] {
    return this.selectBatch.all(limit);
  }

  /** Removes every record up to and including `seq` (a batch taken and shipped). */
  remove(seq: number): void {
    const { changes } = this.deleteUpTo.run(seq);
    this.waiting -= changes;
    this.writesSinceCheckpoint += 1;
  }

  /** Moves records the record store refused for their content aside, so they cannot block the rest. */
  reject(entries: readonly OutboxEntry[], reason: string): void {
    if (entries.length === 0) return;
    const at = Date.now();
    this.db.transaction(() => {
      for (const entry of entries) this.rejectOne.run(entry.seq, entry.record, reason, at);
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
   * Checkpoints the WAL into the file once enough was written (two fsyncs: off the request path).
   * PASSIVE: nothing else reads this file, so it copies everything, and the WAL is then reused.
   */
  maintain(force = false): void {
    if (!force && this.writesSinceCheckpoint < CHECKPOINT_EVERY_WRITES) return;
    this.writesSinceCheckpoint = 0;
    this.db.pragma('wal_checkpoint(PASSIVE)');
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

  append(record: string): void {
    if (this.entries.length >= this.capacity) {
      this.dropped += 1;
      return;
    }
    this.entries.push({ seq: this.nextSeq, record });
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

  maintain(): void {}
}
