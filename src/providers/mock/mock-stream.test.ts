import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { StreamEvent } from '../../core/canonical.js';
import { GatewayError } from '../../core/errors.js';
import type { AttemptSignal } from '../provider-adapter.js';
import type { MockBehavior } from './behavior.js';
import { MockStream, type StreamReply } from './mock-stream.js';

function signal(): AttemptSignal & { abort(reason: unknown): void } {
  const listeners = new Set<() => void>();
  const self = {
    aborted: false,
    reason: undefined as unknown,
    addEventListener: (_type: 'abort', listener: () => void) => void listeners.add(listener),
    removeEventListener: (_type: 'abort', listener: () => void) => void listeners.delete(listener),
    toAbortSignal: () => new AbortController().signal,
    abort(reason: unknown) {
      self.aborted = true;
      self.reason = reason;
      for (const listener of [...listeners]) listener();
    },
  };
  return self;
}

const behavior = (overrides: Partial<MockBehavior> = {}): MockBehavior => ({
  replyMode: 'lorem', replyText: '', replyTokens: 4, ttftMs: 0, tokensPerSecond: 0, status: undefined, retryAfterSeconds: undefined,
  stallAfterTokens: undefined, disconnectAfterTokens: undefined, toolCall: undefined, ...overrides,
});
const reply: StreamReply = { id: 'chatcmpl-1', created: 1, model: 'mock', pieces: ['a', 'b', 'c', 'd'], truncated: false, toolCall: undefined, inputTokens: 7, toolTokens: 0 };

async function drain(stream: MockStream): Promise<{ events: StreamEvent[]; error: unknown }> {
  const events: StreamEvent[] = [];
  try {
    for await (const event of stream) events.push(event);
    return { events, error: undefined };
  } catch (error) {
    return { events, error };
  }
}

test('start, paced text, finish and usage, in order', async () => {
  const started = performance.now();
  const { events, error } = await drain(new MockStream(reply, behavior({ tokensPerSecond: 100, ttftMs: 20 }), signal(), 'mock'));
  assert.equal(error, undefined);
  assert.deepEqual(events.map((event) => event.type), ['start', ...events.slice(1, -2).map(() => 'text'), 'finish', 'usage']);
  assert.equal(events.filter((event) => event.type === 'text').map((event) => (event.type === 'text' ? event.text : '')).join(''), 'abcd');
  assert.deepEqual(events.at(-1), { type: 'usage', usage: { inputTokens: 7, outputTokens: 4 } });
  // ttft, then three more tokens at 10 ms each.
  assert.ok(performance.now() - started >= 45);
});

test('an injected disconnect reports estimated usage, then fails', async () => {
  const { events, error } = await drain(new MockStream(reply, behavior({ disconnectAfterTokens: 2 }), signal(), 'mock'));
  assert.equal((error as GatewayError).code, 'BB_UPSTREAM_CONNECT');
  assert.deepEqual(events.at(-1), { type: 'usage', usage: { inputTokens: 7, outputTokens: 2, estimated: true } });
});

test('aborted while stalled: estimated usage, then the abort reason', async () => {
  const attempt = signal();
  const stream = new MockStream(reply, behavior({ stallAfterTokens: 1 }), attempt, 'mock');
  const reason = new GatewayError('BB_CLIENT_CLOSED', 'gone');
  setTimeout(() => attempt.abort(reason), 20);
  const { events, error } = await drain(stream);
  assert.equal(error, reason);
  assert.deepEqual(events.at(-1), { type: 'usage', usage: { inputTokens: 7, outputTokens: 1, estimated: true } });
});

test('aborted before the first token: the abort reason alone', async () => {
  const attempt = signal();
  const stream = new MockStream(reply, behavior({ ttftMs: 10_000 }), attempt, 'mock');
  const reason = new GatewayError('BB_UPSTREAM_TIMEOUT', 'slow');
  setTimeout(() => attempt.abort(reason), 20);
  const { events, error } = await drain(stream);
  assert.equal(error, reason);
  assert.deepEqual(events.map((event) => event.type), ['start']);
});

test('return() while waiting ends the stream and clears its timer', async () => {
  const stream = new MockStream(reply, behavior({ ttftMs: 10_000 }), signal(), 'mock');
  await stream.next();
  const waiting = stream.next();
  assert.deepEqual(await stream.return(), { done: true, value: undefined });
  assert.deepEqual(await waiting, { done: true, value: undefined });
});
