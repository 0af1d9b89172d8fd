import { MemoryStateStore } from './memory/memory-state-store.js';
import { ResilientStateStore, type StateChange } from './resilient-state-store.js';
import { StateUnavailableError, type StateStore } from './state-store.js';

export { StateUnavailableError } from './state-store.js';
export type { CounterKind, CounterUse, ReserveItem, ReserveResult, SettleItem, StateStore } from './state-store.js';
export { MemoryStateStore, type MemoryStateStoreOptions } from './memory/memory-state-store.js';
export type { RedisStateStoreOptions } from './redis/redis-state-store.js';
export { ResilientStateStore, type ResilientStateStoreOptions, type StateChange } from './resilient-state-store.js';

export type StateStoreOptions =
  | { backend: 'memory' }
  | {
      backend: 'redis';
      url: string;
      /** Key prefix with a hash tag; default `bb:{limits}:`. */
      prefix?: string;
      commandTimeoutMs?: number;
      /** Gateway instances sharing the limits (each gets `limit / instances` during an outage). */
      instances?: number;
      /** Told when the store degrades to the local share and when it recovers (for logs). */
      onStateChange?: (change: StateChange) => void;
    };

/**
 * Opens the counters the config asks for. Redis comes wrapped in the outage policy (rate limits
 * fall back to a local share, budgets fail closed); a Redis that is down at start still yields a
 * working store that serves degraded and recovers by itself once Redis answers.
 */
export async function openStateStore(options: StateStoreOptions): Promise<StateStore> {
  if (options.backend === 'memory') return new MemoryStateStore();
  // Loaded only when configured: ioredis costs memory an embedded gateway never uses.
  const { RedisStateStore } = await import('./redis/redis-state-store.js');
  const remote = new RedisStateStore({
    url: options.url,
    ...(options.prefix !== undefined ? { prefix: options.prefix } : {}),
    ...(options.commandTimeoutMs !== undefined ? { commandTimeoutMs: options.commandTimeoutMs } : {}),
  });
  let cause: StateUnavailableError | undefined;
  try {
    await remote.connect();
  } catch (error) {
    if (!(error instanceof StateUnavailableError)) throw error;
    cause = error;
  }
  const store = new ResilientStateStore(remote, new MemoryStateStore(), {
    instances: options.instances ?? 1,
    startDegraded: cause !== undefined,
    ...(options.onStateChange ? { onStateChange: options.onStateChange } : {}),
  });
  if (cause) options.onStateChange?.({ degraded: true, cause });
  return store;
}
