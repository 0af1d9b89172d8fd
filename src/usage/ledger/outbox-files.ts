import { readdirSync, rmSync } from 'node:fs';
import { basename, dirname, extname, join } from 'node:path';
import type { Config } from '../../config/schema.js';
import { Outbox, OutboxBusyError } from './outbox.js';

/**
 * The outbox file for a config. Unless set, it follows the record store, so two gateways with
 * different stores never share one: next to an SQLite store file (`data/breakerbox.db` ->
 * `data/breakerbox.ledger-outbox.db`), in memory with an in-memory store (nothing durable to
 * protect), and `data/ledger-outbox.db` (`data/ledger-outbox-<schema>.db`) with PostgreSQL.
 */
export function resolveOutboxPath(config: Config): string {
  const configured = config.ledger.outbox_path;
  if (configured !== undefined) return configured;
  const store = config.store;
  if (store.driver === 'postgres') return store.schema ? join('data', `ledger-outbox-${store.schema}.db`) : join('data', 'ledger-outbox.db');
  if (store.path === ':memory:' || store.path === '') return ':memory:';
  const extension = extname(store.path);
  const stem = extension ? store.path.slice(0, -extension.length) : store.path;
  return `${stem}.ledger-outbox.db`;
}

/** The outbox this process writes to, and outboxes of dead processes it drains and deletes. */
export interface OpenedOutboxes {
  own: Outbox;
  adopted: Outbox[];
  /** The file held by another process, when this one fell back to a file of its own. */
  busyPath?: string;
}

let fallbacks = 0;

/**
 * Opens the outbox at `path`. When it is held by another process (or another gateway in this one)
 * and the path was not configured explicitly, falls back to `<path>.<pid>-<n>`: several gateways
 * sharing one folder each get a file. Fallback files left by dead processes are adopted: their
 * records ship to this store and the file is deleted once empty. `hotCapacity`: see Outbox.open.
 */
export function openOutboxes(path: string, explicit: boolean, options: { hotCapacity?: number } = {}): OpenedOutboxes {
  if (path === ':memory:') return { own: Outbox.open(path, options), adopted: [] };
  let own: Outbox;
  let busyPath: string | undefined;
  try {
    own = Outbox.open(path, options);
  } catch (error) {
    if (!(error instanceof OutboxBusyError) || explicit) throw error;
    busyPath = path;
    fallbacks += 1;
    own = Outbox.open(`${path}.${process.pid}-${fallbacks}`, options);
  }
  return { own, adopted: adoptOrphans(path, own.path), ...(busyPath !== undefined ? { busyPath } : {}) };
}

/** Fallback files of `path` no live process holds (the lock is released when a process dies). */
function adoptOrphans(path: string, ownPath: string): Outbox[] {
  const prefix = `${basename(path)}.`;
  const folder = dirname(path);
  let names: string[];
  try {
    names = readdirSync(folder);
  } catch {
    return [];
  }
  const adopted: Outbox[] = [];
  for (const name of names) {
    // Only names this code makes (<pid>-<n>), so no other file is ever opened as an outbox.
    if (!name.startsWith(prefix) || !/^\d+-\d+$/.test(name.slice(prefix.length))) continue;
    const candidate = join(folder, name);
    if (candidate === ownPath) continue;
    try {
      adopted.push(Outbox.open(candidate));
    } catch {
      // Held by a live process, or not an outbox: leave it alone.
    }
  }
  return adopted;
}

/** Closes a drained adopted outbox and deletes its files. */
export function discardOutbox(outbox: Outbox): void {
  outbox.close();
  for (const suffix of ['', '-wal', '-shm']) rmSync(`${outbox.path}${suffix}`, { force: true });
}
