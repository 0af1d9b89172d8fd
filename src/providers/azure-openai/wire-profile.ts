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

/**
 * Azure's stream chunks with empty `choices` and no usage (the prompt_filter_results chunk that
 * opens every stream, with empty id and model) carry nothing for a client. Only chunks that contain
 * the compact `"choices":[]` are parsed, so the check costs a substring search on the rest.
 */
export function isAnnotationOnlyChunk(data: string): boolean {
  if (!data.includes('"choices":[]')) return false;
  try {
    const chunk = JSON.parse(data) as { choices?: unknown; usage?: unknown };
    return Array.isArray(chunk.choices) && chunk.choices.length === 0 && (chunk.usage === undefined || chunk.usage === null);
  } catch {
    // Malformed JSON is the stream parser's to report.
    return false;
  }
}
