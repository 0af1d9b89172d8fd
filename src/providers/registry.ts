import type { ProviderConfig } from '../config/schema.js';
import { createAnthropicProvider } from './anthropic/index.js';
import { createAzureOpenAIProvider } from './azure-openai/index.js';
import { createBedrockProvider } from './bedrock/index.js';
import { createGeminiProvider } from './gemini/index.js';
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
    case 'anthropic':
      return createAnthropicProvider(name, config);
    case 'gemini':
      return createGeminiProvider(name, config);
    case 'azure-openai':
      return createAzureOpenAIProvider(name, config);
    case 'bedrock':
      return createBedrockProvider(name, config);
    case 'mock':
      return new MockAdapter(name, config);
  }
}
