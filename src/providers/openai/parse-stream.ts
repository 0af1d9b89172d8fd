import type { StreamEvent, Usage } from '../../core/canonical.js';
import { GatewayError } from '../../core/errors.js';
import type { SseEvent } from '../../upstream/sse-parser.js';
import { estimatedUsage } from '../../usage/token-estimate.js';
import { OPENAI_WIRE_DIALECT } from './build-request.js';
import { parseOpenAIError } from './parse-error.js';
import { badResponse, decodeFinishReason, parseUpstreamJson, parseUsage } from './parse-response.js';
import { decodeStreamChunk, type WireChunk } from './stream-chunk.js';

export interface OpenAIStreamOptions {
  provider: string;
  /** The client asked for a usage chunk. */
  streamUsage: boolean;
  /** The prompt's token count for usage the provider does not report; never the request (AttemptContext.promptTokens). */
  promptTokens: () => number;
  /** Forward each chunk unchanged to an OpenAI-dialect client instead of re-encoding it. */
  passthrough: boolean;
  secrets: readonly string[];
  /** Called at `data: [DONE]`, before the parser stops reading (StreamedBody.complete). */
  onDone?: () => void;
}

/**
 * Turns OpenAI chat SSE into canonical events. In passthrough mode each chunk is also forwarded as
 * a `raw` event, except a usage-only chunk the client did not ask for (the gateway always asks for
 * usage upstream). If the stream ends without usage, usage is estimated with the tokenizer.
 */
export async function* parseOpenAIStream(events: AsyncIterable<SseEvent>, options: OpenAIStreamOptions): AsyncGenerator<StreamEvent> {
  const { provider, passthrough, streamUsage, promptTokens } = options;
  let started = false;
  let usage: Usage | undefined;
  let outputText = '';
  let sawDone = false;
  let usageForwarded = false;
  /** Choices that started, and those that reported a finish reason. */
  const openChoices = new Set<number>();
  try {
    for await (const sse of events) {
      if (sse.data === '[DONE]') {
        sawDone = true;
        options.onDone?.();
        break;
      }
      const chunk = decodeStreamChunk(parseUpstreamJson(sse.data, provider, 'a stream chunk'));
      if (chunk === undefined) throw badResponse(provider, 'a stream chunk of the wrong shape');
      if (chunk.error !== undefined) {
        throw parseOpenAIError(502, JSON.stringify({ error: chunk.error }), undefined, options.secrets, provider);
      }
      // Annotation-only chunks (e.g. Azure's prompt_filter_results) carry no id, model or content.
      if (!started && (chunk.choices ?? []).length === 0 && chunk.usage == null && chunk.x_groq?.usage == null) continue;
      if (!started) {
        started = true;
        yield { type: 'start', id: chunk.id ?? '', model: chunk.model ?? '', created: chunk.created ?? Math.floor(Date.now() / 1000) };
      }
      const chunkUsage = parseUsage(chunk.usage ?? chunk.x_groq?.usage ?? undefined);
      const choices = chunk.choices ?? [];
      for (const choice of choices) {
        const content = choice.delta?.content;
        if (content) outputText += content;
        if (choice.finish_reason) openChoices.delete(choice.index);
        else openChoices.add(choice.index);
        if (!passthrough) yield* choiceEvents(choice);
      }
      if (passthrough && (choices.length > 0 || (chunkUsage !== undefined && streamUsage))) {
        if (chunkUsage !== undefined && streamUsage) usageForwarded = true;
        yield { type: 'raw', dialect: OPENAI_WIRE_DIALECT, data: sse.data };
      }
      if (chunkUsage) usage = chunkUsage;
    }
    // Some servers omit [DONE]; a body that ends with every choice finished is still complete.
    if (!sawDone && (!started || openChoices.size > 0)) {
      throw new GatewayError('BB_UPSTREAM_CONNECT', `Provider "${provider}" ended the stream before it was complete.`);
    }
  } catch (error) {
    // Bill what was generated before the failure; the caller still receives the error after this.
    yield { type: 'usage', usage: usage ?? estimatedUsage(promptTokens, outputText) };
    throw error;
  }
  yield usage ? { type: 'usage', usage, inRaw: usageForwarded } : { type: 'usage', usage: estimatedUsage(promptTokens, outputText) };
}

function* choiceEvents(choice: NonNullable<WireChunk['choices']>[number]): Generator<StreamEvent> {
  const delta = choice.delta;
  if (delta?.content) yield { type: 'text', index: choice.index, text: delta.content };
  for (const call of delta?.tool_calls ?? []) {
    const event: StreamEvent & { type: 'tool-call' } = {
      type: 'tool-call',
      index: choice.index,
      toolIndex: call.index,
      argumentsDelta: call.function?.arguments ?? '',
    };
    if (call.id) event.id = call.id;
    if (call.function?.name) event.name = call.function.name;
    yield event;
  }
  if (choice.finish_reason) yield { type: 'finish', index: choice.index, reason: decodeFinishReason(choice.finish_reason) };
}
