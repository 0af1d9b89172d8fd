import type { ProviderConfig } from '../config/schema.js';
import { MockAdapter } from './mock/index.js';
import { createOpenAIProvider } from './openai/index.js';
import { createOpenAICompatibleProvider } from './openai-compatible/index.js';
import type { ProviderAdapter } from './provider-adapter.js';

/** Builds the adapter for one configured provider. One line per provider type. */
export function createProvider(name: string, config: ProviderConfig): ProviderAdapter {
  switch (config.type) {
    case 'openai':
      return createOpenAIProvider(name, config);
    case 'openai-compatible':
      return createOpenAICompatibleProvider(name, config);
    case 'mock':
      return new MockAdapter(name, config);
  }
}
