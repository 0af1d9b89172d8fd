import { EventStreamCodec } from '@smithy/eventstream-codec';
import { fromUtf8, toUtf8 } from '@smithy/util-utf8';

/**
 * Incremental reader of the AWS event-stream framing (`application/vnd.amazon.eventstream`): a
 * frame is a 4-byte big-endian total length, a 4-byte header length, a prelude CRC, headers, a
 * payload and a message CRC. Network chunks split frames anywhere and may hold several; bytes are
 * buffered only until the frame they belong to is complete, then the codec checks both CRCs and
 * parses the headers.
 */

/** One decoded frame: the headers this adapter reads (all strings on Bedrock) and the payload. */
export interface EventFrame {
  /** `event`, `exception` or `error`. */
  messageType: string;
  /** `:event-type` for events, `:exception-type` for exceptions, `:error-code` for errors. */
  type: string;
  /** The payload as text (JSON on Bedrock), or `:error-message` for `error` frames. */
  body: string;
}

/** Smallest frame: prelude (8) + prelude CRC (4) + message CRC (4). */
const MIN_FRAME = 16;
/** A frame larger than this is taken as corrupt framing rather than buffered without end. */
const MAX_FRAME = 16 * 1024 * 1024;

/** Broken framing; `truncated` when the bytes simply stopped in the middle of a frame. */
export class EventStreamError extends Error {
  constructor(
    message: string,
    readonly truncated = false,
  ) {
    super(message);
  }
}

export class EventStreamDecoder {
  private readonly codec = new EventStreamCodec(toUtf8, fromUtf8);
  private readonly decoder = new TextDecoder('utf-8');
  private chunks: Uint8Array[] = [];
  private buffered = 0;
  /** Bytes needed before the next frame can be read: 4 for its length, then its whole length. */
  private needed = 4;

  /** Feeds one network chunk; returns the frames it completed (zero, one or several). */
  push(chunk: Uint8Array): EventFrame[] {
    if (chunk.byteLength === 0) return [];
    this.chunks.push(chunk);
    this.buffered += chunk.byteLength;
    if (this.buffered < this.needed) return [];
    const data = this.chunks.length === 1 ? (this.chunks[0] as Uint8Array) : concat(this.chunks, this.buffered);
    const frames: EventFrame[] = [];
    let offset = 0;
    for (;;) {
      const left = data.byteLength - offset;
      if (left < 4) {
        this.needed = 4;
        break;
      }
      const length = new DataView(data.buffer, data.byteOffset + offset, 4).getUint32(0, false);
      if (length < MIN_FRAME || length > MAX_FRAME) throw new EventStreamError(`an event-stream frame of impossible length ${length}`);
      if (left < length) {
        this.needed = length;
        break;
      }
      frames.push(this.decodeFrame(data.subarray(offset, offset + length)));
      offset += length;
    }
    // Keep only the unread tail, copied so a large consumed chunk is not retained by a view
    // (Buffer#slice would return a view, hence the Uint8Array method).
    const rest = data.byteLength - offset;
    this.chunks = rest === 0 ? [] : [Uint8Array.prototype.slice.call(data, offset)];
    this.buffered = rest;
    return frames;
  }

  /** True when no partial frame is waiting; a stream that ends otherwise was cut mid-frame. */
  get idle(): boolean {
    return this.buffered === 0;
  }

  private decodeFrame(bytes: Uint8Array): EventFrame {
    let message;
    try {
      message = this.codec.decode(bytes);
    } catch (error) {
      throw new EventStreamError(`a corrupt event-stream frame (${error instanceof Error ? error.message : 'unreadable'})`);
    }
    const header = (name: string): string => {
      const value = message.headers[name];
      return value !== undefined && value.type === 'string' ? value.value : '';
    };
    const messageType = header(':message-type') || 'event';
    if (messageType === 'error') return { messageType, type: header(':error-code'), body: header(':error-message') };
    const type = messageType === 'exception' ? header(':exception-type') : header(':event-type');
    return { messageType, type, body: this.decoder.decode(message.body) };
  }
}

function concat(chunks: Uint8Array[], total: number): Uint8Array {
  const out = new Uint8Array(total);
  let at = 0;
  for (const chunk of chunks) {
    out.set(chunk, at);
    at += chunk.byteLength;
  }
  return out;
}

/** Decodes a byte stream into frames as bytes arrive, pulling (and so back-pressuring) the source. */
export async function* decodeEventStream(body: AsyncIterable<Uint8Array>): AsyncGenerator<EventFrame> {
  const decoder = new EventStreamDecoder();
  for await (const chunk of body) {
    for (const frame of decoder.push(chunk)) yield frame;
  }
  if (!decoder.idle) throw new EventStreamError('an event stream that ends in the middle of a frame', true);
}
