import type { Config } from '../../config/schema.js';
import { clearDurabilityBarrier, requestSettledChannel, setDurabilityBarrier, type RequestRecord } from '../../core/request-record.js';
import { rowToText, type LedgerRow } from '../../store/ledger-records.js';
import type { RecordStore } from '../../store/record-store.js';
import { toLedgerRow } from './ledger-row.js';
import { discardOutbox, openOutboxes, resolveOutboxPath } from './outbox-files.js';
import { MemoryOutbox, type Outbox } from './outbox.js';
import { Shipper, type LedgerLog, type LedgerSink, type LedgerTextSink } from './shipper.js';

/** The running ledger writer, as the gateway (and tests) see it. */
export interface Ledger {
  /** Records waiting to reach the record store (outbox, adopted outboxes, memory fallback). */
  queueDepth(): number;
  /** Ships what is waiting now; resolves when that attempt ends (the store may still be down). */
  flush(): Promise<void>;
  /** Stops recording, ships what it can within `close_timeout_ms`, closes the outbox. */
  close(): Promise<void>;
}

const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;
/** Records kept in memory when the outbox file refuses appends (disk full); beyond, they are dropped and counted. */
const MEMORY_FALLBACK_CAPACITY = 100_000;

const DISABLED: Ledger = { queueDepth: () => 0, flush: async () => undefined, close: async () => undefined };

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Starts recording every settled request: a subscriber on the settle channel turns the record
 * into a ledger row and appends it to the local outbox before the response's last byte (so a
 * response the client saw complete is on disk first), and a shipper moves batches to the record
 * store (`foldRollups` lets the store fold them into the usage rollups as it inserts them, where
 * it can). The outbox, not the store, takes the per-request commit even when the store is a local
 * SQLite file: an outbox commit writes one or two pages, a store commit also every index's (about
 * ten times the cost for a single row), while the shipper's large batches share index pages.
 * Also deletes rows past `retention_days`, at start and hourly. Call after the store is open;
 * close before the store closes.
 */
export function startLedger(config: Config, store: RecordStore, log: LedgerLog, foldRollups: () => boolean = () => false): Ledger {
  const settings = config.ledger;
  if (!settings.enabled) return DISABLED;
  const path = resolveOutboxPath(config);
  // A store that parses row texts on its own thread gets the outbox's texts read back from the
  // file; one that takes objects gets the rows this process kept in memory.
  const insertTexts = store.ledger.insertRowTexts?.bind(store.ledger);
  const sink: LedgerSink | LedgerTextSink = insertTexts
    ? { texts: (texts) => insertTexts(texts, { foldRollups: foldRollups() }) }
    : (rows) => store.ledger.insertRequests(rows, { foldRollups: foldRollups() });
  const { own, adopted, busyPath } = openOutboxes(path, settings.outbox_path !== undefined, insertTexts ? { hotCapacity: 0 } : {});
  if (busyPath !== undefined) log.info({ busy: busyPath, outbox: own.path }, 'ledger: the outbox file is held by another process; using a file of this process');
  const storeInMemory = config.store.driver === 'sqlite' && (config.store.path === ':memory:' || config.store.path === '');
  if (own.path === ':memory:' && !storeInMemory) log.warn({}, 'ledger: the outbox is in memory: records waiting for the store are lost on a crash');
  const memory = new MemoryOutbox(MEMORY_FALLBACK_CAPACITY);
  const shipper = new Shipper(
    [own, memory],
    adopted,
    sink,
    { flushMs: settings.flush_ms, batchSize: settings.batch_size, retryMaxMs: settings.retry_max_ms, log },
    (source) => discardOutbox(source as Outbox),
  );
  const excluded = new Set<string>(settings.exclude_endpoints);
  let appendFailing = false;

  // Group commit: the rows of one event-loop turn are written in one outbox transaction. The
  // server holds each response's last byte until its group is on disk (setDurabilityBarrier). A
  // request alone in flight is written at once: waiting for the turn's end would share nothing
  // and only add a trip around the event loop to its latency.
  let group: LedgerRow[] = [];
  let groupDone: Promise<void> | undefined;
  let resolveGroup: () => void = () => undefined;
  let scheduled: NodeJS.Immediate | undefined;
  const commitGroup = () => {
    const rows = group;
    const resolve = resolveGroup;
    group = [];
    groupDone = undefined;
    if (scheduled !== undefined) clearImmediate(scheduled);
    scheduled = undefined;
    if (rows.length === 0) return resolve();
    const texts = rows.map(rowToText);
    try {
      own.appendMany(texts, rows);
      appendFailing = false;
    } catch (error) {
      for (let i = 0; i < texts.length; i += 1) memory.append(texts[i] as string, rows[i]);
      if (!appendFailing) log.error({ err: errorText(error), outbox: own.path }, 'ledger: the outbox refuses writes; records are kept in memory until it recovers');
      appendFailing = true;
    }
    shipper.nudge();
    resolve();
  };
  const onSettled = (message: unknown) => {
    const record = message as RequestRecord;
    if (excluded.has(record.endpoint)) return;
    // Never throw here: an exception in a channel subscriber would take the process down.
    try {
      // The row is taken now: the record is not to be read after its settle event.
      group.push(toLedgerRow(record));
      if (!groupDone) {
        groupDone = new Promise((resolve) => (resolveGroup = resolve));
        scheduled = setImmediate(commitGroup);
      }
    } catch (error) {
      log.error({ err: errorText(error), request_id: record.requestId }, 'ledger: a record could not be written');
    }
  };
  requestSettledChannel.subscribe(onSettled);
  const barrier = (now: boolean) => {
    if (!now || groupDone === undefined) return groupDone;
    commitGroup();
    return undefined;
  };
  setDurabilityBarrier(barrier);

  let retention: Promise<void> | undefined;
  const purge = () => {
    const bodyDays = settings.bodies.retention_days;
    if ((settings.retention_days === 0 && bodyDays === 0) || retention) return;
    const now = Date.now();
    retention = (settings.retention_days === 0 ? Promise.resolve(0) : store.ledger.deleteOlderThan(now - settings.retention_days * DAY_MS))
      .then(async (deleted) => {
        if (deleted > 0) log.info({ deleted, retention_days: settings.retention_days }, 'ledger: deleted rows past retention');
        const cleared = bodyDays === 0 ? 0 : await store.ledger.clearBodiesOlderThan(now - bodyDays * DAY_MS);
        if (cleared > 0) log.info({ cleared, retention_days: bodyDays }, 'ledger: cleared prompt and answer text past its retention');
      })
      .catch((error: unknown) => log.warn({ err: errorText(error) }, 'ledger: retention purge failed; retried next hour'))
      .finally(() => (retention = undefined));
  };
  purge();
  const purgeTimer = setInterval(purge, HOUR_MS);
  purgeTimer.unref();

  let closing: Promise<void> | undefined;
  return {
    queueDepth: () => shipper.depth() + group.length,
    flush: () => {
      if (groupDone) commitGroup();
      return shipper.flush();
    },
    close() {
      closing ??= (async () => {
        requestSettledChannel.unsubscribe(onSettled);
        clearDurabilityBarrier(barrier);
        if (groupDone) commitGroup();
        clearInterval(purgeTimer);
        // A purge stuck on an unreachable store must not hold shutdown.
        await Promise.race([retention, new Promise((resolve) => setTimeout(resolve, settings.close_timeout_ms).unref())]);
        const left = await shipper.close(settings.close_timeout_ms);
        if (left > 0) {
          const durable = own.path !== ':memory:' && memory.depth() === 0;
          if (durable) log.warn({ waiting: left, outbox: own.path }, 'ledger: records not shipped before shutdown stay in the outbox and ship at the next start');
          else log.error({ waiting: left }, 'ledger: records not shipped before shutdown are lost (in-memory outbox)');
        }
        if (memory.dropped > 0) log.error({ dropped: memory.dropped }, 'ledger: records dropped while the outbox refused writes');
        // An empty file of this process's own (a fallback) is not needed by anyone after it.
        if (busyPath !== undefined && own.depth() === 0) discardOutbox(own);
        else own.close();
        for (const outbox of adopted) outbox.close();
      })();
      return closing;
    },
  };
}
