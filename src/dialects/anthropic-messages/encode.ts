import type { CanonicalResponse, FinishReason, ToolCall, Usage } from '../../core/canonical.js';
import type { ErrorKind, GatewayError } from '../../core/errors.js';
import type { EncodedError } from '../dialect.js';

/** Anthropic reports cache reads and writes apart from `input_tokens`; canonical usage includes them. */
export function encodeAnthropicUsage(usage: Usage): Record<string, number> {
  const cacheRead = usage.cachedInputTokens ?? 0;
  const cacheWrite = usage.cacheCreationTokens ?? 0;
  const out: Record<string, number> = {
    input_tokens: Math.max(0, usage.inputTokens - cacheRead - cacheWrite),
    output_tokens: usage.outputTokens,
  };
  if (usage.cacheCreationTokens !== undefined) out.cache_creation_input_tokens = cacheWrite;
  if (usage.cachedInputTokens !== undefined) out.cache_read_input_tokens = cacheRead;
  return out;
}

export function encodeStopReason(reason: FinishReason, stopSequence: string | undefined): string {
  switch (reason) {
    case 'length':
      return 'max_tokens';
    case 'tool_calls':
      return 'tool_use';
    case 'content_filter':
      return 'refusal';
    default:
      return stopSequence !== undefined ? 'stop_sequence' : 'end_turn';
  }
}

/** Tool arguments are JSON text in canonical form and an object in Anthropic's. */
export function toolInput(call: ToolCall): unknown {
  if (call.arguments.trim() === '') return {};
  try {
    return JSON.parse(call.arguments) as unknown;
  } catch {
    return {};
  }
}

/** A canonical answer as an Anthropic `message` object (the first choice: Anthropic has no `n`). */
export function encodeMessagesResponse(response: CanonicalResponse): string {
  const choice = response.choices[0];
  const content: Array<Record<string, unknown>> = [];
  for (const block of choice?.reasoning ?? []) {
    if (block.redacted !== undefined) content.push({ type: 'redacted_thinking', data: block.redacted });
    else content.push({ type: 'thinking', thinking: block.text, signature: block.signature ?? '' });
  }
  if (choice?.content) content.push({ type: 'text', text: choice.content });
  for (const call of choice?.toolCalls ?? []) content.push({ type: 'tool_use', id: call.id, name: call.name, input: toolInput(call) });
  return JSON.stringify({
    id: response.id,
    type: 'message',
    role: 'assistant',
    model: response.model,
    content,
    stop_reason: encodeStopReason(choice?.finishReason ?? 'stop', choice?.stopSequence),
    stop_sequence: choice?.stopSequence ?? null,
    usage: encodeAnthropicUsage(response.usage),
  });
}

const ANTHROPIC_ERROR_TYPES: Record<ErrorKind, string> = {
  invalid_request: 'invalid_request_error',
  authentication: 'authentication_error',
  permission: 'permission_error',
  not_found: 'not_found_error',
  rate_limit: 'rate_limit_error',
  timeout: 'timeout_error',
  upstream: 'api_error',
  overloaded: 'overloaded_error',
  internal: 'api_error',
};

/** Anthropic's error `type` for a gateway error; 413 has its own type in Anthropic's API. */
export function anthropicErrorType(error: GatewayError): string {
  return error.status === 413 ? 'request_too_large' : ANTHROPIC_ERROR_TYPES[error.spec.kind];
}

/** The `error` object of Anthropic's shape, plus the gateway's own code for matching with docs and logs. */
export function anthropicErrorObject(error: GatewayError) {
  return { type: anthropicErrorType(error), message: error.message, bb_code: error.code, retryable: error.retryable };
}

export function encodeAnthropicError(error: GatewayError, requestId: string): EncodedError {
  const headers: Record<string, string> = { 'x-request-id': requestId, 'request-id': requestId };
  if (error.retryAfterSeconds !== undefined) headers['retry-after'] = String(error.retryAfterSeconds);
  return { status: error.status, headers, body: JSON.stringify({ type: 'error', error: anthropicErrorObject(error), request_id: requestId }) };
}
