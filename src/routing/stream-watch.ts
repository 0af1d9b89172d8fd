import type { StreamEvent } from '../core/canonical.js';
import { GatewayError } from '../core/errors.js';
import type { ProviderTimeouts } from '../providers/provider-adapter.js';
import type { AttemptDeadline } from './deadline.js';
import { attemptError } from './attempt-loop.js';

/** A stream whose first content has arrived: what was read so far, and the rest. */
export interface PrimedStream {
  head: StreamEvent[];
  rest: AsyncIterator<StreamEvent>;
  finished: boolean;
}

/**
 * Reads a stream up to its first content event, still inside the attempt: a failure or first-byte
 * timeout here has sent nothing to the client, so the attempt loop may still fall back.
 */
export async function primeStream(events: AsyncIterable<StreamEvent>): Promise<PrimedStream> {
  const rest = events[Symbol.asyncIterator]();
  const head: StreamEvent[] = [];
  for (;;) {
    const next = await rest.next();
    if (next.done) return { head, rest, finished: true };
    head.push(next.value);
    // Headers and usage are not content: a failure after them has still shown the client nothing.
    if (next.value.type !== 'start' && next.value.type !== 'usage') return { head, rest, finished: false };
  }
}

/** How a watched stream ended, for the target's breaker. */
export type StreamEnd = { kind: 'ok' } | { kind: 'failed'; error: GatewayError } | { kind: 'abandoned' };

/**
 * Replays the primed head, then pulls the rest under the idle timeout, which runs only while we
 * wait on the upstream (a slow client reading our side never trips it). Leaving early aborts the
 * upstream request. `onEnd` runs once, however the stream ends.
 */
export async function* watchStream(primed: PrimedStream, deadline: AttemptDeadline, timeouts: ProviderTimeouts, onEnd: (end: StreamEnd) => void): AsyncGenerator<StreamEvent> {
  let end: StreamEnd = { kind: 'abandoned' };
  try {
    deadline.disarm();
    for (const event of primed.head) yield event;
    if (!primed.finished) {
      for (;;) {
        deadline.arm(timeouts.idleMs, 'idle');
        let next: IteratorResult<StreamEvent>;
        try {
          next = await primed.rest.next();
        } catch (thrown) {
          const error = attemptError(thrown, deadline.signal);
          if (error.code !== 'BB_CLIENT_CLOSED') end = { kind: 'failed', error };
          throw error;
        }
        deadline.disarm();
        if (next.done) break;
        yield next.value;
      }
    }
    end = { kind: 'ok' };
  } finally {
    const finished = end.kind === 'ok';
    deadline.dispose(finished ? undefined : new GatewayError('BB_CLIENT_CLOSED', 'The stream was abandoned.'));
    if (!finished && !primed.finished) await primed.rest.return?.().catch(() => undefined);
    onEnd(end);
  }
}
