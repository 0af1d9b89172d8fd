import type { FinishReason, StreamEvent, Usage } from '../../core/canonical.js';
import { ANTHROPIC_MESSAGES_DIALECT } from '../../core/dialect-names.js';
import type { GatewayError } from '../../core/errors.js';
import type { StreamEncoder, StreamRequest } from '../dialect.js';
import { anthropicErrorObject, encodeAnthropicUsage, encodeStopReason } from './encode.js';

type BlockKind = 'text' | 'thinking' | 'tool_use';

interface Block {
  index: number;
  kind: BlockKind;
  open: boolean;
}

function sse(event: string, data: Record<string, unknown>): string {
  return `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}

/**
 * Encodes canonical events as Anthropic's SSE stream: message_start, content blocks (text, thinking,
 * tool_use with input_json_delta) opened and closed in order, message_delta with the stop reason and
 * usage, message_stop. Raw events from an Anthropic upstream (passthrough) are written unchanged,
 * and then the canonical events of that stream are ignored, so nothing is sent twice.
 */
export class AnthropicStreamEncoder implements StreamEncoder {
  private id = '';
  private model = '';
  private started = false;
  private raw = false;
  private readonly blocks: Block[] = [];
  private current: Block | undefined;
  private readonly toolBlocks = new Map<number, Block>();
  private finishReason: FinishReason = 'stop';
  private stopSequence: string | undefined;
  private usage: Usage | undefined;

  constructor(private readonly request: StreamRequest) {}

  encode(event: StreamEvent): string {
    if (event.type === 'raw') {
      if (event.dialect !== ANTHROPIC_MESSAGES_DIALECT) return '';
      this.raw = true;
      return `event: ${event.event ?? 'message'}\ndata: ${event.data}\n\n`;
    }
    if (this.raw) return '';
    switch (event.type) {
      case 'start':
        this.id = event.id;
        this.model = event.model;
        return '';
      case 'text':
        return event.index !== 0 || event.text === '' ? '' : this.open('text') + this.delta({ type: 'text_delta', text: event.text });
      case 'reasoning': {
        if (event.index !== 0) return '';
        let out = this.open('thinking');
        if (event.text !== '') out += this.delta({ type: 'thinking_delta', thinking: event.text });
        if (event.signature !== undefined) out += this.delta({ type: 'signature_delta', signature: event.signature });
        return out;
      }
      case 'tool-call':
        return event.index !== 0 ? '' : this.toolCall(event.toolIndex, event.id, event.name, event.argumentsDelta);
      case 'finish':
        if (event.index === 0) {
          this.finishReason = event.reason;
          this.stopSequence = event.stopSequence;
        }
        return '';
      case 'usage':
        this.usage = event.usage;
        return '';
    }
  }

  end(): string {
    if (this.raw) return '';
    let out = this.messageStart();
    for (const block of this.blocks) out += this.close(block);
    const usage = this.usage ?? { inputTokens: this.request.promptTokens(), outputTokens: 0 };
    out += sse('message_delta', {
      type: 'message_delta',
      delta: { stop_reason: encodeStopReason(this.finishReason, this.stopSequence), stop_sequence: this.stopSequence ?? null },
      usage: encodeAnthropicUsage(usage),
    });
    return out + sse('message_stop', { type: 'message_stop' });
  }

  error(error: GatewayError): string {
    return sse('error', { type: 'error', error: anthropicErrorObject(error) });
  }

  /** message_start carries an estimate of the input tokens; message_delta corrects it at the end. */
  private messageStart(): string {
    if (this.started) return '';
    this.started = true;
    return sse('message_start', {
      type: 'message_start',
      message: {
        id: this.id,
        type: 'message',
        role: 'assistant',
        model: this.model,
        content: [],
        stop_reason: null,
        stop_sequence: null,
        usage: { input_tokens: this.request.promptTokens(), output_tokens: 0 },
      },
    });
  }

  /** Makes a text or thinking block current, closing the previous text or thinking block. */
  private open(kind: 'text' | 'thinking'): string {
    let out = this.messageStart();
    if (this.current?.kind === kind && this.current.open) return out;
    if (this.current && this.current.kind !== 'tool_use') out += this.close(this.current);
    const block = this.addBlock(kind);
    this.current = block;
    const contentBlock = kind === 'text' ? { type: 'text', text: '' } : { type: 'thinking', thinking: '' };
    return out + sse('content_block_start', { type: 'content_block_start', index: block.index, content_block: contentBlock });
  }

  /** Tool blocks stay open until the end, so argument deltas of parallel calls land by index. */
  private toolCall(toolIndex: number, id: string | undefined, name: string | undefined, argumentsDelta: string): string {
    let out = this.messageStart();
    let block = this.toolBlocks.get(toolIndex);
    if (!block) {
      if (this.current && this.current.kind !== 'tool_use') out += this.close(this.current);
      block = this.addBlock('tool_use');
      this.toolBlocks.set(toolIndex, block);
      this.current = block;
      const contentBlock = { type: 'tool_use', id: id ?? `toolu_${toolIndex}`, name: name ?? '', input: {} };
      out += sse('content_block_start', { type: 'content_block_start', index: block.index, content_block: contentBlock });
    }
    if (argumentsDelta !== '') {
      out += sse('content_block_delta', { type: 'content_block_delta', index: block.index, delta: { type: 'input_json_delta', partial_json: argumentsDelta } });
    }
    return out;
  }

  private addBlock(kind: BlockKind): Block {
    const block = { index: this.blocks.length, kind, open: true };
    this.blocks.push(block);
    return block;
  }

  private delta(delta: Record<string, unknown>): string {
    return sse('content_block_delta', { type: 'content_block_delta', index: (this.current as Block).index, delta });
  }

  private close(block: Block): string {
    if (!block.open) return '';
    block.open = false;
    return sse('content_block_stop', { type: 'content_block_stop', index: block.index });
  }
}
