import type { BedrockProviderConfig } from '../../config/schema.js';
import type { ProviderAdapter } from '../provider-adapter.js';
import { BedrockAdapter } from './bedrock-adapter.js';

export { BedrockAdapter, encodeModelId } from './bedrock-adapter.js';

/** Amazon Bedrock Converse and ConverseStream, signed with AWS SigV4. */
export function createBedrockProvider(name: string, config: BedrockProviderConfig): ProviderAdapter {
  return new BedrockAdapter(name, config);
}
