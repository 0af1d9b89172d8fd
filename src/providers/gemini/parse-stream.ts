import type { StreamEvent, Usage } from '../../core/canonical.js';
import { GatewayError } from '../../core/errors.js';
import type { SseEvent } from '../../upstream/sse-parser.js';
import { estimatedUsage } from '../../usage/token-estimate.js';
import { badResponse, decodeFinishReason, decodeUsage, readGeminiResponse, toolCallId, type GeminiResponse, type ParseContext } from './parse-response.js';

export interface GeminiStreamOptions extends ParseContext {
  /** The prompt's token count for usage the provider does not report; never the request (AttemptContext.promptTokens). */
  promptTokens: () => number;
  /** id and model for the `start` event when Google names neither. */
  fallback: { id: string; model: string };
}

/**
 * Opens a streamGenerateContent?alt=sse answer: the first event is read before the stream is
 * handed out, so an error event or a blocked prompt at the very start is an ordinary failed
 * attempt (a proper HTTP error, open to fallback) rather than an error after a 200.
 */
export async function openGeminiStream(events: AsyncIterable<SseEvent>, options: GeminiStreamOptions): Promise<AsyncIterable<StreamEvent>> {
  const iterator = events[Symbol.asyncIterator]();
  let first: GeminiResponse;
  try {
    const next = await iterator.next();
    if (next.done) throw badResponse(options.provider, 'an empty stream');
    first = readGeminiResponse(next.value.data, options, 'a stream event');
  } catch (error) {
    await iterator.return?.().catch(() => undefined);
    throw error;
  }
  return translate(first, iterator, options);
}

/** Per-candidate progress: tool calls numbered so far, and whether it reported a finish reason. */
interface CandidateState {
  toolCalls: number;
  finished: boolean;
}

/**
 * Gemini stream events to canonical ones. Each event is a GenerateContentResponse holding the
 * next parts; function calls arrive whole, so each becomes one tool-call event. Usage comes in the
 * last event; the stream always ends with a `usage` event, estimated if need be, on error too.
 */
async function* translate(first: GeminiResponse, rest: AsyncIterator<SseEvent>, options: GeminiStreamOptions): AsyncGenerator<StreamEvent> {
  const candidates = new Map<number, CandidateState>();
  let usage: Usage | undefined;
  let outputText = '';
  const currentUsage = () => usage ?? estimatedUsage(options.promptTokens, outputText);

  function* eventsOf(chunk: GeminiResponse): Generator<StreamEvent> {
    usage = decodeUsage(chunk.usageMetadata) ?? usage;
    for (const [position, candidate] of (chunk.candidates ?? []).entries()) {
      const index = candidate.index ?? position;
      let state = candidates.get(index);
      if (!state) {
        state = { toolCalls: 0, finished: false };
        candidates.set(index, state);
      }
      for (const part of candidate.content?.parts ?? []) {
        if (part.functionCall) {
          const argumentsJson = JSON.stringify(part.functionCall.args ?? {});
          outputText += argumentsJson;
          const id = toolCallId(part.functionCall, state.toolCalls);
          yield { type: 'tool-call', index, toolIndex: state.toolCalls, id, name: part.functionCall.name, argumentsDelta: argumentsJson };
          state.toolCalls += 1;
        } else if (part.text !== undefined && part.text !== '') {
          outputText += part.text;
          yield part.thought === true ? { type: 'reasoning', index, text: part.text } : { type: 'text', index, text: part.text };
        }
      }
      if (candidate.finishReason && !state.finished) {
        state.finished = true;
        yield { type: 'finish', index, reason: decodeFinishReason(candidate.finishReason, state.toolCalls > 0) };
      }
    }
  }

  try {
    try {
      yield { type: 'start', id: first.responseId ?? options.fallback.id, model: first.modelVersion ?? options.fallback.model, created: Math.floor(Date.now() / 1000) };
      yield* eventsOf(first);
      for (;;) {
        const next = await rest.next();
        if (next.done) break;
        yield* eventsOf(readGeminiResponse(next.value.data, options, 'a stream event'));
      }
      // Gemini sends no [DONE]: a stream is complete when every candidate said why it stopped.
      if (candidates.size === 0 || [...candidates.values()].some((state) => !state.finished)) {
        throw new GatewayError('BB_UPSTREAM_CONNECT', `Provider "${options.provider}" ended the stream before it was complete.`);
      }
    } catch (error) {
      // Bill what was generated before the failure; the caller still receives the error after this.
      yield { type: 'usage', usage: currentUsage() };
      throw error;
    }
    yield { type: 'usage', usage: currentUsage() };
  } finally {
    await rest.return?.().catch(() => undefined);
  }
}
