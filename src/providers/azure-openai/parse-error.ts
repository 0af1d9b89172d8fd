import { GatewayError } from '../../core/errors.js';
import { redactSecrets } from '../classify-status.js';

/** Content filter categories in the order they are named to the client. */
const CATEGORIES = ['hate', 'sexual', 'violence', 'self_harm', 'jailbreak', 'indirect_attack', 'profanity', 'custom_blocklists'] as const;

type Json = Record<string, unknown>;

const isObject = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * Azure's own error answers that OpenAI's rules would misread. A prompt blocked by the content
 * filter is a 400 with code `content_filter` (details under `innererror`); it becomes
 * BB_CONTENT_FILTERED, which is not retried on another target. Anything else: undefined.
 */
export function classifyAzureError(status: number, body: string, secrets: readonly string[]): GatewayError | undefined {
  if (!body.includes('content_filter')) return undefined;
  let error: unknown;
  try {
    error = (JSON.parse(body) as { error?: unknown }).error;
  } catch {
    return undefined;
  }
  if (!isObject(error) || error.code !== 'content_filter') return undefined;
  const categories = filteredCategories(error.innererror);
  const upstream = typeof error.message === 'string' ? redactSecrets(error.message, secrets) : "The prompt was blocked by Azure OpenAI's content filter.";
  const message = categories.length > 0 ? `${upstream} (filtered: ${categories.join(', ')})` : upstream;
  return new GatewayError('BB_CONTENT_FILTERED', message, { upstreamStatus: status, param: 'messages' });
}

/** The categories the filter flagged, from `innererror.content_filter_result(s)`. */
function filteredCategories(inner: unknown): string[] {
  if (!isObject(inner)) return [];
  const results = isObject(inner.content_filter_result) ? inner.content_filter_result : inner.content_filter_results;
  if (!isObject(results)) return [];
  return CATEGORIES.filter((name) => {
    const result = results[name];
    return isObject(result) && result.filtered === true;
  });
}
