import assert from 'node:assert/strict';
import { test } from 'node:test';
import { seededRandom } from '../../core/seeded-random.js';
import { decodeChatRequest } from './decode.js';
import { plainChatRequest } from './request-fast-path.js';
import { chatRequestSchema } from './request-schema.js';

/** The contract: whatever the fast path passes, the schema passes with equal output. Returns whether it took the fast path. */
function agreesWithSchema(body: unknown): boolean {
  const fast = plainChatRequest(body);
  if (fast === undefined) return false;
  const parsed = chatRequestSchema.safeParse(body);
  assert.ok(parsed.success, `the fast path passed a body the schema rejects: ${JSON.stringify(body)}`);
  assert.deepStrictEqual(fast, parsed.data, `outputs differ for ${JSON.stringify(body)}`);
  return true;
}

const json = (text: string): unknown => JSON.parse(text);

test('the common request shapes take the fast path and decode as through the schema', () => {
  const bodies = [
    { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Hi' }] },
    {
      model: 'bench',
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'Where is my parcel?', name: 'ana' },
      ],
      max_tokens: 256,
      stream: true,
      stream_options: { include_usage: true },
      bench: { chunks: 3 },
    },
    {
      model: 'm',
      messages: [
        { role: 'developer', content: 'Rules.' },
        { role: 'user', content: 'Call it.' },
        { role: 'assistant', content: null, refusal: null },
        { role: 'tool', content: '42', tool_call_id: 'call_1' },
        { role: 'assistant', content: 'It is 42.' },
      ],
      temperature: 0.2,
      top_p: 1,
      n: 2,
      stop: ['\n\n', 'END'],
      seed: -7,
      presence_penalty: -2,
      frequency_penalty: 1.5,
      max_completion_tokens: 10,
      user: 'u-1',
      reasoning_effort: 'low',
      parallel_tool_calls: false,
      logprobs: true,
      stream: null,
      stream_options: null,
    },
  ];
  for (const body of bodies) assert.equal(agreesWithSchema(json(JSON.stringify(body))), true, JSON.stringify(body));
});

test('a request decoded on the fast path shares no array with the client body it keeps as source', () => {
  const body = json('{"model":"m","messages":[{"role":"user","content":"Hi"}],"stop":["END"]}') as { stop: string[] };
  const request = decodeChatRequest(body);
  assert.equal(request.source?.body, body);
  assert.deepEqual(request.stop, ['END']);
  assert.notEqual(request.stop, body.stop);
});

test('nested shapes and anything doubtful go to the schema', () => {
  const base = { model: 'm', messages: [{ role: 'user', content: 'Hi' }] };
  const doubtful: unknown[] = [
    { ...base, messages: [{ role: 'user', content: [{ type: 'text', text: 'Hi' }] }] },
    { ...base, tools: [{ type: 'function', function: { name: 'f' } }] },
    { ...base, tool_choice: 'auto' },
    { ...base, response_format: { type: 'json_object' } },
    { ...base, metadata: { a: 'b' } },
    { ...base, messages: [{ role: 'assistant', content: null, tool_calls: [{ id: 'c', type: 'function', function: { name: 'f', arguments: '{}' } }] }] },
    json('{"model":"m","messages":[{"role":"user","content":"Hi"}],"__proto__":{"polluted":true}}'),
    json('{"model":"m","messages":[{"role":"user","content":"Hi","__proto__":{"polluted":true}}]}'),
    { ...base, model: '' },
    { ...base, messages: [] },
    { ...base, max_tokens: 0 },
    { ...base, max_tokens: 2 ** 60 },
    { ...base, temperature: 2.5 },
    { ...base, stop: ['a', 'b', 'c', 'd', 'e'] },
    { ...base, user: null },
    { ...base, messages: [{ role: 'bot', content: 'Hi' }] },
    { ...base, messages: [{ role: 'tool', content: 'x' }] },
    [base],
    null,
    'text',
  ];
  for (const body of doubtful) assert.equal(plainChatRequest(body), undefined, JSON.stringify(body));
});

test('on random variations the fast path never passes what the schema would not (seeded)', () => {
  const { next: random, pick } = seededRandom(20261129);
  const values: unknown[] = [
    undefined, null, true, false, 0, -1, 1, 1.5, 2, 2.5, 3, 128, 129, -2, -2.5, 2 ** 53, '', 'x', 'user', [], ['a'], ['a', 'b', 'c', 'd', 'e'], [1], {}, { include_usage: true },
    { include_usage: 'yes' }, [{ type: 'text', text: 'hi' }], { role: 'user', content: 'hi' },
  ];
  const topFields = [
    'model', 'messages', 'stream', 'stream_options', 'max_tokens', 'max_completion_tokens', 'temperature', 'top_p', 'n', 'stop', 'seed',
    'presence_penalty', 'frequency_penalty', 'user', 'reasoning_effort', 'parallel_tool_calls', 'tools', 'metadata', 'logprobs',
  ];
  const messageFields = ['role', 'content', 'name', 'tool_call_id', 'tool_calls', 'refusal'];
  const roles = ['system', 'developer', 'user', 'assistant', 'tool', 'bot', 1];
  let fast = 0;
  let rejected = 0;
  for (let sample = 0; sample < 5000; sample += 1) {
    const body: Record<string, unknown> = {
      model: 'm',
      messages: [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'Hi' }],
      max_tokens: 16,
      temperature: 1,
    };
    const changes = 1 + Math.floor(random() * 3);
    for (let change = 0; change < changes; change += 1) {
      if (random() < 0.5) {
        body[pick(topFields)] = pick(values);
      } else {
        const messages = Array.isArray(body.messages) ? (body.messages as Record<string, unknown>[]) : (body.messages = [{ role: 'user', content: 'Hi' }]) as Record<string, unknown>[];
        const message = messages[Math.floor(random() * messages.length)];
        if (message === undefined || typeof message !== 'object' || message === null) continue;
        const field = pick(messageFields);
        message[field] = field === 'role' ? pick(roles) : pick(values);
      }
    }
    const parsedBody = json(JSON.stringify(body));
    if (agreesWithSchema(parsedBody)) fast += 1;
    if (!chatRequestSchema.safeParse(parsedBody).success) rejected += 1;
  }
  // Not vacuous: many variations took the fast path, and many were invalid.
  assert.ok(fast > 500, `fast path taken ${fast} times`);
  assert.ok(rejected > 500, `schema rejected ${rejected} variations`);
});
