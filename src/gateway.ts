import { seedStoreFromConfig } from './admin/index.js';
import { Identity } from './auth/identity.js';
import { planReload } from './config/reload-plan.js';
import type { Config } from './config/schema.js';
import { createRuntime, type Runtime, type RuntimeServices } from './pipeline/runtime.js';
import { loadProviderModules } from './providers/registry.js';
import { GatewayServer, type ReloadableServerOptions } from './server/http-server.js';
import { openStateStore, type StateStore } from './state/index.js';
import { openRecordStore, type RecordStore } from './store/index.js';
import { createPriceLookup } from './usage/pricing/price-lookup.js';
import { startRollupJob } from './usage/analytics/rollup-job.js';
import { startLedger, type Ledger } from './usage/ledger/ledger.js';
import { startAudit } from './audit/index.js';
import { createLogging, logRequests, type Logger } from './telemetry/logger.js';
import { preloadTokenizer } from './usage/token-estimate.js';
import { configCountsTokens } from './usage/tokenizer-preload.js';
import { startTelemetry } from './telemetry/metrics-wiring.js';

export interface RunningGateway {
  /** e.g. http://127.0.0.1:8080 */
  url: string;
  host: string;
  port: number;
  /** The runtime new requests start on; a reload replaces it. */
  readonly runtime: Runtime;
  /** The config in force (restart-only settings as started). */
  readonly config: Config;
  store: RecordStore;
  /** The usage ledger writer: outbox queue depth (for metrics), flush (for tests). */
  ledger: Ledger;
  /** Counters for limits and budgets (memory, or Redis). */
  state: StateStore;
  logger: Logger;
  /**
   * Swaps in a validated config: requests already running (streams included) finish on the old
   * one, whose provider connections close when its last request ends. Rejects, changing nothing,
   * when the new runtime cannot be built. Reloads run one at a time.
   */
  reload(config: Config): Promise<ReloadResult>;
  /** Drains open requests (up to the configured grace), then releases everything. */
  close(): Promise<void>;
}

export interface ReloadResult {
  /** False when the new config changes nothing, so nothing was rebuilt. */
  applied: boolean;
  /** Changed settings as key paths (`models.fast`, `server.max_in_flight`); never values. */
  changed: string[];
  /** Restart-only settings the new config changes; they keep their running values. */
  needsRestart: string[];
}

export interface StartOptions {
  /** Log destination; stdout when omitted. */
  logDestination?: NodeJS.WritableStream;
}

/** Opens the record store named by config (migrations run here). */
export function openConfiguredStore(config: Config): Promise<RecordStore> {
  const store = config.store;
  return store.driver === 'postgres'
    ? openRecordStore({ driver: 'postgres', url: store.url as string, schema: store.schema })
    : openRecordStore({ driver: 'sqlite', path: store.path });
}

function serverOptions(config: Config): ReloadableServerOptions {
  return { maxBodyBytes: config.server.max_body_bytes, keepAliveTimeoutMs: config.server.keep_alive_timeout_ms, maxInFlight: config.server.max_in_flight };
}

/** Builds the runtime from a validated config and serves it. The CLI and the tests both start here. */
export async function startGateway(config: Config, options: StartOptions = {}): Promise<RunningGateway> {
  const logging = createLogging(config.logging.level, options.logDestination);
  const logger = logging.logger;
  const store = await openConfiguredStore(config);
  let identity: Identity;
  try {
    await seedStoreFromConfig(store, config);
    identity = await Identity.open(config, store, {
      onStoreTrouble: (problem, error) => {
        if (problem === 'recovered') logger.info('record store reachable again; identity tables refreshed');
        // The driver's message may hold a host name but never a password (the store strips it).
        else logger.warn({ err: errorText(error) }, 'record store unreachable; serving keys from the last snapshot');
      },
    });
  } catch (error) {
    await store.close();
    throw error;
  }
  for (const plan of identity.current.invalidPlans) logger.warn({ plan }, 'a plan in the record store does not validate; it is ignored');
  const limits = config.limits;
  const state = await openStateStore(
    limits.backend === 'redis'
      ? {
          backend: 'redis',
          url: limits.redis_url as string,
          prefix: limits.redis_prefix,
          commandTimeoutMs: limits.redis_timeout_ms,
          instances: limits.instances,
          onStateChange: (change) =>
            change.degraded
              ? logger.warn('limit store (Redis) unreachable: rate limits use this instance\'s share, budgets refuse')
              : logger.info('limit store (Redis) reachable again'),
        }
      : { backend: 'memory' },
  );
  // One object for the whole life of the process, shared by every runtime a reload builds, so
  // what it holds (e.g. breaker state) outlives reloads. Only `prices` depends on config: a reload
  // replaces the field on this same object when it commits, so every runtime, retired ones
  // included, prices with the config in force from then on.
  const services: RuntimeServices = { identity, state, prices: createPriceLookup(config), warn: (message) => logger.warn(message) };
  await loadProviderModules(config.providers);
  let runtime = createRuntime(config, services);
  let current = config;
  // The tokenizer is built on first use; when this config counts tokens, now, so no request waits for it.
  if (configCountsTokens(config)) preloadTokenizer();
  let stopLogging = config.logging.requests ? logRequests(logging) : () => undefined;
  // Subscribed last before listening: a start that fails earlier leaves no subscriber behind.
  let ledger: Ledger;
  try {
    // The store may fold shipped rows into the rollups as it inserts them, where this instance folds.
    ledger = startLedger(config, store, logger, () => current.analytics.rollup_interval_ms > 0);
  } catch (error) {
    stopLogging();
    await runtime.close();
    identity.close();
    await Promise.all([store.close(), state.close()]);
    throw error;
  }
  // Denials and guard actions, batched into the hash-chained audit log (docs/audit.md).
  const audit = startAudit({ store, config: config.audit, log: logger });
  // Folds new ledger rows into the usage rollups (docs/analytics.md); the interval follows reloads.
  const rollups = startRollupJob(store.usage, {
    intervalMs: () => current.analytics.rollup_interval_ms,
    // SQLite folds block the event loop (about 35 µs a row): small runs, with I/O turns between them.
    rowsPerRun: 500,
    chunkRows: 500,
    onTrouble: (problem, error) =>
      problem === 'failed'
        ? logger.warn({ err: errorText(error) }, 'usage rollups: folding ledger rows failed; usage answers read unfolded rows raw meanwhile')
        : logger.info('usage rollups: folding ledger rows works again'),
  });
  // Metrics and traces, fed by the settle channel (docs/observability.md); restart-only settings.
  const telemetry = await startTelemetry(config, {
    config: () => runtime.config,
    breakers: () => runtime.router.board.report(),
    inFlight: () => server.requestsInFlight,
    ledgerQueueDepth: () => ledger.queueDepth(),
  });
  services.metrics = telemetry.metrics;
  services.traceHeaders = telemetry.traceHeaders;
  const server = new GatewayServer(runtime, { host: config.server.host, port: config.server.port, ...serverOptions(config) });
  const release = async () => {
    stopLogging();
    // Builds the last spans and flushes them to the collector (bounded wait).
    await telemetry.close();
    identity.close();
    // Ships what the outbox holds while the store is still open.
    await ledger.close();
    // Appends the last buffered denials while the store is still open.
    await audit.close();
    await rollups.stop();
    await Promise.all([store.close(), state.close()]);
  };
  let address;
  try {
    address = await server.listen();
  } catch (error) {
    await runtime.close();
    await release();
    throw error;
  }
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  let closing: Promise<void> | undefined;

  const applyReload = async (next: Config): Promise<ReloadResult> => {
    if (closing) throw new Error('the gateway is shutting down');
    const plan = planReload(current, next);
    if (plan.needsRestart.length > 0) logger.warn({ settings: plan.needsRestart }, 'config reload: these settings only change on restart; they keep their running values');
    if (plan.changed.length === 0) {
      logger.info('config reload: nothing changed');
      return { applied: false, changed: [], needsRestart: plan.needsRestart };
    }
    const config = plan.config;
    const previousPrices = services.prices;
    const prices = createPriceLookup(config);
    let built: Runtime;
    let commitIdentity: () => void;
    // Before the prices swap below: nothing may await while it lasts.
    await loadProviderModules(config.providers);
    // The new prices are set only while building (a runtime may read them then) and for good at the commit.
    services.prices = prices;
    try {
      built = createRuntime(config, services);
    } finally {
      services.prices = previousPrices;
    }
    if (configCountsTokens(config)) preloadTokenizer();
    try {
      // Config teams live in the store too (admin-made users and keys can join them), as at start.
      await seedStoreFromConfig(store, config).catch((error: unknown) => logger.warn({ err: errorText(error) }, 'config reload: could not mirror config teams into the record store; they apply, but admin-made users cannot join new ones yet'));
      commitIdentity = await identity.prepareReconfigure(config);
      if (closing) throw new Error('the gateway is shutting down');
    } catch (error) {
      await built.close().catch(() => undefined);
      throw error;
    }
    // One synchronous step: no request sees new identity tables with the old runtime or the other way round.
    services.prices = prices;
    commitIdentity();
    server.configure(serverOptions(config));
    const retired = server.setRuntime(built);
    const previous = current;
    runtime = built;
    current = config;
    logger.info({ changed: plan.changed }, 'config reloaded');
    if (JSON.stringify(previous.logging) !== JSON.stringify(config.logging)) {
      logger.level = config.logging.level;
      stopLogging();
      stopLogging = config.logging.requests ? logRequests(logging) : () => undefined;
    }
    retired.then(
      () => logger.debug('previous config released: its last request finished'),
      (error: unknown) => logger.warn({ err: errorText(error) }, 'closing the previous config\'s provider connections failed'),
    );
    return { applied: true, changed: plan.changed, needsRestart: plan.needsRestart };
  };
  let reloading: Promise<unknown> = Promise.resolve();

  return {
    url: `http://${host}:${address.port}`,
    host: address.address,
    port: address.port,
    get runtime() {
      return runtime;
    },
    get config() {
      return current;
    },
    store,
    ledger,
    state,
    logger,
    reload(next) {
      const run = reloading.then(() => applyReload(next));
      reloading = run.catch(() => undefined);
      return run;
    },
    close() {
      closing ??= (async () => {
        await reloading;
        await server.drain(current.server.shutdown_grace_ms);
        await release();
        logging.flush();
      })();
      return closing;
    },
  };
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
