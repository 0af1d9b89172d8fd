import type { StreamEvent } from '../../core/canonical.js';
import type { GatewayError } from '../../core/errors.js';
import type { StreamEncoder, StreamRequest } from '../dialect.js';
import { encodeFinishReason, encodeUsage } from './encode.js';
import { openAIErrorObject } from './encode-error.js';
import { OPENAI_DIALECT } from './decode.js';

/**
 * Encodes canonical events as OpenAI `chat.completion.chunk` SSE events. The first chunk of each
 * choice carries the assistant role, as OpenAI's own streams do; usage goes out as a final
 * chunk with empty `choices` only when the client asked for it.
 */
export class OpenAIStreamEncoder implements StreamEncoder {
  private id = '';
  private model = '';
  private created = 0;
  /**
   * Choice indexes that have had their first chunk. Made as a one-element literal on first use: a
   * Set, or an empty array grown by push (17 slots), costs more per open stream.
   */
  private startedChoices: number[] | undefined;
  /** Set once a passthrough chunk was written: the stream's own chunks then carry everything. */
  private raw = false;

  constructor(private readonly request: StreamRequest) {}

  encode(event: StreamEvent): string {
    // After a passthrough chunk, only usage the raw chunks did not carry is still ours to write.
    if (this.raw && event.type !== 'raw' && event.type !== 'usage') return '';
    switch (event.type) {
      case 'raw':
        if (event.dialect !== OPENAI_DIALECT) return '';
        this.raw = true;
        return `data: ${event.data}\n\n`;
      case 'start':
        this.id = event.id;
        this.model = event.model;
        this.created = event.created;
        return '';
      case 'text':
        return this.chunk(event.index, { content: event.text }, null);
      case 'tool-call': {
        const call: Record<string, unknown> = { index: event.toolIndex };
        if (event.id !== undefined) {
          call.id = event.id;
          call.type = 'function';
        }
        const fn: Record<string, string> = { arguments: event.argumentsDelta };
        if (event.name !== undefined) fn.name = event.name;
        call.function = fn;
        return this.chunk(event.index, { tool_calls: [call] }, null);
      }
      case 'reasoning':
        // OpenAI's API streams no reasoning text; OpenAI-compatible servers use reasoning_content.
        return event.text === '' ? '' : this.chunk(event.index, { reasoning_content: event.text }, null);
      case 'finish':
        return this.chunk(event.index, {}, encodeFinishReason(event.reason));
      case 'usage':
        if (!this.request.streamUsage || event.inRaw === true) return '';
        return this.data({ choices: [], usage: encodeUsage(event.usage) });
    }
  }

  end(): string {
    return 'data: [DONE]\n\n';
  }

  /** OpenAI's own mid-stream error form: a data event holding an `error` object, then nothing. */
  error(error: GatewayError): string {
    return `data: ${JSON.stringify({ error: openAIErrorObject(error) })}\n\n`;
  }

  private chunk(index: number, delta: Record<string, unknown>, finishReason: string | null): string {
    const started = this.startedChoices;
    if (started === undefined || !started.includes(index)) {
      if (started === undefined) this.startedChoices = [index];
      else started.push(index);
      delta = { role: 'assistant', ...(delta.content === undefined && delta.tool_calls === undefined ? { content: '' } : {}), ...delta };
    }
    // The chunk object's JSON written around the delta's, byte for byte what JSON.stringify of
    // { id, object, created, model, choices: [...] } gives: a few objects less per chunk.
    return `data: ${this.head()}"choices":[{"index":${index},"delta":${JSON.stringify(delta)},"logprobs":null,"finish_reason":${JSON.stringify(finishReason)}}]}\n\n`;
  }

  /** `{"id":…,"object":"chat.completion.chunk","created":…,"model":…,` (not kept: an open stream holds less). */
  private head(): string {
    return `{"id":${JSON.stringify(this.id)},"object":"chat.completion.chunk","created":${JSON.stringify(this.created)},"model":${JSON.stringify(this.model)},`;
  }

  private data(body: Record<string, unknown>): string {
    const chunk = { id: this.id, object: 'chat.completion.chunk', created: this.created, model: this.model, ...body };
    return `data: ${JSON.stringify(chunk)}\n\n`;
  }
}
