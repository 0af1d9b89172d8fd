import type { StreamEvent, Usage } from '../../core/canonical.js';
import { ANTHROPIC_MESSAGES_DIALECT } from '../../core/dialect-names.js';
import { GatewayError } from '../../core/errors.js';
import type { SseEvent } from '../../upstream/sse-parser.js';
import { countTextTokens, estimatedUsage } from '../../usage/token-estimate.js';
import { parseAnthropicError, statusForErrorType } from './parse-error.js';
import { badResponse, decodeStopReason, mergeWireUsage, parseUpstreamJson, readWireUsage, toCanonicalUsage, type WireUsage } from './parse-response.js';

export interface AnthropicStreamOptions {
  provider: string;
  /** The prompt's token count for usage the provider does not report; never the request (AttemptContext.promptTokens). */
  promptTokens: () => number;
  /** Forward each upstream event as a `raw` event (Anthropic-dialect client) instead of canonical ones. */
  passthrough: boolean;
  secrets: readonly string[];
  /** The forced JSON tool (response_format), whose input streams out as the answer's text. */
  jsonTool?: string | undefined;
}

type Json = Record<string, unknown>;

/** What each content block index holds, for routing its deltas. */
type BlockKind = { kind: 'text' } | { kind: 'json' } | { kind: 'tool'; toolIndex: number } | { kind: 'thinking' } | { kind: 'other' };

/**
 * Turns Anthropic Messages SSE into canonical events, ending with `usage` also when it fails (what
 * was generated is billed, then the error is rethrown). A stream is complete only with
 * `message_stop`; `event: error` becomes the matching GatewayError. In passthrough mode every event
 * but `error` is forwarded raw (the client's encoder writes its own error event) and only the
 * closing usage is canonical.
 */
export async function* parseAnthropicStream(events: AsyncIterable<SseEvent>, options: AnthropicStreamOptions): AsyncGenerator<StreamEvent> {
  const state = new StreamState(options);
  try {
    for await (const sse of events) {
      if (state.stopped) continue;
      const data = parseUpstreamJson(sse.data, options.provider, 'a stream event');
      if (typeof data !== 'object' || data === null || Array.isArray(data)) throw badResponse(options.provider, 'a stream event that is not an object');
      const json = data as Json;
      const type = typeof json.type === 'string' ? json.type : (sse.event ?? '');
      if (type === 'error') throw parseAnthropicError(statusForErrorType(errorType(json)), json, undefined, options.secrets, options.provider);
      if (options.passthrough) {
        yield { type: 'raw', dialect: ANTHROPIC_MESSAGES_DIALECT, event: sse.event ?? type, data: sse.data };
        state.observe(type, json);
      } else {
        yield* state.handle(type, json);
      }
    }
    if (!state.stopped) throw new GatewayError('BB_UPSTREAM_CONNECT', `Provider "${options.provider}" ended the stream before it was complete.`);
  } catch (error) {
    yield { type: 'usage', usage: state.usage(false) };
    throw error;
  }
  yield { type: 'usage', usage: state.usage(true) };
}

function errorType(json: Json): string | undefined {
  const error = json.error;
  if (typeof error !== 'object' || error === null) return undefined;
  const type = (error as Json).type;
  return typeof type === 'string' ? type : undefined;
}

class StreamState {
  stopped = false;
  private wire: WireUsage | undefined;
  /** message_delta reported usage, so the output count is final. */
  private finalUsage = false;
  private finished = false;
  private readonly blocks = new Map<number, BlockKind>();
  private toolCount = 0;
  /** Everything generated, kept only to estimate output tokens if the stream breaks. */
  private generated = '';

  constructor(private readonly options: AnthropicStreamOptions) {}

  /** Reads what passthrough needs: usage, completeness, and the generated text for estimates. */
  observe(type: string, json: Json): void {
    for (const _event of this.handle(type, json)) {
      // Canonical events are not needed in passthrough; handling them keeps one code path.
    }
  }

  *handle(type: string, json: Json): Generator<StreamEvent> {
    switch (type) {
      case 'message_start': {
        const message = (typeof json.message === 'object' && json.message !== null ? json.message : {}) as Json;
        const usage = readWireUsage(message.usage);
        if (usage) this.wire = mergeWireUsage(this.wire, usage);
        const id = typeof message.id === 'string' ? message.id : '';
        const model = typeof message.model === 'string' ? message.model : '';
        yield { type: 'start', id, model, created: Math.floor(Date.now() / 1000) };
        return;
      }
      case 'content_block_start':
        yield* this.blockStart(indexOf(json), (typeof json.content_block === 'object' && json.content_block !== null ? json.content_block : {}) as Json);
        return;
      case 'content_block_delta':
        yield* this.blockDelta(indexOf(json), (typeof json.delta === 'object' && json.delta !== null ? json.delta : {}) as Json);
        return;
      case 'message_delta': {
        const usage = readWireUsage(json.usage);
        if (usage) {
          this.wire = mergeWireUsage(this.wire, usage);
          if (usage.output !== undefined) this.finalUsage = true;
        }
        const delta = (typeof json.delta === 'object' && json.delta !== null ? json.delta : {}) as Json;
        if (typeof delta.stop_reason === 'string') yield this.finish(delta.stop_reason, delta.stop_sequence);
        return;
      }
      case 'message_stop':
        this.stopped = true;
        if (!this.finished) yield this.finish(undefined, undefined);
        return;
      default:
        // ping, content_block_stop, and event types added later carry nothing to translate.
        return;
    }
  }

  private finish(stopReason: string | undefined, stopSequence: unknown): StreamEvent {
    this.finished = true;
    let reason = decodeStopReason(stopReason);
    if (reason === 'tool_calls' && this.options.jsonTool !== undefined && this.toolCount === 0) reason = 'stop';
    return typeof stopSequence === 'string' && stopReason === 'stop_sequence'
      ? { type: 'finish', index: 0, reason, stopSequence }
      : { type: 'finish', index: 0, reason };
  }

  private *blockStart(index: number, block: Json): Generator<StreamEvent> {
    if (block.type === 'text') {
      this.blocks.set(index, { kind: 'text' });
      if (typeof block.text === 'string' && block.text !== '') yield this.text(block.text);
    } else if (block.type === 'tool_use' && typeof block.id === 'string' && typeof block.name === 'string') {
      if (this.options.jsonTool !== undefined && block.name === this.options.jsonTool) {
        this.blocks.set(index, { kind: 'json' });
        return;
      }
      const toolIndex = this.toolCount++;
      this.blocks.set(index, { kind: 'tool', toolIndex });
      yield { type: 'tool-call', index: 0, toolIndex, id: block.id, name: block.name, argumentsDelta: '' };
    } else if (block.type === 'thinking') {
      this.blocks.set(index, { kind: 'thinking' });
      if (typeof block.thinking === 'string' && block.thinking !== '') yield this.reasoning(block.thinking);
    } else {
      // redacted_thinking, server tool blocks and later kinds have no canonical stream form.
      this.blocks.set(index, { kind: 'other' });
    }
  }

  private *blockDelta(index: number, delta: Json): Generator<StreamEvent> {
    const block = this.blocks.get(index);
    if (delta.type === 'text_delta' && typeof delta.text === 'string') {
      if (delta.text !== '') yield this.text(delta.text);
    } else if (delta.type === 'input_json_delta' && typeof delta.partial_json === 'string' && delta.partial_json !== '') {
      if (block?.kind === 'json') yield this.text(delta.partial_json);
      else if (block?.kind === 'tool') {
        this.generated += delta.partial_json;
        yield { type: 'tool-call', index: 0, toolIndex: block.toolIndex, argumentsDelta: delta.partial_json };
      }
    } else if (delta.type === 'thinking_delta' && typeof delta.thinking === 'string') {
      if (delta.thinking !== '') yield this.reasoning(delta.thinking);
    } else if (delta.type === 'signature_delta' && typeof delta.signature === 'string') {
      yield { type: 'reasoning', index: 0, text: '', signature: delta.signature };
    }
  }

  private text(text: string): StreamEvent {
    this.generated += text;
    return { type: 'text', index: 0, text };
  }

  private reasoning(text: string): StreamEvent {
    this.generated += text;
    return { type: 'reasoning', index: 0, text };
  }

  /**
   * The usage to bill. Complete streams report it exactly. A broken one keeps the upstream's input
   * count (from message_start) and, without a final output count, estimates the output generated.
   */
  usage(complete: boolean): Usage {
    if (this.wire === undefined) {
      return estimatedUsage(this.options.promptTokens, this.generated);
    }
    const usage = toCanonicalUsage(this.wire);
    if (!complete && !this.finalUsage) {
      usage.outputTokens = Math.max(usage.outputTokens, countTextTokens(this.generated));
      usage.estimated = true;
    }
    return usage;
  }
}

function indexOf(json: Json): number {
  return typeof json.index === 'number' ? json.index : 0;
}
