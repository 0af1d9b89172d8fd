import type { AuditConfig } from '../config/audit-schema.js';
import { requestSettledChannel, type RequestRecord } from '../core/request-record.js';
import type { AuditEntryInput } from '../store/audit-records.js';
import type { RecordStore } from '../store/record-store.js';
import { denialOf, guardEventsOf } from './events.js';
import { guardActionChannel, guardEventOf, type GuardActionEvent } from './guard-actions.js';
import { PendingEntries } from './pending-entries.js';

/** How long close() waits for the last flush: a store that is down must not hold up shutdown. */
const CLOSE_BOUND_MS = 5_000;

/** Where the writer reports trouble (the gateway's pino logger fits). */
export interface AuditLogSink {
  warn(message: string): void;
  info(message: string): void;
}

export interface RunningAudit {
  /** Entries waiting for the next flush (including ones a failed flush kept). */
  pending(): number;
  /** Appends what is waiting now. */
  flush(): Promise<void>;
  /** Stops listening and appends what is waiting, within a bound. */
  close(): Promise<void>;
}

export interface StartAuditOptions {
  store: RecordStore;
  config: AuditConfig;
  log?: AuditLogSink;
}

/** Events an entry stands for, so entries cut for space are counted, not forgotten. */
function eventsIn(entry: AuditEntryInput): number {
  const { count, dropped_events: dropped } = entry.details;
  return typeof count === 'number' ? count : typeof dropped === 'number' ? dropped : 1;
}

function overflowEntry(dropped: number, max: number): AuditEntryInput {
  return { kind: 'denial', actor: { key_id: 'gateway', source: 'gateway' }, action: 'audit.overflow', details: { dropped_events: dropped, max_pending: max } };
}

/**
 * Records policy denials and guardrail actions: listens to the settle channel and the guard
 * channel, folds events into a bounded buffer, and appends it every `flush_ms` as one transaction
 * (one chained entry per folded event). A failed append keeps the batch for the next flush, within
 * the same bound. A crash loses what was buffered: at most one flush interval, or more while the
 * store is unreachable (docs/audit.md).
 */
export function startAudit(options: StartAuditOptions): RunningAudit {
  const { store, config, log } = options;
  const max = config.max_pending;
  const buffer = new PendingEntries(max);
  let kept: AuditEntryInput[] = [];
  let failing = false;
  let writing = false;
  let queue: Promise<void> = Promise.resolve();

  const onRecord = (message: unknown) => {
    const record = message as RequestRecord;
    const event = denialOf(record);
    if (event !== undefined) buffer.add(event);
    for (const guarded of guardEventsOf(record)) buffer.add(guarded);
  };
  const onGuard = (message: unknown) => buffer.add(guardEventOf(message as GuardActionEvent));
  if (config.denials) {
    requestSettledChannel.subscribe(onRecord);
    guardActionChannel.subscribe(onGuard);
  }

  const writeOnce = async (): Promise<void> => {
    const taken = buffer.take();
    let batch = [...kept, ...taken.entries];
    let lost = taken.dropped;
    if (batch.length > max) {
      // Keep the oldest: the newest are the likeliest repeats of what is already kept.
      lost += batch.slice(max).reduce((sum, entry) => sum + eventsIn(entry), 0);
      batch = batch.slice(0, max);
    }
    if (lost > 0) batch.push(overflowEntry(lost, max));
    if (batch.length === 0) return;
    try {
      await store.audit.append(batch);
      kept = [];
      if (failing) log?.info(`audit log: appending again (${batch.length} entries caught up)`);
      failing = false;
    } catch (error) {
      kept = batch;
      if (!failing) log?.warn(`audit log: cannot append ${batch.length} entries (${error instanceof Error ? error.message : String(error)}); keeping them and retrying every ${config.flush_ms} ms`);
      failing = true;
    }
  };

  const flush = (): Promise<void> => {
    queue = queue.then(async () => {
      writing = true;
      try {
        await writeOnce();
      } finally {
        writing = false;
      }
    });
    return queue;
  };

  const timer = setInterval(() => {
    // While a slow append runs, ticks are skipped rather than queued up behind it.
    if (!writing && (buffer.size > 0 || kept.length > 0)) void flush();
  }, config.flush_ms);
  timer.unref();

  return {
    pending: () => buffer.size + kept.length,
    flush,
    async close() {
      clearInterval(timer);
      if (config.denials) {
        requestSettledChannel.unsubscribe(onRecord);
        guardActionChannel.unsubscribe(onGuard);
      }
      let bound: NodeJS.Timeout | undefined;
      const timedOut = new Promise<void>((resolve) => {
        bound = setTimeout(resolve, CLOSE_BOUND_MS);
        bound.unref();
      });
      await Promise.race([flush(), timedOut]);
      clearTimeout(bound);
      const left = buffer.size + kept.length;
      if (left > 0) log?.warn(`audit log: ${left} denial entries could not be appended before shutdown and are lost`);
    },
  };
}
