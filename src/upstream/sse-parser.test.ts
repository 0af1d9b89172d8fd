import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseSseStream, SseParser } from './sse-parser.js';

function parseAll(chunks: Array<string | Uint8Array>) {
  const parser = new SseParser();
  const events = chunks.flatMap((chunk) => parser.push(chunk));
  return [...events, ...parser.end()];
}

describe('SseParser', () => {
  it('parses data events separated by blank lines', () => {
    const events = parseAll(['data: {"a":1}\n\ndata: [DONE]\n\n']);
    assert.deepEqual(events, [
      { event: undefined, data: '{"a":1}' },
      { event: undefined, data: '[DONE]' },
    ]);
  });

  it('gives the same events whatever the chunking, byte by byte included', () => {
    const text = 'event: message_start\ndata: {"x":"héllo ✓"}\n\n: keep-alive comment\n\ndata: line1\ndata: line2\n\n';
    const whole = parseAll([text]);
    const bytes = new TextEncoder().encode(text);
    const byteByByte = parseAll([...bytes].map((byte) => Uint8Array.of(byte)));
    assert.deepEqual(byteByByte, whole);
    assert.deepEqual(whole, [
      { event: 'message_start', data: '{"x":"héllo ✓"}' },
      { event: undefined, data: 'line1\nline2' },
    ]);
  });

  it('accepts CRLF line ends, also split between chunks', () => {
    assert.deepEqual(parseAll(['data: a\r', '\n\r\n', 'data: b\r\n\r\n']), [
      { event: undefined, data: 'a' },
      { event: undefined, data: 'b' },
    ]);
  });

  it('delivers a final event that lacks its blank line at the end of the stream', () => {
    assert.deepEqual(parseAll(['data: last']), [{ event: undefined, data: 'last' }]);
  });

  it('ignores comments and events without data, and keeps a value without the optional space', () => {
    assert.deepEqual(parseAll([': ping\n\nevent: ping\n\ndata:tight\n\n']), [{ event: undefined, data: 'tight' }]);
  });

  it('parses an async byte stream', async () => {
    async function* source() {
      yield new TextEncoder().encode('data: 1\n');
      yield new TextEncoder().encode('\ndata: 2\n\n');
    }
    const events = [];
    for await (const event of parseSseStream(source())) events.push(event.data);
    assert.deepEqual(events, ['1', '2']);
  });
});
