import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { StreamEvent } from '../../core/canonical.js';
import type { StreamRequest } from '../dialect.js';
import { OpenAIStreamEncoder } from './encode-stream.js';

const request: StreamRequest = { streamUsage: false, promptTokens: () => 0 };

/** What the encoder wrote before chunks were assembled around the delta: JSON.stringify of the whole chunk. */
function reference(id: string, created: number, model: string, index: number, delta: Record<string, unknown>, finishReason: string | null): string {
  return `data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created, model, choices: [{ index, delta, logprobs: null, finish_reason: finishReason }] })}\n\n`;
}

test('chunks are byte for byte the JSON of the whole chunk object', () => {
  const encoder = new OpenAIStreamEncoder(request);
  const id = 'chatcmpl-"quoted"\\id';
  const model = 'gpt-4o-mini\u2028';
  const events: StreamEvent[] = [
    { type: 'start', id, model, created: 1_700_000_000 },
    { type: 'text', index: 0, text: 'Hello "world"\n\u0000' },
    { type: 'text', index: 0, text: ' again' },
    { type: 'tool-call', index: 1, toolIndex: 0, id: 'call_1', name: 'lookup', argumentsDelta: '{"a":' },
    { type: 'reasoning', index: 0, text: 'thinking' },
    { type: 'finish', index: 0, reason: 'stop' },
  ];
  const out = events.map((event) => encoder.encode(event));
  assert.equal(out[0], '');
  assert.equal(out[1], reference(id, 1_700_000_000, model, 0, { role: 'assistant', content: 'Hello "world"\n\u0000' }, null));
  assert.equal(out[2], reference(id, 1_700_000_000, model, 0, { content: ' again' }, null));
  assert.equal(out[3], reference(id, 1_700_000_000, model, 1, { role: 'assistant', tool_calls: [{ index: 0, id: 'call_1', type: 'function', function: { arguments: '{"a":', name: 'lookup' } }] }, null));
  assert.equal(out[4], reference(id, 1_700_000_000, model, 0, { reasoning_content: 'thinking' }, null));
  assert.equal(out[5], reference(id, 1_700_000_000, model, 0, {}, 'stop'));
});
