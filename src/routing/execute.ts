import type { CanonicalRequest, EmbeddingsRequest, EmbeddingsResponse } from '../core/canonical.js';
import type { Trust } from '../core/request-record.js';
import type { ChatOutcome } from '../providers/provider-adapter.js';
import { runAttempts, type ExecuteContext, type Execution } from './attempt-loop.js';
import { countsAgainstTarget, errorClassOf } from './error-class.js';
import type { ModelRoute, PlanRequest, Router } from './router.js';
import type { CompiledRule } from './rules.js';
import type { TargetTicket } from './breakers.js';
import { primeStream, watchStream, type StreamEnd } from './stream-watch.js';

export { ExecutionError, type ExecuteContext, type Execution } from './attempt-loop.js';

/** The routing decision admission made: the group to serve from, and the rule that chose it. */
export interface RoutedRequest {
  router: Router;
  route: ModelRoute;
  rule: CompiledRule | undefined;
  plan: PlanRequest;
  /** The request as a target of this trust level may receive it (guardrail egress rules). */
  requestFor?: (trust: Trust) => CanonicalRequest;
  /** The same for an embeddings request. */
  embeddingsFor?: (trust: Trust) => EmbeddingsRequest;
}

/**
 * A chat request through the attempt loop. A stream counts as answered once its first content
 * arrived: until then a failure may still fall back, after it the stream is the client's.
 */
export function executeChat(routed: RoutedRequest, request: CanonicalRequest, context: ExecuteContext): Promise<Execution<ChatOutcome>> {
  const board = routed.router.board;
  return runAttempts<ChatOutcome>({ ...routed, context, firstTimeout: request.stream ? 'first-byte' : 'total' }, async (target, deadline, attemptContext, ticket) => {
    const started = performance.now();
    const sent = routed.requestFor ? routed.requestFor(target.trust) : request;
    const outcome = await target.adapter.chat(sent, target, attemptContext);
    if (outcome.kind === 'response') return { value: outcome, latencyMs: performance.now() - started, handedOff: false };
    const primed = await primeStream(outcome.events);
    const latencyMs = performance.now() - started;
    const events = watchStream(primed, deadline, target.adapter.timeouts, reportStreamEnd(board, ticket, latencyMs));
    return { value: { kind: 'stream', events }, latencyMs, handedOff: true };
  });
}

/**
 * The breaker report when a stream ends. Made outside executeChat so the callback, held for the
 * stream's whole life, keeps only these three alive, not the request and its route.
 */
function reportStreamEnd(board: Router['board'], ticket: TargetTicket, latencyMs: number): (end: StreamEnd) => void {
  return (end) => {
    if (end.kind === 'ok') board.succeed(ticket, latencyMs);
    else if (end.kind === 'failed' && countsAgainstTarget(errorClassOf(end.error.code))) board.fail(ticket);
    else board.release(ticket);
  };
}

export function executeEmbeddings(routed: RoutedRequest, request: EmbeddingsRequest, context: ExecuteContext): Promise<Execution<EmbeddingsResponse>> {
  return runAttempts({ ...routed, context, firstTimeout: 'total' }, async (target, _deadline, attemptContext) => {
    const started = performance.now();
    const value = await target.adapter.embeddings(routed.embeddingsFor ? routed.embeddingsFor(target.trust) : request, target, attemptContext);
    return { value, latencyMs: performance.now() - started, handedOff: false };
  });
}
