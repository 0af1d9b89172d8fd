import assert from 'node:assert/strict';
import { test } from 'node:test';
import { seededRandom } from '../../core/seeded-random.js';
import { chunkSchema, decodeStreamChunk } from './stream-chunk.js';

/** The contract: what decodeStreamChunk returns equals the schema's output, and it refuses what the schema refuses. */
function agreesWithSchema(value: unknown): boolean {
  const decoded = decodeStreamChunk(value);
  const parsed = chunkSchema.safeParse(value);
  if (!parsed.success) {
    assert.equal(decoded, undefined, `passed a chunk the schema rejects: ${JSON.stringify(value)}`);
    return false;
  }
  assert.deepStrictEqual(decoded, parsed.data, `outputs differ for ${JSON.stringify(value)}`);
  return decoded === value;
}

const json = (text: string): unknown => JSON.parse(text);
const HEAD = '"id":"chatcmpl-1","object":"chat.completion.chunk","created":1700000000,"model":"gpt-4o-mini-2024-07-18","system_fingerprint":"fp_1"';

test('the chunks a stream is made of pass by hand, unchanged, as the schema would pass them', () => {
  const chunks = [
    `{${HEAD},"choices":[{"index":0,"delta":{"role":"assistant","content":"","refusal":null},"logprobs":null,"finish_reason":null}]}`,
    `{${HEAD},"choices":[{"index":0,"delta":{"content":" token"},"logprobs":null,"finish_reason":null}]}`,
    `{${HEAD},"choices":[{"index":0,"delta":{},"logprobs":null,"finish_reason":"stop"}]}`,
    `{${HEAD},"choices":[],"usage":{"prompt_tokens":9,"completion_tokens":12,"total_tokens":21}}`,
    `{${HEAD},"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"call_1","type":"function","function":{"name":"get_weather","arguments":""}}]},"finish_reason":null}]}`,
    `{${HEAD},"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\\"ci"}}]},"finish_reason":null}]}`,
    `{"id":"x","choices":[{"index":0,"delta":{"content":"hi"},"finish_reason":null}],"x_groq":{"id":"req_1","usage":{"prompt_tokens":1}}}`,
    '{"choices":[],"prompt_filter_results":[{"prompt_index":0}]}',
  ];
  for (const text of chunks) assert.equal(agreesWithSchema(json(text)), true, text);
});

test('a chunk of the wrong shape, or a doubtful one, goes to the schema', () => {
  const refused = [
    '[]', 'null', '"text"', '7',
    '{"choices":{"index":0}}',
    '{"choices":[{"delta":{"content":"x"}}]}',
    '{"choices":[{"index":"0","delta":{"content":"x"}}]}',
    '{"choices":[{"index":0,"delta":{"content":7}}]}',
    '{"choices":[{"index":0,"delta":{"tool_calls":[{"id":"c"}]}}]}',
    '{"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"name":3}}]}}]}',
    '{"id":5,"choices":[]}',
    '{"created":"now","choices":[]}',
    '{"x_groq":"usage","choices":[]}',
  ];
  for (const text of refused) {
    assert.equal(decodeStreamChunk(json(text)), undefined, text);
    assert.equal(chunkSchema.safeParse(json(text)).success, false, text);
  }
  // An own __proto__ key is left to the schema, whatever it makes of it.
  agreesWithSchema(json(`{${HEAD},"__proto__":{"polluted":true},"choices":[]}`));
  assert.equal(({} as { polluted?: unknown }).polluted, undefined);
});

test('on random variations the hand check never passes what the schema would not, and agrees on output (seeded)', () => {
  const { next: random, pick } = seededRandom(20261129);
  const values: unknown[] = [undefined, null, true, 0, 1, -1.5, '', 'x', 'stop', [], [1], ['a'], {}, { a: 1 }, [{}], [{ index: 0 }], { content: 'x' }];
  const topFields = ['id', 'model', 'created', 'choices', 'usage', 'x_groq', 'error', 'object'];
  const choiceFields = ['index', 'delta', 'finish_reason', 'logprobs'];
  const deltaFields = ['content', 'role', 'tool_calls', 'refusal'];
  const callFields = ['index', 'id', 'type', 'function'];
  const functionFields = ['name', 'arguments'];
  let byHand = 0;
  let rejected = 0;
  for (let sample = 0; sample < 5000; sample += 1) {
    const chunk = json(
      `{${HEAD},"choices":[{"index":0,"delta":{"content":"a","tool_calls":[{"index":0,"id":"c","function":{"name":"f","arguments":"{}"}}]},"finish_reason":null}]}`,
    ) as Record<string, unknown>;
    const changes = 1 + Math.floor(random() * 2);
    for (let change = 0; change < changes; change += 1) {
      const choice = (chunk.choices as Record<string, unknown>[] | undefined)?.[0];
      const delta = choice?.delta as Record<string, unknown> | undefined;
      const call = (delta?.tool_calls as Record<string, unknown>[] | undefined)?.[0];
      const fn = call?.function as Record<string, unknown> | undefined;
      const level = Math.floor(random() * 5);
      const target = [chunk, choice, delta, call, fn][level];
      const fields = [topFields, choiceFields, deltaFields, callFields, functionFields][level] as string[];
      if (typeof target !== 'object' || target === null || Array.isArray(target)) continue;
      const field = pick(fields);
      const value = structuredClone(pick(values));
      if (value === undefined) delete target[field];
      else target[field] = value;
    }
    const value = json(JSON.stringify(chunk));
    if (agreesWithSchema(value)) byHand += 1;
    if (!chunkSchema.safeParse(value).success) rejected += 1;
  }
  // Not vacuous: many variations passed by hand, and many were of the wrong shape.
  assert.ok(byHand > 1000, `passed by hand ${byHand} times`);
  assert.ok(rejected > 1000, `the schema rejected ${rejected} variations`);
});
