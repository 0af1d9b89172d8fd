import type { TimeoutsConfig } from '../config/schema.js';
import type { ProviderTimeouts } from './provider-adapter.js';

export function toProviderTimeouts(config: TimeoutsConfig): ProviderTimeouts {
  return { connectMs: config.connect_ms, firstByteMs: config.first_byte_ms, idleMs: config.idle_ms, totalMs: config.total_ms };
}
