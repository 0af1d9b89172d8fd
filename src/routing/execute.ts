import type { ClientLink } from '../core/client-link.js';
import type { CanonicalRequest, EmbeddingsRequest, EmbeddingsResponse, StreamEvent } from '../core/canonical.js';
import { GatewayError, toGatewayError } from '../core/errors.js';
import type { AttemptRecord } from '../core/request-record.js';
import type { AttemptContext, AttemptSignal, ChatOutcome, ProviderTimeouts } from '../providers/provider-adapter.js';
import { AttemptDeadline } from './deadline.js';
import type { HealthTracker } from './health.js';
import { orderTargets, type ModelRoute, type RoutedTarget } from './router.js';

/** The request-scoped facts the attempt loop needs; `client` says when the client disconnects. */
export type ExecuteContext = Omit<AttemptContext, 'signal'> & { client: ClientLink };

export interface Execution<T> {
  result: T;
  target: RoutedTarget;
  attempts: AttemptRecord[];
  /** Time the winning attempt waited on the upstream (until the answer, or until a stream began). */
  upstreamMs: number;
}

/** Thrown when every attempt failed; carries the attempts so they are recorded too. */
export class ExecutionError extends GatewayError {
  constructor(
    last: GatewayError,
    readonly attempts: AttemptRecord[],
  ) {
    super(last.code, last.message, {
      ...(last.param !== undefined ? { param: last.param } : {}),
      ...(last.retryAfterSeconds !== undefined ? { retryAfterSeconds: last.retryAfterSeconds } : {}),
      ...(last.upstreamStatus !== undefined ? { upstreamStatus: last.upstreamStatus } : {}),
      status: last.status,
      cause: last,
    });
  }
}

/** Errors that say nothing about the target's health (the request itself was at fault). */
const HEALTH_NEUTRAL = new Set(['BB_UPSTREAM_RATE_LIMITED', 'BB_CLIENT_CLOSED']);

/**
 * The attempt loop: tries the model's targets in order, moving on after a retryable failure, and
 * only before anything has been sent to the client. Streams come back wrapped with their
 * first-byte and idle timeouts.
 */
export async function executeChat(
  route: ModelRoute,
  health: HealthTracker,
  request: CanonicalRequest,
  context: ExecuteContext,
): Promise<Execution<ChatOutcome>> {
  return attemptLoop<ChatOutcome>(route, health, context, request.stream ? 'first-byte' : 'total', async (target, deadline, attemptContext) => {
    const outcome = await target.adapter.chat(request, target, attemptContext);
    if (outcome.kind === 'response') return { value: outcome, keepDeadline: false };
    const events = watchStream(outcome.events, deadline, target.adapter.timeouts, () => health.recordFailure(target.id));
    return { value: { kind: 'stream', events }, keepDeadline: true };
  });
}

export async function executeEmbeddings(
  route: ModelRoute,
  health: HealthTracker,
  request: EmbeddingsRequest,
  context: ExecuteContext,
): Promise<Execution<EmbeddingsResponse>> {
  return attemptLoop(route, health, context, 'total', async (target, _deadline, attemptContext) => ({
    value: await target.adapter.embeddings(request, target, attemptContext),
    keepDeadline: false,
  }));
}

type Attempt<T> = (
  target: RoutedTarget,
  deadline: AttemptDeadline,
  context: AttemptContext,
) => Promise<{ value: T; keepDeadline: boolean }>;

async function attemptLoop<T>(
  route: ModelRoute,
  health: HealthTracker,
  context: ExecuteContext,
  firstTimeout: 'first-byte' | 'total',
  attempt: Attempt<T>,
): Promise<Execution<T>> {
  const attempts: AttemptRecord[] = [];
  const targets = orderTargets(route, health);
  let lastError: GatewayError | undefined;
  for (const target of targets) {
    const deadline = new AttemptDeadline(context.client);
    const timeouts = target.adapter.timeouts;
    deadline.arm(firstTimeout === 'first-byte' ? timeouts.firstByteMs : timeouts.totalMs, firstTimeout);
    const started = performance.now();
    try {
      const attemptContext: AttemptContext = {
        requestId: context.requestId,
        clientHeaders: context.clientHeaders,
        forwardHeaders: context.forwardHeaders,
        signal: deadline.signal,
      };
      const { value, keepDeadline } = await attempt(target, deadline, attemptContext);
      if (!keepDeadline) deadline.dispose();
      const upstreamMs = performance.now() - started;
      health.recordSuccess(target.id);
      attempts.push({ provider: target.providerName, model: target.model, outcome: 'ok', durationMs: upstreamMs });
      return { result: value, target, attempts, upstreamMs };
    } catch (thrown) {
      deadline.dispose();
      const error = attemptError(thrown, deadline.signal);
      attempts.push({ provider: target.providerName, model: target.model, outcome: error.code, durationMs: performance.now() - started });
      lastError = error;
      if (context.client.closed || !error.retryable) break;
      if (!HEALTH_NEUTRAL.has(error.code)) health.recordFailure(target.id);
    }
  }
  throw new ExecutionError(lastError ?? new GatewayError('BB_INTERNAL', 'No target to try.'), attempts);
}

/** The error an attempt ended with: the abort reason when aborted (timeout or client), else the thrown one. */
function attemptError(thrown: unknown, signal: AttemptSignal): GatewayError {
  if (signal.aborted && signal.reason instanceof GatewayError) return signal.reason;
  return toGatewayError(thrown);
}

/**
 * Enforces stream timeouts while pulling events: the first-byte timer runs until the first content
 * event, then the idle timer runs only while we wait on the upstream (a slow client reading our
 * side never trips it). Leaving early aborts the upstream request.
 */
async function* watchStream(
  events: AsyncIterable<StreamEvent>,
  deadline: AttemptDeadline,
  timeouts: ProviderTimeouts,
  onFailure: () => void,
): AsyncGenerator<StreamEvent> {
  const iterator = events[Symbol.asyncIterator]();
  let waitingForFirst = true;
  let finished = false;
  try {
    for (;;) {
      if (!waitingForFirst) deadline.arm(timeouts.idleMs, 'idle');
      let next: IteratorResult<StreamEvent>;
      try {
        next = await iterator.next();
      } catch (thrown) {
        const error = attemptError(thrown, deadline.signal);
        if (error.code !== 'BB_CLIENT_CLOSED') onFailure();
        throw error;
      }
      if (next.done) {
        finished = true;
        return;
      }
      // The first-byte timer (armed by the attempt loop) keeps running until real content comes.
      if (!waitingForFirst || next.value.type !== 'start') {
        waitingForFirst = false;
        deadline.disarm();
      }
      yield next.value;
    }
  } finally {
    deadline.dispose(finished ? undefined : new GatewayError('BB_CLIENT_CLOSED', 'The stream was abandoned.'));
    if (!finished) await iterator.return?.().catch(() => undefined);
  }
}
