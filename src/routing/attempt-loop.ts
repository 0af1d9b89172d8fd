import type { ClientLink } from '../core/client-link.js';
import type { ErrorClass } from '../config/routing-schema.js';
import { GatewayError, toGatewayError } from '../core/errors.js';
import type { AttemptRecord, RoutingTrail } from '../core/request-record.js';
import { appended } from '../core/small-arrays.js';
import type { AttemptContext, AttemptSignal } from '../providers/provider-adapter.js';
import type { TargetTicket } from './breakers.js';
import { AttemptDeadline } from './deadline.js';
import { countsAgainstTarget, errorClassOf, isTransient } from './error-class.js';
import type { ModelRoute, PlanRequest, RoutedTarget, Router } from './router.js';
import type { CompiledRule } from './rules.js';

/** The request-scoped facts the attempt loop needs; `client` says when the client disconnects. */
export type ExecuteContext = Omit<AttemptContext, 'signal'> & {
  client: ClientLink;
  /** performance.now() when the request arrived, so attempts record when they started. */
  requestStartedAt?: number;
};

export interface Execution<T> {
  result: T;
  target: RoutedTarget;
  attempts: AttemptRecord[];
  routing: RoutingTrail;
  /** Time the winning attempt waited on the upstream (until the answer, or the first streamed content). */
  upstreamMs: number;
}

/** Thrown when every attempt failed; carries the attempts and trail so they are recorded too. */
export class ExecutionError extends GatewayError {
  constructor(
    last: GatewayError,
    readonly attempts: AttemptRecord[],
    readonly routing: RoutingTrail,
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

/** What one attempt produced; a stream hands its breaker ticket on, to settle when it ends. */
export interface AttemptOutcome<T> {
  value: T;
  /** ms from sending to the answer (non-streaming) or to the first content (streams). */
  latencyMs: number;
  /** The stream settles the ticket itself; the deadline is the stream's now. */
  handedOff: boolean;
}

export type Attempt<T> = (target: RoutedTarget, deadline: AttemptDeadline, context: AttemptContext, ticket: TargetTicket) => Promise<AttemptOutcome<T>>;

export interface LoopInput {
  router: Router;
  route: ModelRoute;
  rule: CompiledRule | undefined;
  plan: PlanRequest;
  context: ExecuteContext;
  /** Which timeout bounds an attempt until it has an answer. */
  firstTimeout: 'first-byte' | 'total';
}

interface QueuedTarget {
  target: RoutedTarget;
  retry: number;
}

/**
 * The attempt loop. Targets of the chosen group are tried in the router's order; a transient
 * failure moves on at once and queues a retry of that target behind the others (after a jittered
 * backoff, within its retry budget, never while its breaker is open). When the group is used up,
 * fallback groups for the last error's class follow. Targets whose breaker is open are tried only
 * after everything else, so a request is never refused by breakers alone; a target under an
 * upstream Retry-After is not tried at all. A failure another attempt cannot fix (400, 401, 404,
 * ...) ends the loop at once. All of this happens before anything reaches the client.
 */
export function runAttempts<T>(input: LoopInput, attempt: Attempt<T>): Promise<Execution<T>> {
  return new AttemptRun(input, attempt).run();
}

class AttemptRun<T> {
  /** Copied on append (core/small-arrays.ts): it becomes the record's list, held as long as the request. */
  private attempts: AttemptRecord[] = [];
  private readonly routing: RoutingTrail;
  private readonly tried = new Set<string>();
  /** Targets skipped for an open breaker: the last resort. */
  private readonly deferred: RoutedTarget[] = [];
  private readonly ceiling: number | undefined;
  /** The targets of the group being tried now (the chosen group, then fallback groups). */
  private stage: RoutedTarget[];
  private lastError: GatewayError | undefined;
  private lastClass: ErrorClass | undefined;
  private smallestFailedWindow = Number.POSITIVE_INFINITY;
  private coolingUntil = 0;
  /** A guardrail kept this request from targets of a trust level. */
  private blockedBy: { entity: string; trust: string } | undefined;

  constructor(
    private readonly input: LoopInput,
    private readonly attempt: Attempt<T>,
  ) {
    const first = input.router.candidates(input.route, input.plan, input.rule);
    this.stage = first;
    this.routing = { group: input.route.name, strategy: input.route.strategy, candidates: first.map((target) => target.name) };
    if (input.rule) this.routing.rule = input.rule.name;
    this.ceiling = input.plan.sameOrCheaper ? costCeiling(input.router, first[0], input.plan) : undefined;
  }

  async run(): Promise<Execution<T>> {
    const { router, context } = this.input;
    const visited = new Set([this.input.route.name]);
    const pending: ModelRoute[] = [];
    let stageRoute = this.input.route;
    let lastResort = false;
    for (;;) {
      const success = await this.runStage(this.queueFor(stageRoute === this.input.route, lastResort));
      if (success) return success;
      if (context.client.closed || context.client.interruption !== undefined || this.lastClass === undefined) break;
      for (const fallback of router.fallbacksFor(stageRoute, this.lastClass, visited)) if (!pending.includes(fallback)) pending.push(fallback);
      const next = pending.shift();
      if (next) {
        visited.add(next.name);
        stageRoute = next;
        this.stage = router.candidates(next, this.input.plan);
      } else if (!lastResort && this.deferred.length > 0) {
        lastResort = true;
        this.stage = this.deferred;
      } else break;
    }
    throw new ExecutionError(this.finalError(), this.attempts, this.routing);
  }

  /** The stage's targets worth trying now, in order. */
  private queueFor(ownGroup: boolean, lastResort: boolean): QueuedTarget[] {
    const board = this.input.router.board;
    const queue: QueuedTarget[] = [];
    let deferredHere = false;
    for (const target of this.stage) {
      if (this.tried.has(target.id)) continue;
      // After a context-window error, only a target known to be larger can help.
      if (this.smallestFailedWindow !== Number.POSITIVE_INFINITY && target.contextWindow !== undefined && target.contextWindow <= this.smallestFailedWindow) continue;
      if (this.ceiling !== undefined && !withinCeiling(this.input.router, target, this.input.plan, this.ceiling, ownGroup)) continue;
      const forbidden = this.input.plan.blockedTrust?.get(target.trust);
      if (forbidden !== undefined) {
        this.blockedBy ??= { entity: forbidden, trust: target.trust };
        continue;
      }
      if (board.isCooling(target.id)) {
        this.coolingUntil = Math.max(this.coolingUntil, board.availableAt(target.id));
        continue;
      }
      if (!lastResort && !board.isAvailable(target.id)) {
        if (!this.deferred.includes(target)) this.deferred.push(target);
        deferredHere = true;
        continue;
      }
      queue.push({ target, retry: 0 });
    }
    // A group skipped whole still leads to its fallbacks: open breakers mean it is unwell, a Retry-After that it is busy.
    if (queue.length === 0 && this.lastClass === undefined) this.lastClass = deferredHere ? 'overloaded' : this.coolingUntil > 0 ? 'rate_limited' : undefined;
    return queue;
  }

  private async runStage(queue: QueuedTarget[]): Promise<Execution<T> | undefined> {
    const { router, context } = this.input;
    const retries = router.retries;
    for (let item = queue.shift(); item !== undefined; item = queue.shift()) {
      if (this.attempts.length >= retries.max_total_attempts) return undefined;
      const { target, retry } = item;
      if (retry > 0) {
        if (!router.board.isAvailable(target.id)) continue;
        await backoff(retry, retries, context.client);
        // Gone, or interrupted by a shutdown: no further attempt.
        if (context.client.closed || context.client.interruption !== undefined) return undefined;
      }
      const ticket = router.board.begin(target.id, retry > 0, retries.budget_ratio);
      if (!ticket) continue;
      this.tried.add(target.id);
      const result = await this.tryTarget(target, ticket, retry);
      if (result.kind === 'ok') return result.execution;
      const errorClass = result.errorClass;
      if (context.client.closed || errorClass === undefined) throw new ExecutionError(result.error, this.attempts, this.routing);
      // A refused prompt is not the target's fault: only a fallback that names the class may help.
      if (errorClass === 'content_filter' || errorClass === 'context_window') return undefined;
      if (isTransient(errorClass) && retry < retries.attempts) queue.push({ target, retry: retry + 1 });
    }
    return undefined;
  }

  private async tryTarget(target: RoutedTarget, ticket: TargetTicket, retry: number): Promise<{ kind: 'ok'; execution: Execution<T> } | { kind: 'failed'; error: GatewayError; errorClass: ErrorClass | undefined }> {
    const { router, context, firstTimeout } = this.input;
    const board = router.board;
    const started = performance.now();
    const deadline = new AttemptDeadline(context.client);
    const timeouts = target.adapter.timeouts;
    deadline.arm(firstTimeout === 'first-byte' ? timeouts.firstByteMs : timeouts.totalMs, firstTimeout);
    try {
      const attemptContext: AttemptContext = { requestId: context.requestId, clientHeaders: context.clientHeaders, forwardHeaders: context.forwardHeaders, signal: deadline.signal, promptTokens: context.promptTokens };
      const outcome = await this.attempt(target, deadline, attemptContext, ticket);
      if (!outcome.handedOff) {
        deadline.dispose();
        board.succeed(ticket, outcome.latencyMs);
      }
      this.attempts = appended(this.attempts, attemptRecord(target, 'ok', started, retry, context.requestStartedAt));
      return { kind: 'ok', execution: { result: outcome.value, target, attempts: this.attempts, routing: this.routing, upstreamMs: outcome.latencyMs } };
    } catch (thrown) {
      deadline.dispose();
      const error = attemptError(thrown, deadline.signal);
      const errorClass = errorClassOf(error.code);
      if (countsAgainstTarget(errorClass)) board.fail(ticket);
      else board.release(ticket);
      const pause = Math.min(error.retryAfterSeconds ?? 0, router.retries.max_retry_after_s);
      if (errorClass === 'rate_limited' && pause > 0) board.coolDown(ticket.health, pause);
      if (errorClass === 'context_window' && target.contextWindow !== undefined) this.smallestFailedWindow = Math.min(this.smallestFailedWindow, target.contextWindow);
      this.attempts = appended(this.attempts, attemptRecord(target, error.code, started, retry, context.requestStartedAt, error.upstreamStatus));
      this.lastError = error;
      this.lastClass = errorClass;
      return { kind: 'failed', error, errorClass };
    }
  }

  /** The error the client sees: the last attempt's, or a 429 when every target is under a Retry-After. */
  private finalError(): GatewayError {
    if (this.lastError) return this.lastError;
    if (this.blockedBy) {
      const { entity, trust } = this.blockedBy;
      return new GatewayError('BB_GUARDRAIL_BLOCKED', `The request contains ${/^[aeiou]/.test(entity) ? 'an' : 'a'} ${entity.replace(/_/g, ' ')}, which may not go to ${trust} providers, and '${this.input.route.name}' has no other target.`, { param: 'messages' });
    }
    if (this.coolingUntil > 0) {
      const seconds = Math.max(1, Math.ceil((this.coolingUntil - Date.now()) / 1000));
      return new GatewayError('BB_UPSTREAM_RATE_LIMITED', `Every target of '${this.input.route.name}' asked for a pause (Retry-After); try again in ${seconds} s.`, { retryAfterSeconds: seconds });
    }
    return noTarget();
  }
}

function noTarget(): GatewayError {
  return new GatewayError('BB_INTERNAL', 'No target to try.');
}

function attemptRecord(target: RoutedTarget, outcome: AttemptRecord['outcome'], started: number, retry: number, requestStartedAt: number | undefined, upstreamStatus?: number): AttemptRecord {
  const record: AttemptRecord = { target: target.name, provider: target.providerName, model: target.model, outcome, durationMs: performance.now() - started };
  if (requestStartedAt !== undefined) record.startMs = started - requestStartedAt;
  if (retry > 0) record.retry = retry;
  if (upstreamStatus !== undefined) record.upstreamStatus = upstreamStatus;
  return record;
}

/** The error an attempt ended with: the abort reason when aborted (timeout or client), else the thrown one. */
export function attemptError(thrown: unknown, signal: AttemptSignal): GatewayError {
  if (signal.aborted && signal.reason instanceof GatewayError) return signal.reason;
  return toGatewayError(thrown);
}

/** The first choice's estimated cost: with the same-or-cheaper degrade mode nothing dearer follows it. */
function costCeiling(router: Router, first: RoutedTarget | undefined, plan: PlanRequest): number | undefined {
  return first === undefined ? undefined : (router.estimateCost(first, plan) ?? Number.NaN);
}

/**
 * Whether a target stays under the ceiling. An unknown price cannot be shown to be cheaper: such
 * targets pass only within the requested group, and only when the first choice's price is unknown too.
 */
function withinCeiling(router: Router, target: RoutedTarget, plan: PlanRequest, ceiling: number, ownGroup: boolean): boolean {
  const cost = router.estimateCost(target, plan);
  if (Number.isNaN(ceiling)) return ownGroup && cost === undefined;
  return cost !== undefined && cost <= ceiling * (1 + 1e-9);
}

/** Full-jitter exponential backoff; cut short if the client leaves. */
function backoff(retry: number, retries: LoopInput['router']['retries'], client: ClientLink): Promise<void> {
  const cap = Math.min(retries.max_backoff_ms, retries.backoff_ms * 2 ** (retry - 1));
  const ms = Math.random() * cap;
  if (ms < 1) return Promise.resolve();
  return new Promise((resolve) => {
    let unlink: () => void = () => undefined;
    const timer = setTimeout(() => {
      unlink();
      resolve();
    }, ms);
    unlink = client.onClose(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}
