import type { OpenAIProviderConfig } from '../../config/schema.js';
import type { ProviderAdapter } from '../provider-adapter.js';
import { OpenAIAdapter } from './openai-adapter.js';
import { OPENAI_PROFILE } from './wire-profile.js';
import { toProviderTimeouts } from '../timeouts.js';

export { OpenAIAdapter } from './openai-adapter.js';
export { OPENAI_PROFILE, type OpenAIWireProfile } from './wire-profile.js';

/** The official OpenAI API. */
export function createOpenAIProvider(name: string, config: OpenAIProviderConfig): ProviderAdapter {
  const authHeaders: Record<string, string> = { authorization: `Bearer ${config.api_key}` };
  const extraHeaders: Record<string, string> = { ...config.headers };
  if (config.organization) extraHeaders['openai-organization'] = config.organization;
  if (config.project) extraHeaders['openai-project'] = config.project;
  return new OpenAIAdapter({
    name,
    type: 'openai',
    baseUrl: config.base_url,
    authHeaders,
    extraHeaders,
    timeouts: toProviderTimeouts(config.timeouts),
    maxConnections: config.max_connections,
    profile: OPENAI_PROFILE,
  });
}
