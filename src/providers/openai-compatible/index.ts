import type { OpenAICompatibleProviderConfig } from '../../config/schema.js';
import { VENDOR_DEFAULT_BASE_URLS } from '../../config/vendor-names.js';
import { GatewayError } from '../../core/errors.js';
import { OpenAIAdapter } from '../openai/openai-adapter.js';
import type { ProviderAdapter } from '../provider-adapter.js';
import { toProviderTimeouts } from '../timeouts.js';
import { VENDOR_PROFILES } from './vendors.js';

export { VENDOR_PROFILES } from './vendors.js';

/** Any OpenAI-speaking server, with its vendor's quirks applied. */
export function createOpenAICompatibleProvider(name: string, config: OpenAICompatibleProviderConfig): ProviderAdapter {
  const authHeaders: Record<string, string> = config.api_key ? { authorization: `Bearer ${config.api_key}` } : {};
  return new OpenAIAdapter({
    name,
    type: 'openai-compatible',
    baseUrl: resolveBaseUrl(name, config),
    authHeaders,
    extraHeaders: { ...config.headers },
    timeouts: toProviderTimeouts(config.timeouts),
    maxConnections: config.max_connections,
    profile: VENDOR_PROFILES[config.vendor],
  });
}

function resolveBaseUrl(name: string, config: OpenAICompatibleProviderConfig): string {
  const url = config.base_url ?? VENDOR_DEFAULT_BASE_URLS[config.vendor];
  // The config check reports this first; this guards programmatic use.
  if (!url) throw new GatewayError('BB_INTERNAL', `Provider "${name}" has no base_url.`);
  return url;
}
