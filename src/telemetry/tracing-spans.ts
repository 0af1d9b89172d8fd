import type { Attributes } from '@opentelemetry/api';
import type { Config } from '../config/schema.js';
import type { ObservedAttempt, ObservedRecord } from './metrics-record-fields.js';

/**
 * GenAI semantic-convention attributes (OpenTelemetry semantic-conventions-genai, client inference
 * and embeddings spans) for a settled record, built after the fact: nothing here runs before the
 * request settled. Content (prompts, answers) is never recorded, nor keys, users or customers.
 */

/** `gen_ai.provider.name` by provider type; OpenAI-compatible servers by vendor (the convention's well-known values where one exists). */
const PROVIDER_NAMES: Record<string, string> = {
  openai: 'openai',
  'azure-openai': 'azure.ai.openai',
  anthropic: 'anthropic',
  gemini: 'gcp.gemini',
  bedrock: 'aws.bedrock',
  mock: 'breakerbox.mock',
};
const VENDOR_PROVIDER_NAMES: Record<string, string> = { mistral: 'mistral_ai', generic: 'openai_compatible' };

/** Maps a configured provider name to its `gen_ai.provider.name`; rebuilt only when the config object changes. */
export function providerNameLookup(config: () => Pick<Config, 'providers'>): (provider: string) => string | undefined {
  let last: Pick<Config, 'providers'> | undefined;
  let names = new Map<string, string>();
  return (provider) => {
    const current = config();
    if (current !== last) {
      last = current;
      names = new Map(Object.entries(current.providers).map(([name, entry]) => [name, genAiProviderName(entry.type, 'vendor' in entry ? entry.vendor : undefined)]));
    }
    return names.get(provider);
  };
}

export function genAiProviderName(type: string, vendor: string | undefined): string {
  if (type === 'openai-compatible' && vendor !== undefined) return VENDOR_PROVIDER_NAMES[vendor] ?? vendor;
  return PROVIDER_NAMES[type] ?? type;
}

/** The GenAI operation of an endpoint; other endpoints get no span. */
export function operationOf(record: ObservedRecord): 'chat' | 'embeddings' | undefined {
  return record.endpoint === 'chat' || record.endpoint === 'embeddings' ? record.endpoint : undefined;
}

/** `{gen_ai.operation.name} {gen_ai.request.model}`, as the convention names inference spans. */
export function spanName(operation: string, model: string | undefined): string {
  return model === undefined || model === '' ? operation : `${operation} ${model}`;
}

/** The request span: the logical operation as the client asked for it, retries and fallbacks included. */
export function requestAttributes(record: ObservedRecord, operation: string, providerName: (provider: string) => string | undefined): Attributes {
  const attributes: Attributes = { 'gen_ai.operation.name': operation, 'breakerbox.request_id': record.requestId, 'http.response.status_code': record.status };
  const provider = record.provider ?? record.attempts[0]?.provider;
  const system = provider === undefined ? undefined : providerName(provider);
  if (system !== undefined) attributes['gen_ai.provider.name'] = system;
  if (record.provider !== undefined) attributes['breakerbox.provider'] = record.provider;
  if (record.requestedModel !== undefined) attributes['gen_ai.request.model'] = record.requestedModel;
  if (record.servedModel !== undefined) attributes['gen_ai.response.model'] = record.servedModel;
  if (record.stream) attributes['gen_ai.request.stream'] = true;
  if (record.maxTokens !== undefined) attributes['gen_ai.request.max_tokens'] = record.maxTokens;
  if (record.finishReasons !== undefined && record.finishReasons.length > 0) attributes['gen_ai.response.finish_reasons'] = record.finishReasons;
  const usage = record.usage;
  if (usage) {
    attributes['gen_ai.usage.input_tokens'] = usage.inputTokens;
    if (operation !== 'embeddings') attributes['gen_ai.usage.output_tokens'] = usage.outputTokens;
    if (usage.cachedInputTokens) attributes['gen_ai.usage.cache_read.input_tokens'] = usage.cachedInputTokens;
    if (usage.cacheCreationTokens) attributes['gen_ai.usage.cache_write.input_tokens'] = usage.cacheCreationTokens;
    if (usage.reasoningTokens) attributes['gen_ai.usage.reasoning.output_tokens'] = usage.reasoningTokens;
    if (usage.estimated) attributes['breakerbox.usage.estimated'] = true;
  }
  if (record.ttftMs !== undefined) attributes['gen_ai.response.time_to_first_chunk'] = record.ttftMs / 1000;
  if (record.conversationId !== undefined) attributes['gen_ai.conversation.id'] = record.conversationId;
  if (record.templateId !== undefined) attributes['gen_ai.prompt.name'] = record.templateId;
  if (record.templateId !== undefined && record.templateVersion !== undefined) attributes['gen_ai.prompt.version'] = record.templateVersion;
  if (record.costUsd !== undefined) attributes['breakerbox.cost_usd'] = record.costUsd;
  if (record.routing?.rule !== undefined) attributes['breakerbox.routing.rule'] = record.routing.rule;
  if (record.attempts.length > 0) attributes['breakerbox.attempts'] = record.attempts.length;
  if (record.usageIncomplete) attributes['breakerbox.usage.incomplete'] = true;
  if (record.errorCode !== undefined) attributes['error.type'] = record.errorCode;
  return attributes;
}

/** One upstream attempt: a client call to one provider's model. */
export function attemptAttributes(attempt: ObservedAttempt, operation: string, providerName: (provider: string) => string | undefined): Attributes {
  const attributes: Attributes = { 'gen_ai.operation.name': operation, 'gen_ai.request.model': attempt.model, 'breakerbox.provider': attempt.provider, 'breakerbox.target': attempt.target };
  const system = providerName(attempt.provider);
  if (system !== undefined) attributes['gen_ai.provider.name'] = system;
  if (attempt.retry !== undefined) attributes['breakerbox.retry'] = attempt.retry;
  if (attempt.upstreamStatus !== undefined) attributes['http.response.status_code'] = attempt.upstreamStatus;
  if (attempt.outcome !== 'ok') attributes['error.type'] = attempt.outcome;
  return attributes;
}
