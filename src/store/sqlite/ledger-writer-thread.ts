import type { Worker } from 'node:worker_threads';
import type { LedgerRow } from '../ledger-records.js';
import { moduleWorker, siblingModule } from './module-worker.js';

/**
 * A batch as the writer thread takes it: the rows, or each row as JSON. Copying a string to the
 * thread is a memory copy; copying an object, about 2-5 µs a row on the event loop.
 */
export type WriterBatch = { rows: readonly LedgerRow[]; texts?: undefined } | { texts: readonly string[]; rows?: undefined };

/** One batch for the writer thread. */
export type WriterRequest = WriterBatch & { id: number; fold: boolean };

/** The writer thread's answer: rows inserted, or the error with its SQLite code (the shipper tells data errors by it). */
export type WriterReply = { id: number; inserted: number } | { id: number; error: { message: string; code?: string } };

interface Waiter {
  resolve(inserted: number): void;
  reject(error: Error): void;
}

const WORKER_URL = siblingModule(import.meta.url, 'ledger-writer-worker');
/**
 * How far below the process's priority the writer thread runs (nice steps). Below, so on a
 * shared core requests run first; not far below, so on a saturated core it still gets about a
 * quarter of the time (10 steps gave it about a tenth, and a saturated bench gateway's ledger
 * then fell behind by 200 rows a second).
 */
const WRITER_NICENESS = 5;
/**
 * The writer's young generation, in MB. What it allocates is one batch of parsed rows, dropped
 * when the batch commits, so it should fit: with 4 MB a 500-row batch outlived two collections
 * and was promoted (2 KB a request, five old-generation collections in 5 s at 50 connections),
 * and the gateway spent 5-8% more CPU a request than with 16 MB (interleaved, pinned), for
 * about 7 MB less RSS after a load run. V8's default (tens of MB) only let the heap grow.
 */
const WRITER_YOUNG_GENERATION_MB = 16;

/**
 * Runs the ledger's batch inserts on a worker thread with its own connection to the store file,
 * so a batch (about 20-30 µs a row, hundreds of rows) never holds the event loop while requests
 * wait. SQLite's write lock orders it against the main connection's writes, which all take the
 * lock before they read. Started on the first batch; a thread that dies fails its batches (they
 * stay in the outbox and are retried) and the next batch starts a new one. It keeps the process
 * alive only while a batch is in flight.
 */
export class LedgerWriterThread {
  private worker: Worker | undefined;
  private readonly waiting = new Map<number, Waiter>();
  private nextId = 1;
  private closed = false;

  constructor(private readonly path: string) {}

  insert(batch: WriterBatch, fold: boolean): Promise<number> {
    if (this.closed) return Promise.reject(new Error('the record store is closed'));
    const worker = this.worker ?? this.start();
    const id = this.nextId;
    this.nextId += 1;
    const request: WriterRequest = { ...batch, id, fold };
    return new Promise<number>((resolve, reject) => {
      if (this.waiting.size === 0) worker.ref();
      this.waiting.set(id, { resolve, reject });
      try {
        worker.postMessage(request);
      } catch (error) {
        // A row that cannot be copied to the thread: this batch fails, the thread stays.
        this.answer({ id, error: { message: error instanceof Error ? error.message : String(error) } });
      }
    });
  }

  /** Stops the thread; batches still in flight fail (their rows stay in the outbox). */
  async close(): Promise<void> {
    this.closed = true;
    const worker = this.worker;
    if (worker === undefined) return;
    this.fail(worker, new Error('the record store is closed'));
    await worker.terminate();
  }

  private start(): Worker {
    const worker = moduleWorker(WORKER_URL, {
      workerData: { path: this.path, niceness: WRITER_NICENESS },
      resourceLimits: { maxYoungGenerationSizeMb: WRITER_YOUNG_GENERATION_MB },
    });
    worker.unref();
    worker.on('message', (reply: WriterReply) => this.answer(reply));
    worker.on('error', (error: Error) => this.fail(worker, new Error(`ledger writer thread failed: ${error.message}`)));
    worker.on('exit', (code: number) => this.fail(worker, new Error(`ledger writer thread exited with code ${code}`)));
    this.worker = worker;
    return worker;
  }

  private answer(reply: WriterReply): void {
    const waiter = this.waiting.get(reply.id);
    if (waiter === undefined) return;
    this.waiting.delete(reply.id);
    if (this.waiting.size === 0) this.worker?.unref();
    if ('inserted' in reply) return waiter.resolve(reply.inserted);
    const error = new Error(reply.error.message);
    waiter.reject(reply.error.code === undefined ? error : Object.assign(error, { code: reply.error.code }));
  }

  /** Fails every batch in flight on `worker`, once; later events of the same thread are ignored. */
  private fail(worker: Worker, error: Error): void {
    if (this.worker !== worker) return;
    this.worker = undefined;
    const waiters = [...this.waiting.values()];
    this.waiting.clear();
    for (const waiter of waiters) waiter.reject(error);
    void worker.terminate();
  }
}
