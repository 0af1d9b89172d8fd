import type { StreamEvent, Usage } from '../../core/canonical.js';
import { GatewayError } from '../../core/errors.js';
import { estimatedUsage } from '../../usage/token-estimate.js';
import { EventStreamError, type EventFrame } from './event-stream.js';
import { streamExceptionError } from './parse-error.js';
import { badResponse, decodeStopReason, parseConverseUsage, parseUpstreamJson } from './parse-response.js';

export interface ConverseStreamOptions {
  provider: string;
  /** The prompt's token count for usage the provider does not report; never the request (AttemptContext.promptTokens). */
  promptTokens: () => number;
  /** Stream id for the client (Bedrock's request id); Converse events carry none. */
  id: string;
  /** The upstream model id; Converse events do not name it. */
  model: string;
  secrets: readonly string[];
}

type Json = Record<string, unknown>;

const isObject = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * Turns ConverseStream frames into canonical events: text, tool calls (one tool index per toolUse
 * content block, in the order the blocks start), reasoning, the finish reason at `messageStop` and
 * usage from the trailing `metadata`. An exception frame or a stream that ends before
 * `messageStop` is a terminal error; usage (reported or estimated) is always yielded first.
 */
export async function* parseConverseStream(frames: AsyncIterable<EventFrame>, options: ConverseStreamOptions): AsyncGenerator<StreamEvent> {
  const { provider } = options;
  let started = false;
  let stopped = false;
  let usage: Usage | undefined;
  let outputText = '';
  /** contentBlockIndex -> tool index, for toolUse blocks. */
  const tools = new Map<number, number>();
  try {
    for await (const frame of frames) {
      if (frame.messageType !== 'event') throw streamExceptionError(frame.type, frame.body, provider, options.secrets);
      const payload = parseUpstreamJson(frame.body, provider, 'a stream event');
      if (!isObject(payload)) throw badResponse(provider, 'a stream event that is not a JSON object');
      if (!started) {
        started = true;
        yield { type: 'start', id: options.id, model: options.model, created: Math.floor(Date.now() / 1000) };
      }
      switch (frame.type) {
        case 'contentBlockStart': {
          const toolUse = isObject(payload.start) ? payload.start.toolUse : undefined;
          if (!isObject(toolUse)) break;
          if (typeof toolUse.toolUseId !== 'string' || typeof toolUse.name !== 'string') throw badResponse(provider, 'a toolUse start without id or name');
          const toolIndex = tools.size;
          tools.set(blockIndex(payload, provider), toolIndex);
          yield { type: 'tool-call', index: 0, toolIndex, id: toolUse.toolUseId, name: toolUse.name, argumentsDelta: '' };
          break;
        }
        case 'contentBlockDelta':
          for (const event of deltaEvents(payload, tools, provider)) {
            if (event.type === 'text' || event.type === 'reasoning') outputText += event.text;
            else if (event.type === 'tool-call') outputText += event.argumentsDelta;
            yield event;
          }
          break;
        case 'messageStop':
          stopped = true;
          yield { type: 'finish', index: 0, reason: decodeStopReason(typeof payload.stopReason === 'string' ? payload.stopReason : undefined) };
          break;
        case 'metadata':
          usage = parseConverseUsage(payload.usage) ?? usage;
          break;
        default:
          // messageStart, contentBlockStop, and event types newer than this adapter.
          break;
      }
    }
    if (!stopped) throw new GatewayError('BB_UPSTREAM_CONNECT', `Provider "${provider}" ended the stream before it was complete.`);
  } catch (error) {
    // Bill what was generated before the failure; the caller still receives the error after this.
    yield { type: 'usage', usage: usage ?? estimatedUsage(options.promptTokens, outputText) };
    throw classify(error, provider);
  }
  yield { type: 'usage', usage: usage ?? estimatedUsage(options.promptTokens, outputText) };
}

function blockIndex(payload: Json, provider: string): number {
  const index = payload.contentBlockIndex;
  if (typeof index !== 'number') throw badResponse(provider, 'a content block event without contentBlockIndex');
  return index;
}

function* deltaEvents(payload: Json, tools: ReadonlyMap<number, number>, provider: string): Generator<StreamEvent> {
  const delta = payload.delta;
  if (!isObject(delta)) throw badResponse(provider, 'a contentBlockDelta without delta');
  if (typeof delta.text === 'string') {
    if (delta.text !== '') yield { type: 'text', index: 0, text: delta.text };
    return;
  }
  if (isObject(delta.toolUse)) {
    const toolIndex = tools.get(blockIndex(payload, provider));
    if (toolIndex === undefined) throw badResponse(provider, 'toolUse input for a content block that did not start as toolUse');
    const input = delta.toolUse.input;
    if (typeof input !== 'string') throw badResponse(provider, 'toolUse input that is not text');
    if (input !== '') yield { type: 'tool-call', index: 0, toolIndex, argumentsDelta: input };
    return;
  }
  const reasoning = delta.reasoningContent;
  if (isObject(reasoning)) {
    if (typeof reasoning.text === 'string' && reasoning.text !== '') yield { type: 'reasoning', index: 0, text: reasoning.text };
    if (typeof reasoning.signature === 'string') yield { type: 'reasoning', index: 0, text: '', signature: reasoning.signature };
    // redactedContent has no place in a canonical stream event; it is left out.
  }
}

function classify(error: unknown, provider: string): unknown {
  if (!(error instanceof EventStreamError)) return error;
  if (error.truncated) return new GatewayError('BB_UPSTREAM_CONNECT', `Provider "${provider}" ended the stream in the middle of an event.`);
  return badResponse(provider, error.message);
}
