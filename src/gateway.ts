import { seedStoreFromConfig } from './admin/index.js';
import { Identity } from './auth/identity.js';
import type { Config } from './config/schema.js';
import { createRuntime, type Runtime } from './pipeline/runtime.js';
import { GatewayServer } from './server/http-server.js';
import { openStateStore, type StateStore } from './state/index.js';
import { openRecordStore, type RecordStore } from './store/index.js';
import { createPriceLookup } from './usage/pricing/price-lookup.js';
import { createLogging, logRequests, type Logger } from './telemetry/logger.js';

export interface RunningGateway {
  /** e.g. http://127.0.0.1:8080 */
  url: string;
  host: string;
  port: number;
  runtime: Runtime;
  store: RecordStore;
  /** Counters for limits and budgets (memory, or Redis). */
  state: StateStore;
  logger: Logger;
  /** Drains open requests (up to the configured grace), then releases everything. */
  close(): Promise<void>;
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
        else logger.warn({ err: error instanceof Error ? error.message : String(error) }, 'record store unreachable; serving keys from the last snapshot');
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
  const runtime = createRuntime(config, { identity, state, prices: createPriceLookup(config), warn: (message) => logger.warn(message) });
  const stopLogging = config.logging.requests ? logRequests(logging) : () => undefined;
  const server = new GatewayServer(runtime, {
    host: config.server.host,
    port: config.server.port,
    maxBodyBytes: config.server.max_body_bytes,
    keepAliveTimeoutMs: config.server.keep_alive_timeout_ms,
  });
  const release = async () => {
    stopLogging();
    identity.close();
    await runtime.close();
    await Promise.all([store.close(), state.close()]);
  };
  let address;
  try {
    address = await server.listen();
  } catch (error) {
    await release();
    throw error;
  }
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  let closing: Promise<void> | undefined;
  return {
    url: `http://${host}:${address.port}`,
    host: address.address,
    port: address.port,
    runtime,
    store,
    state,
    logger,
    close() {
      closing ??= (async () => {
        await server.drain(config.server.shutdown_grace_ms);
        await release();
        logging.flush();
      })();
      return closing;
    },
  };
}
