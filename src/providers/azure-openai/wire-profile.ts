import { OPENAI_PROFILE, type OpenAIWireProfile } from '../openai/wire-profile.js';

/**
 * From 2024-09-01-preview on (GA: 2024-10-21) Azure takes `max_completion_tokens` and
 * `stream_options.include_usage`; older versions refuse them as unrecognized arguments.
 */
const MODERN_SINCE = '2024-09-01';

/**
 * Azure takes OpenAI's chat body as is; only what an older `api-version` lacks differs. A version
 * that is not date-shaped is taken as current.
 */
export function azureWireProfile(apiVersion: string): OpenAIWireProfile {
  const date = /^\d{4}-\d{2}-\d{2}/.exec(apiVersion)?.[0];
  if (date === undefined || date >= MODERN_SINCE) return OPENAI_PROFILE;
  // Older versions have no stream usage at all: not asking means usage is estimated at the end.
  return { ...OPENAI_PROFILE, maxTokensField: 'max_tokens', streamUsage: 'automatic' };
}
