import type { GeminiProviderConfig } from '../../config/schema.js';
import { GatewayError } from '../../core/errors.js';
import type { ProviderAdapter } from '../provider-adapter.js';

/** PLACEHOLDER: replaced by the real adapter in this folder. */
export function createGeminiProvider(name: string, _config: GeminiProviderConfig): ProviderAdapter {
  throw new GatewayError('BB_INTERNAL', `Provider "${name}": type not implemented yet.`);
}
