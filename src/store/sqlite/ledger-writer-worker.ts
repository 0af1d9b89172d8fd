import { readlinkSync, writeFileSync } from 'node:fs';
import { getPriority, setPriority } from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';
import BetterSqlite3 from 'better-sqlite3';
import { parseRowTexts } from '../ledger-records.js';
import { prepareLedgerInsert } from './ledger-insert.js';
import type { WriterReply, WriterRequest } from './ledger-writer-thread.js';

/**
 * The ledger writer thread's body: its own connection to the store file, the same prepared
 * insert and fold as the inline writer. Settings that are per connection are set again here
 * (WAL is the file's, set when the store opened it).
 */
const { path, niceness } = workerData as { path: string; niceness: number };

/**
 * Names this thread `ledger-writer` (as `top -H` and /proc show it) and lowers its scheduling
 * priority by `niceness` below the process's (Linux: a thread id is a task id for setpriority),
 * so on a busy core the request thread runs first and the ledger catches up in its idle time.
 * Where either is not possible the thread keeps its name and the process's priority.
 */
function settleIn(): void {
  try {
    writeFileSync('/proc/thread-self/comm', 'ledger-writer');
    const task = Number(readlinkSync('/proc/thread-self').split('/').pop());
    if (Number.isInteger(task) && task > 0) setPriority(task, Math.min(19, getPriority(task) + niceness));
  } catch {
    // Not Linux: keep the name and the priority.
  }
}

settleIn();
const file = new BetterSqlite3(path);
file.pragma('busy_timeout = 5000');
file.pragma('foreign_keys = ON');
file.pragma('synchronous = NORMAL');
const insert = prepareLedgerInsert(file);
const port = parentPort;
if (port === null) throw new Error('ledger-writer-worker runs only as a worker thread');

port.on('message', (request: WriterRequest) => {
  let reply: WriterReply;
  try {
    const rows = request.texts === undefined ? request.rows : parseRowTexts(request.texts);
    reply = { id: request.id, inserted: insert(rows, request.fold) };
  } catch (error) {
    const { message, code } = error as { message?: unknown; code?: unknown };
    reply = { id: request.id, error: { message: String(message ?? error), ...(typeof code === 'string' ? { code } : {}) } };
  }
  port.postMessage(reply);
});
port.on('close', () => file.close());
