/**
 * Incremental Server-Sent Events parser (WHATWG event-stream rules): bytes in any chunking, UTF-8
 * split across chunks, CRLF or LF line ends, comments, multi-line data. It is on the hot path of
 * every stream, so it works on strings with indexOf rather than regexes or per-byte loops.
 */
export interface SseEvent {
  /** The `event:` field; undefined means the default "message". */
  event: string | undefined;
  data: string;
}

export class SseParser {
  private readonly decoder = new TextDecoder('utf-8');
  private pending = '';
  private eventName: string | undefined = undefined;
  private dataLines: string[] = [];

  /** Feeds one chunk; returns the events it completed (often zero or one). */
  push(chunk: Uint8Array | string): SseEvent[] {
    const text = typeof chunk === 'string' ? chunk : this.decoder.decode(chunk, { stream: true });
    return this.consume(this.pending === '' ? text : this.pending + text, false);
  }

  /** Ends the stream; a final event without its blank line is still delivered. */
  end(): SseEvent[] {
    const rest = this.pending + this.decoder.decode();
    this.pending = '';
    const events = this.consume(rest.endsWith('\n') ? rest : `${rest}\n`, true);
    const last = this.dispatch();
    if (last) events.push(last);
    return events;
  }

  private consume(text: string, final: boolean): SseEvent[] {
    const events: SseEvent[] = [];
    let start = 0;
    for (;;) {
      const newline = nextLineEnd(text, start);
      if (newline === -1) break;
      // A CR at the very end may be the first half of a CRLF split across chunks.
      if (!final && text.charCodeAt(newline) === 13 && newline === text.length - 1) break;
      const line = text.slice(start, newline);
      start = text.charCodeAt(newline) === 13 && text.charCodeAt(newline + 1) === 10 ? newline + 2 : newline + 1;
      const event = this.processLine(line);
      if (event) events.push(event);
    }
    this.pending = start === 0 ? text : text.slice(start);
    return events;
  }

  private processLine(line: string): SseEvent | undefined {
    if (line === '') return this.dispatch();
    if (line.charCodeAt(0) === 58 /* ':' comment */) return undefined;
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.charCodeAt(0) === 32) value = value.slice(1);
    if (field === 'data') this.dataLines.push(value);
    else if (field === 'event') this.eventName = value;
    return undefined;
  }

  private dispatch(): SseEvent | undefined {
    if (this.dataLines.length === 0) {
      this.eventName = undefined;
      return undefined;
    }
    const data = this.dataLines.length === 1 ? (this.dataLines[0] as string) : this.dataLines.join('\n');
    const event: SseEvent = { event: this.eventName, data };
    this.dataLines = [];
    this.eventName = undefined;
    return event;
  }
}

function nextLineEnd(text: string, from: number): number {
  const lf = text.indexOf('\n', from);
  const cr = text.indexOf('\r', from);
  if (cr === -1) return lf;
  if (lf === -1) return cr;
  return cr < lf ? cr : lf;
}

/** Parses a byte stream into SSE events, pulling (and so back-pressuring) the source as it goes. */
export async function* parseSseStream(body: AsyncIterable<Uint8Array | string>): AsyncGenerator<SseEvent> {
  const parser = new SseParser();
  for await (const chunk of body) {
    for (const event of parser.push(chunk)) yield event;
  }
  for (const event of parser.end()) yield event;
}
