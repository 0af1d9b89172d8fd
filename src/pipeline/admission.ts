import type { CanonicalRequest } from '../core/canonical.js';
import type { EndpointName, Principal } from '../core/principal.js';
import type { LimitTicket } from '../policies/limits/index.js';
import type { ModelRoute } from '../routing/router.js';
import type { RequestScope } from './request-scope.js';
import { resolveModel, type Runtime } from './runtime.js';

/**
 * Admission for a model request: the model must exist (else 404), then access rules and the
 * caller's allowlists must let it through (else 403 naming the rule). Guards join here as they arrive.
 */
export function admitModelRequest(runtime: Runtime, scope: RequestScope, principal: Principal, endpoint: EndpointName, model: string, customer: string | undefined): ModelRoute {
  const route = resolveModel(runtime, model);
  scope.checkAccess(runtime.access, runtime.identity, principal, { endpoint, model }, customer);
  return route;
}

export interface LimitedAdmission {
  /** The route to execute: the requested one, or the plan's cheaper model on the degrade ladder. */
  route: ModelRoute;
  /** x-ratelimit-* headers for the reply. */
  headers: Record<string, string>;
  /** Set when a budget bounds this answer's output: streams are cut past it. */
  streamOutputCap?: number;
}

/** Where the conversation id travels: a header, or `metadata.conversation_id` in the body. */
export function conversationIdOf(runtime: Runtime, scope: RequestScope, metadata: Record<string, string> | undefined): string | undefined {
  const header = scope.exchange.headers[runtime.config.limits.conversation_header];
  const id = typeof header === 'string' && header !== '' ? header : metadata?.conversation_id;
  return id === undefined ? undefined : id.slice(0, 200);
}

/**
 * Limits and budgets: reserve the worst case now (may clamp `max_tokens` or pick a cheaper model),
 * book the actual use when the request settles, whatever its outcome.
 */
export function admitLimits(runtime: Runtime, scope: RequestScope, principal: Principal, endpoint: 'chat' | 'embeddings', route: ModelRoute, request: Pick<CanonicalRequest, 'maxTokens' | 'source' | 'user'> & { stream?: boolean }, estimateInputTokens: () => number, conversationId: string | undefined): LimitedAdmission | Promise<LimitedAdmission> {
  scope.record.conversationId = conversationId;
  const requestedMaxTokens = request.maxTokens;
  const finish = (ticket: LimitTicket<ModelRoute> | undefined): LimitedAdmission => {
    if (!ticket) return { route, headers: {} };
    // A rewritten request is no longer the client's body, and a metered stream needs its content as
    // events: either way adapters build from the canonical form instead of passing bytes through.
    if (request.maxTokens !== requestedMaxTokens || (request.stream === true && ticket.streamOutputCap !== undefined)) request.source = undefined;
    scope.record.limitActions = ticket.actions;
    scope.onSettle(() => ticket.settle(scope.record.usage, scope.served));
    return { route: ticket.route, headers: ticket.headers, streamOutputCap: ticket.streamOutputCap };
  };
  // The memory backend answers at once: no promise on the hot path.
  const pending = runtime.limits.admit({ requestId: scope.exchange.requestId, principal, route, request, estimateInputTokens, conversationId, customer: request.user, endpoint });
  return pending instanceof Promise ? pending.then(finish) : finish(pending);
}
