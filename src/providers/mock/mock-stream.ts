import type { StreamEvent, ToolCall } from '../../core/canonical.js';
import { GatewayError } from '../../core/errors.js';
import type { AttemptSignal } from '../provider-adapter.js';
import type { MockBehavior } from './behavior.js';

/** What the mock streams for one request. */
export interface StreamReply {
  id: string;
  created: number;
  model: string;
  pieces: string[];
  truncated: boolean;
  toolCall: ToolCall | undefined;
  inputTokens: number;
  /** Output tokens of the tool call, when there is one. */
  toolTokens: number;
}

/** The longest a timer can wait: a stall lasts until the attempt is aborted. */
const FOREVER_MS = 2_147_483_647;

type Step = { kind: 'event'; event: StreamEvent } | { kind: 'sleep'; ms: number; then: Phase } | { kind: 'done' };
/**
 * Where the stream is: tokens = the loop starts; top = the loop's top (stall check first); stalled =
 * after a stall (its check passed); paced = a chunk went out, wait for the next token's time.
 */
type Phase = 'start' | 'ttft' | 'tool' | 'tokens' | 'top' | 'stalled' | 'paced' | 'finish' | 'usage' | 'done';

/**
 * The mock's stream, paced by `tokens_per_second`: the start event, the first-token delay, then
 * every token that is due by now (so a fast pace is not limited by timer resolution), finish and
 * usage. A failure mid-stream (injected disconnect, or the attempt aborted while waiting) is
 * preceded by an estimated usage event, as a real provider's usage would report it.
 *
 * A hand-written iterator (it was an async generator): a waiting stream holds one timer and one
 * promise, and each token allocates little, which mattered with 10,000 open mock streams
 * (benchmarks): an async generator's suspended frame, request objects and per-sleep closures all
 * outlived young-generation collections while waiting.
 */
export class MockStream implements AsyncIterableIterator<StreamEvent> {
  private phase: Phase = 'start';
  private started = 0;
  private sent = 0;
  private toolStep = 0;
  /** The failure to throw after the estimated usage event. */
  private failure: unknown = undefined;
  private timer: NodeJS.Timeout | undefined;
  private resolve: ((result: IteratorResult<StreamEvent>) => void) | undefined;
  private reject: ((reason: unknown) => void) | undefined;
  private waitingFor: Phase = 'done';

  constructor(
    private readonly reply: StreamReply,
    private readonly behavior: MockBehavior,
    private readonly signal: AttemptSignal,
    private readonly providerName: string,
  ) {}

  [Symbol.asyncIterator](): this {
    return this;
  }

  next(): Promise<IteratorResult<StreamEvent>> {
    if (this.resolve) return Promise.reject(new Error('MockStream: next() while a previous next() is pending'));
    try {
      return this.settle(this.step());
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** Ends the stream; a next() still waiting (single consumers never leave one) ends too. */
  return(): Promise<IteratorResult<StreamEvent>> {
    const waiting = this.resolve;
    this.phase = 'done';
    this.stopTimer();
    waiting?.({ done: true, value: undefined });
    return Promise.resolve({ done: true, value: undefined });
  }

  private settle(step: Step): Promise<IteratorResult<StreamEvent>> {
    if (step.kind === 'event') return Promise.resolve({ done: false, value: step.event });
    if (step.kind === 'done') return Promise.resolve({ done: true, value: undefined });
    return new Promise<IteratorResult<StreamEvent>>((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
      this.waitingFor = step.then;
      this.timer = setTimeout(this.wake, step.ms);
      this.signal.addEventListener('abort', this.aborted);
    });
  }

  private readonly wake = (): void => {
    const { resolve, reject } = this;
    this.clearWait();
    this.phase = this.waitingFor;
    try {
      const step = this.step();
      if (step.kind === 'sleep') this.settle(step).then(resolve, reject);
      else resolve?.(step.kind === 'event' ? { done: false, value: step.event } : { done: true, value: undefined });
    } catch (error) {
      reject?.(error);
    }
  };

  private readonly aborted = (): void => {
    const { resolve, reject } = this;
    this.stopTimer();
    this.clearWait();
    // Aborted while waiting for the first token: nothing was generated, the failure is all.
    if (this.waitingFor === 'tool' || this.waitingFor === 'tokens') {
      this.phase = 'done';
      reject?.(this.signal.reason);
      return;
    }
    resolve?.({ done: false, value: this.fail(this.signal.reason) });
  };

  private clearWait(): void {
    this.signal.removeEventListener('abort', this.aborted);
    this.resolve = undefined;
    this.reject = undefined;
    this.timer = undefined;
  }

  private stopTimer(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    if (this.resolve) this.clearWait();
  }

  /** Everything up to the next event, sleep or end, synchronously. */
  private step(): Step {
    const { reply, behavior } = this;
    switch (this.phase) {
      case 'start':
        this.phase = 'ttft';
        return { kind: 'event', event: { type: 'start', id: reply.id, model: reply.model, created: reply.created } };
      case 'ttft':
        return this.sleep(behavior.ttftMs, reply.toolCall ? 'tool' : 'tokens', false);
      case 'tool':
        return this.toolEvent(reply.toolCall as ToolCall);
      case 'tokens':
        this.started = performance.now();
        return this.tokens(false);
      case 'top':
        return this.tokens(false);
      case 'stalled':
        return this.tokens(true);
      case 'paced':
        // The loop's bottom: wait for the next token's time, as the pace asks, then the top again.
        if (this.sent < reply.pieces.length && behavior.tokensPerSecond > 0) {
          return this.sleep(Math.max(1, this.started + (this.sent / behavior.tokensPerSecond) * 1000 - performance.now()), 'top', true);
        }
        return this.tokens(false);
      case 'finish':
        this.phase = 'usage';
        return { kind: 'event', event: { type: 'finish', index: 0, reason: reply.truncated ? 'length' : 'stop' } };
      case 'usage':
        if (this.failure !== undefined) {
          const failure = this.failure;
          this.phase = 'done';
          throw failure;
        }
        this.phase = 'done';
        return { kind: 'event', event: { type: 'usage', usage: { inputTokens: reply.inputTokens, outputTokens: this.sent } } };
      case 'done':
        return { kind: 'done' };
    }
  }

  /**
   * The token loop's body: stall or disconnect where injected, else the tokens due by now. `woke`
   * skips the stall check already passed before the pacing sleep (it runs once per loop turn).
   */
  private tokens(stallChecked: boolean): Step {
    const { reply, behavior } = this;
    const sent = this.sent;
    if (sent >= reply.pieces.length) {
      this.phase = 'finish';
      return this.step();
    }
    if (!stallChecked && sent === behavior.stallAfterTokens) return this.sleep(FOREVER_MS, 'stalled', true);
    if (sent === behavior.disconnectAfterTokens) {
      return { kind: 'event', event: this.fail(new GatewayError('BB_UPSTREAM_CONNECT', `Mock provider "${this.providerName}" dropped the connection mid-stream.`)) };
    }
    const due = behavior.tokensPerSecond > 0 ? Math.floor(((performance.now() - this.started) / 1000) * behavior.tokensPerSecond) + 1 : Infinity;
    const limit = Math.min(reply.pieces.length, due, nextStop(sent, behavior));
    this.phase = 'paced';
    if (limit > sent) {
      this.sent = limit;
      return { kind: 'event', event: { type: 'text', index: 0, text: joinPieces(reply.pieces, sent, limit) } };
    }
    return this.step();
  }

  private toolEvent(call: ToolCall): Step {
    const step = this.toolStep++;
    const half = Math.floor(call.arguments.length / 2);
    if (step === 0) return { kind: 'event', event: { type: 'tool-call', index: 0, toolIndex: 0, id: call.id, name: call.name, argumentsDelta: call.arguments.slice(0, half) } };
    if (step === 1) return { kind: 'event', event: { type: 'tool-call', index: 0, toolIndex: 0, argumentsDelta: call.arguments.slice(half) } };
    if (step === 2) return { kind: 'event', event: { type: 'finish', index: 0, reason: 'tool_calls' } };
    this.phase = 'done';
    return { kind: 'event', event: { type: 'usage', usage: { inputTokens: this.reply.inputTokens, outputTokens: this.reply.toolTokens } } };
  }

  /** A wait, unless the attempt is already aborted (then the failure, as the sleep would throw). */
  private sleep(ms: number, then: Phase, counted: boolean): Step {
    if (this.signal.aborted) {
      if (!counted) {
        this.phase = 'done';
        throw this.signal.reason;
      }
      return { kind: 'event', event: this.fail(this.signal.reason) };
    }
    if (ms <= 0) {
      this.phase = then;
      return this.step();
    }
    return { kind: 'sleep', ms, then };
  }

  /** Mid-stream failure: the estimated usage goes out first, then the failure is thrown. */
  private fail(error: unknown): StreamEvent {
    this.failure = error;
    this.phase = 'usage';
    return { type: 'usage', usage: { inputTokens: this.reply.inputTokens, outputTokens: this.sent, estimated: true } };
  }
}

function joinPieces(pieces: string[], from: number, to: number): string {
  if (to === from + 1) return pieces[from] as string;
  let text = '';
  for (let i = from; i < to; i += 1) text += pieces[i] as string;
  return text;
}

/** The next token count at which an injected stall or disconnect must happen. */
function nextStop(sent: number, behavior: MockBehavior): number {
  let stop = Infinity;
  for (const at of [behavior.stallAfterTokens, behavior.disconnectAfterTokens]) if (at !== undefined && at >= sent) stop = Math.min(stop, at);
  return stop === sent ? sent : stop;
}
