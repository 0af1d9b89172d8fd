import type { AnthropicProviderConfig } from '../../config/schema.js';
import type { ProviderAdapter } from '../provider-adapter.js';
import { toProviderTimeouts } from '../timeouts.js';
import { AnthropicAdapter } from './anthropic-adapter.js';

export { AnthropicAdapter } from './anthropic-adapter.js';

/** Anthropic's Messages API. */
export function createAnthropicProvider(name: string, config: AnthropicProviderConfig): ProviderAdapter {
  return new AnthropicAdapter({
    name,
    baseUrl: config.base_url,
    apiKey: config.api_key,
    version: config.version,
    defaultMaxTokens: config.default_max_tokens,
    extraHeaders: { ...config.headers },
    timeouts: toProviderTimeouts(config.timeouts),
    maxConnections: config.max_connections,
  });
}
