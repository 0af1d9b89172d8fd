import type { CanonicalResponse, EmbeddingsResponse, FinishReason, ToolCall, Usage } from '../../core/canonical.js';

/** Wire shapes of OpenAI responses, as documented in OpenAI's API reference. */
export interface OpenAIUsage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  prompt_tokens_details?: { cached_tokens: number };
  completion_tokens_details?: { reasoning_tokens: number };
}

export function encodeUsage(usage: Usage): OpenAIUsage {
  const out: OpenAIUsage = {
    prompt_tokens: usage.inputTokens,
    completion_tokens: usage.outputTokens,
    total_tokens: usage.inputTokens + usage.outputTokens,
  };
  if (usage.cachedInputTokens !== undefined) out.prompt_tokens_details = { cached_tokens: usage.cachedInputTokens };
  if (usage.reasoningTokens !== undefined) out.completion_tokens_details = { reasoning_tokens: usage.reasoningTokens };
  return out;
}

/** OpenAI has no `error` finish reason; a stream cut short is reported as `stop` plus an error event. */
export function encodeFinishReason(reason: FinishReason): string {
  return reason === 'error' ? 'stop' : reason;
}

export function encodeToolCalls(calls: ToolCall[]) {
  return calls.map((call) => ({ id: call.id, type: 'function', function: { name: call.name, arguments: call.arguments } }));
}

export function encodeChatResponse(response: CanonicalResponse): string {
  return JSON.stringify({
    id: response.id,
    object: 'chat.completion',
    created: response.created,
    model: response.model,
    choices: response.choices.map((choice) => ({
      index: choice.index,
      message: {
        role: 'assistant',
        content: choice.content,
        refusal: choice.refusal ?? null,
        // OpenAI-compatible servers (DeepSeek, vLLM) name shown reasoning this way; OpenAI SDKs keep unknown fields.
        ...(choice.reasoning && choice.reasoning.some((block) => block.text !== '')
          ? { reasoning_content: choice.reasoning.map((block) => block.text).join('') }
          : {}),
        ...(choice.toolCalls && choice.toolCalls.length > 0 ? { tool_calls: encodeToolCalls(choice.toolCalls) } : {}),
      },
      logprobs: null,
      finish_reason: encodeFinishReason(choice.finishReason),
    })),
    usage: encodeUsage(response.usage),
  });
}

export function encodeEmbeddingsResponse(response: EmbeddingsResponse): string {
  return JSON.stringify({
    object: 'list',
    data: response.data.map((item) => ({ object: 'embedding', index: item.index, embedding: item.embedding })),
    model: response.model,
    usage: { prompt_tokens: response.usage.inputTokens, total_tokens: response.usage.inputTokens },
  });
}

/** `GET /v1/models`: the public names, in OpenAI's list shape. */
export function encodeModelList(names: readonly string[], created: number): string {
  return JSON.stringify({ object: 'list', data: names.map((id) => encodeModelObject(id, created)) });
}

export function encodeModelObject(id: string, created: number) {
  return { id, object: 'model', created, owned_by: 'breakerbox' };
}
