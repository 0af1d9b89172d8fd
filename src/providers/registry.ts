import type { ProviderConfig } from '../config/schema.js';
import { createAnthropicProvider } from './anthropic/index.js';
import { createAzureOpenAIProvider } from './azure-openai/index.js';
import { createGeminiProvider } from './gemini/index.js';
import { MockAdapter } from './mock/index.js';
import { createOpenAIProvider } from './openai/index.js';
import { createOpenAICompatibleProvider } from './openai-compatible/index.js';
import type { ProviderAdapter } from './provider-adapter.js';

/**
 * Bedrock's module loads only when a Bedrock provider is configured: its SigV4 signer and
 * event-stream codec (smithy) measured about 17 MB of RSS and half a second to load in a bare
 * process, which every other gateway would pay for nothing.
 */
let bedrock: typeof import('./bedrock/index.js') | undefined;

/** Loads the provider modules these providers need and that load only on demand; call before `createProvider`. */
export async function loadProviderModules(providers: Readonly<Record<string, ProviderConfig>>): Promise<void> {
  if (!bedrock && Object.values(providers).some((provider) => provider.type === 'bedrock')) bedrock = await import('./bedrock/index.js');
}

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
      if (!bedrock) throw new Error(`provider '${name}': the Bedrock module is not loaded (loadProviderModules comes first)`);
      return bedrock.createBedrockProvider(name, config);
    case 'mock':
      return new MockAdapter(name, config);
  }
}
