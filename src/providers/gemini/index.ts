import type { GeminiProviderConfig } from '../../config/schema.js';
import type { ProviderAdapter } from '../provider-adapter.js';
import { toProviderTimeouts } from '../timeouts.js';
import { GeminiAdapter } from './gemini-adapter.js';

export { GeminiAdapter } from './gemini-adapter.js';

/** Google Gemini through the Google AI Studio API (generateContent, streamGenerateContent, batchEmbedContents). */
export function createGeminiProvider(name: string, config: GeminiProviderConfig): ProviderAdapter {
  return new GeminiAdapter({
    name,
    baseUrl: config.base_url,
    apiVersion: config.api_version,
    apiKey: config.api_key,
    extraHeaders: { ...config.headers },
    timeouts: toProviderTimeouts(config.timeouts),
    maxConnections: config.max_connections,
  });
}
