import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { StreamEvent } from '../core/canonical.js';
import type { ClientLink } from '../core/client-link.js';
import { GatewayError } from '../core/errors.js';
import { AttemptDeadline } from './deadline.js';
import { primeStream, watchStream, type StreamEnd } from './stream-watch.js';

const TIMEOUTS = { connectMs: 1000, firstByteMs: 1000, idleMs: 60_000, totalMs: 60_000 };
const client: ClientLink = { closed: false, interruption: undefined, onClose: () => () => undefined };
const text = (value: string): StreamEvent => ({ type: 'text', index: 0, text: value });

/** An upstream stream that records whether it was returned (aborted). */
function upstream(events: StreamEvent[], failAfter?: number) {
  const seen = { returned: false };
  async function* generate(): AsyncGenerator<StreamEvent> {
    try {
      for (const [index, event] of events.entries()) {
        if (index === failAfter) throw new GatewayError('BB_UPSTREAM_CONNECT', 'dropped');
        yield event;
      }
    } finally {
      seen.returned = true;
    }
  }
  return { events: generate(), seen };
}

async function watched(events: StreamEvent[], failAfter?: number) {
  const source = upstream(events, failAfter);
  const ends: StreamEnd[] = [];
  const stream = watchStream(await primeStream(source.events), new AttemptDeadline(client), TIMEOUTS, (end) => ends.push(end));
  return { stream, ends, seen: source.seen };
}

test('replays the primed head, then the rest; ends ok once', async () => {
  const { stream, ends } = await watched([{ type: 'start', id: 'a', model: 'm', created: 1 }, text('one'), text('two')]);
  const got: StreamEvent[] = [];
  for await (const event of stream) got.push(event);
  assert.deepEqual(got.map((event) => event.type), ['start', 'text', 'text']);
  assert.deepEqual(ends, [{ kind: 'ok' }]);
  assert.deepEqual(await stream.next(), { done: true, value: undefined });
});

test('a return() before the first next() ends nothing (as a generator that never started)', async () => {
  const { stream, ends } = await watched([text('one'), text('two')]);
  assert.deepEqual(await stream.return?.(), { done: true, value: undefined });
  assert.deepEqual(ends, []);
});

test('leaving early returns the upstream and reports abandoned', async () => {
  const { stream, ends, seen } = await watched([text('one'), text('two'), text('three')]);
  for await (const event of stream) {
    assert.equal(event.type, 'text');
    break;
  }
  assert.equal(seen.returned, true);
  assert.deepEqual(ends, [{ kind: 'abandoned' }]);
});

test('an upstream failure is rethrown and reported failed', async () => {
  const { stream, ends } = await watched([text('one'), text('two'), text('three')], 2);
  const got: string[] = [];
  await assert.rejects(async () => {
    for await (const event of stream) if (event.type === 'text') got.push(event.text);
  }, (error: GatewayError) => error.code === 'BB_UPSTREAM_CONNECT');
  assert.deepEqual(got, ['one', 'two']);
  assert.equal(ends.length, 1);
  assert.equal(ends[0]?.kind, 'failed');
});

test('next() calls made at once are answered in order', async () => {
  const { stream, ends } = await watched([text('one'), text('two'), text('three')]);
  const results = await Promise.all([stream.next(), stream.next(), stream.next(), stream.next()]);
  assert.deepEqual(results.map((result) => (result.done ? 'done' : result.value.type === 'text' ? result.value.text : '')), ['one', 'two', 'three', 'done']);
  assert.deepEqual(ends, [{ kind: 'ok' }]);
});
