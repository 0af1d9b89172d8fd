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
 *
 * It behaves as the async generator it once was (nothing runs before the first `next()`; a
 * `return()` before it ends nothing), but holds no suspended generator frame: with thousands of
 * open streams that frame was about 1 KB each (heap snapshots, docs/benchmarks.md).
 */
export function watchStream(primed: PrimedStream, deadline: AttemptDeadline, timeouts: ProviderTimeouts, onEnd: (end: StreamEnd) => void): AsyncIterableIterator<StreamEvent> {
  return new WatchedStream(primed, deadline, timeouts, onEnd);
}

const DONE: IteratorReturnResult<undefined> = Object.freeze({ done: true, value: undefined });

class WatchedStream implements AsyncIterableIterator<StreamEvent> {
  /** fresh: no next() yet; open: replaying or pulling; done: ended (onEnd has run or never will). */
  private state: 'fresh' | 'open' | 'done' = 'fresh';
  /** The primed events not replayed yet; dropped once replayed, so an open stream does not keep them. */
  private head: StreamEvent[] | undefined;
  private replayed = 0;
  private readonly rest: AsyncIterator<StreamEvent>;
  /** The upstream had ended while priming. */
  private readonly finished: boolean;
  /** The pull under way, so a return() meanwhile waits for it (as a generator's would). */
  private pulling: Promise<unknown> | undefined;

  constructor(
    primed: PrimedStream,
    private readonly deadline: AttemptDeadline,
    private readonly timeouts: ProviderTimeouts,
    private readonly onEnd: (end: StreamEnd) => void,
  ) {
    this.head = primed.head.length > 0 ? primed.head : undefined;
    this.rest = primed.rest;
    this.finished = primed.finished;
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  next(): Promise<IteratorResult<StreamEvent>> {
    if (this.pulling) return this.pulling.then(() => this.next(), () => this.next());
    if (this.state === 'done') return Promise.resolve(DONE);
    if (this.state === 'fresh') {
      this.state = 'open';
      this.deadline.disarm();
    }
    const head = this.head;
    if (head !== undefined) {
      const event = head[this.replayed++] as StreamEvent;
      if (this.replayed === head.length) this.head = undefined;
      return Promise.resolve({ done: false, value: event });
    }
    if (this.finished) return Promise.resolve(this.finish());
    this.deadline.arm(this.timeouts.idleMs, 'idle');
    let pull: Promise<IteratorResult<StreamEvent>>;
    try {
      pull = this.rest.next().then(this.pulled, this.failed);
    } catch (thrown) {
      pull = this.failed(thrown);
    }
    // Cleared by pulled/failed, which always run after this assignment.
    this.pulling = pull;
    return pull;
  }

  return(): Promise<IteratorResult<StreamEvent>> {
    if (this.pulling) return this.pulling.then(() => this.return(), () => this.return());
    if (this.state === 'fresh') {
      // A generator returned before it started runs none of its body.
      this.state = 'done';
      return Promise.resolve(DONE);
    }
    if (this.state === 'done') return Promise.resolve(DONE);
    return this.close({ kind: 'abandoned' }).then(() => DONE);
  }

  private readonly pulled = (next: IteratorResult<StreamEvent>): IteratorResult<StreamEvent> => {
    this.pulling = undefined;
    this.deadline.disarm();
    return next.done ? this.finish() : next;
  };

  private readonly failed = (thrown: unknown): Promise<never> => {
    const error = attemptError(thrown, this.deadline.signal);
    const end: StreamEnd = error.code === 'BB_CLIENT_CLOSED' ? { kind: 'abandoned' } : { kind: 'failed', error };
    return this.close(end).then(
      () => {
        this.pulling = undefined;
        return Promise.reject(error);
      },
      (closeError: unknown) => {
        this.pulling = undefined;
        return Promise.reject(closeError);
      },
    );
  };

  /** The upstream ended normally. */
  private finish(): IteratorResult<StreamEvent> {
    this.state = 'done';
    this.deadline.dispose(undefined);
    this.onEnd({ kind: 'ok' });
    return DONE;
  }

  /** Ends early (failed or abandoned): aborts the attempt and returns the upstream stream. */
  private close(end: StreamEnd): Promise<void> {
    this.state = 'done';
    this.deadline.dispose(new GatewayError('BB_CLIENT_CLOSED', 'The stream was abandoned.'));
    const returned = this.finished ? undefined : returnQuietly(this.rest);
    const report = () => this.onEnd(end);
    return returned ? returned.then(report) : Promise.resolve().then(report);
  }
}

/** `rest.return()`, its failure ignored (it may throw synchronously too). */
function returnQuietly(rest: AsyncIterator<StreamEvent>): Promise<void> | undefined {
  try {
    return rest.return?.().then(
      () => undefined,
      () => undefined,
    );
  } catch {
    return undefined;
  }
}
