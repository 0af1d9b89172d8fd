import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { guardrailsSchema } from '../../config/guardrails-schema.js';
import type { StreamEvent } from '../../core/canonical.js';
import type { GuardDecision } from '../../core/request-record.js';
import { PlaceholderVault } from './detect/index.js';
import { OutputGuard } from './output-guard.js';

async function collect(events: AsyncIterable<StreamEvent>): Promise<StreamEvent[]> {
  const out: StreamEvent[] = [];
  for await (const event of events) out.push(event);
  return out;
}

async function* from(events: StreamEvent[]): AsyncGenerator<StreamEvent> {
  for (const event of events) yield event;
}

/** Splits `text` into deltas of `size` characters. */
function pieces(text: string, size: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < text.length; i += size) out.push(text.slice(i, i + size));
  return out;
}

describe('output guard', () => {
  it('restores a tokenized value inside streamed tool-call arguments split at every size, keeping the JSON valid', async () => {
    const vault = new PlaceholderVault();
    const placeholder = vault.placeholderFor('email', 'o\'brien "the boss"@example.com');
    const args = JSON.stringify({ to: placeholder, subject: 'hi' });
    for (let size = 1; size <= 6; size += 1) {
      const filter = new OutputGuard(guardrailsSchema.parse({})).filterFor(vault, []);
      assert.ok(filter);
      const events: StreamEvent[] = [
        { type: 'tool-call', index: 0, toolIndex: 0, id: 'call_1', name: 'send', argumentsDelta: '' },
        ...pieces(args, size).map((delta): StreamEvent => ({ type: 'tool-call', index: 0, toolIndex: 0, argumentsDelta: delta })),
        { type: 'finish', index: 0, reason: 'tool_calls' },
      ];
      const out = await collect(filter.stream(from(events)));
      const joined = out.map((event) => (event.type === 'tool-call' ? event.argumentsDelta : '')).join('');
      assert.deepEqual(JSON.parse(joined), { to: 'o\'brien "the boss"@example.com', subject: 'hi' }, `split every ${size}`);
      assert.equal(out.at(-1)?.type, 'finish', 'held-back text comes before the finish event');
    }
  });

  it('never emits any piece of a secret split across text deltas, and records the decision', async () => {
    const key = 'AKIAZ3MHQ6XQ2RT5WN7P';
    const text = `the key is ${key} ok`;
    for (let size = 1; size <= 7; size += 1) {
      const decisions: GuardDecision[] = [];
      const filter = new OutputGuard(guardrailsSchema.parse({ output: { secrets: 'redact' } })).filterFor(undefined, decisions);
      assert.ok(filter);
      const out = await collect(filter.stream(from(pieces(text, size).map((delta): StreamEvent => ({ type: 'text', index: 0, text: delta })))));
      const emitted = out.map((event) => (event.type === 'text' ? event.text : '')).join('');
      assert.equal(emitted, 'the key is [SECRET] ok');
      for (const event of out) if (event.type === 'text') assert.doesNotMatch(event.text, /AKIA|Z3MH|WN7P/);
      assert.deepEqual(decisions, [{ guard: 'output', entity: 'secret', action: 'redact', where: 'output' }]);
    }
  });

  it('scans shown reasoning too, streamed and whole', async () => {
    const filter = new OutputGuard(guardrailsSchema.parse({ output: { secrets: 'redact' } })).filterFor(undefined, []);
    assert.ok(filter);
    const out = await collect(filter.stream(from(pieces('thinking: AKIAZ3MHQ6XQ2RT5WN7P ok', 4).map((delta): StreamEvent => ({ type: 'reasoning', index: 0, text: delta })))));
    assert.equal(out.map((event) => (event.type === 'reasoning' ? event.text : '')).join(''), 'thinking: [SECRET] ok');
    const whole = filter.response({ id: 'r', model: 'm', created: 0, usage: { inputTokens: 1, outputTokens: 1 }, choices: [{ index: 0, content: 'fine', finishReason: 'stop', reasoning: [{ text: 'key AKIAZ3MHQ6XQ2RT5WN7P' }] }] });
    assert.equal(whole.choices[0]?.reasoning?.[0]?.text, 'key [SECRET]');
  });

  it('terminate throws before any part of the value is emitted', async () => {
    const filter = new OutputGuard(guardrailsSchema.parse({ output: { entities: { email: 'terminate' } } })).filterFor(undefined, []);
    assert.ok(filter);
    const emitted: string[] = [];
    await assert.rejects(
      (async () => {
        for await (const event of filter.stream(from(pieces('write to carol@example.net now', 3).map((delta): StreamEvent => ({ type: 'text', index: 0, text: delta })))))
          if (event.type === 'text') emitted.push(event.text);
      })(),
      /email/,
    );
    assert.doesNotMatch(emitted.join(''), /carol|example\.net/);
  });
});
