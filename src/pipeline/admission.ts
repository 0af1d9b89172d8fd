import type { CanonicalMessage, CanonicalRequest } from '../core/canonical.js';
import type { EndpointName, Principal } from '../core/principal.js';
import type { LimitTicket } from '../policies/limits/index.js';
import type { RoutedRequest } from '../routing/execute.js';
import type { ModelRoute, RouteSelection } from '../routing/router.js';
import { lastUserText } from '../routing/rules.js';
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
    scope.onSettle(limitsSettleHook(scope, ticket.settle));
    return { route: ticket.route, headers: ticket.headers, streamOutputCap: ticket.streamOutputCap };
  };
  // The memory backend answers at once: no promise on the hot path.
  const pending = runtime.limits.admit({ requestId: scope.exchange.requestId, principal, route, request, estimateInputTokens, conversationId, customer: request.user, endpoint });
  return pending instanceof Promise ? pending.then(finish) : finish(pending);
}

/**
 * The settle hook, made outside admitLimits: a closure made there would keep its scope (the
 * request and its prompt among it) alive for the request's life. Only the settle function is
 * kept, not the ticket's headers and route.
 */
function limitsSettleHook(scope: RequestScope, settleLimits: LimitTicket<ModelRoute>['settle']): () => void {
  return () => settleLimits(scope.record.usage, scope.served);
}

/** What routing rules may look at in a request. */
export interface RoutableRequest {
  messages?: readonly CanonicalMessage[];
  metadata?: Readonly<Record<string, string>>;
}

/**
 * The route phase's first half, before limits: the first matching rule may send the request to
 * another group (limits then price and reserve against the group that will serve).
 */
export function selectRoute(runtime: Runtime, scope: RequestScope, principal: Principal, endpoint: 'chat' | 'embeddings', route: ModelRoute, request: RoutableRequest, promptTokens: () => number): RouteSelection {
  const router = runtime.router;
  if (!router.hasRules) return { route, rule: undefined };
  let text: string | undefined;
  return router.select(route, {
    model: route.name,
    endpoint,
    plan: principal.plan?.name,
    team: principal.teamName,
    headers: scope.exchange.headers,
    metadata: request.metadata,
    lastUserText: () => (text ??= lastUserText(request.messages ?? [])),
    promptTokens,
  });
}

/** The route phase's second half: what the attempt loop needs (the rule applies only to the group it chose). */
export function routedRequest(runtime: Runtime, principal: Principal, selection: RouteSelection, route: ModelRoute, promptTokens: () => number, maxTokens: number | undefined): RoutedRequest {
  return {
    router: runtime.router,
    route,
    rule: route === selection.route ? selection.rule : undefined,
    plan: { promptTokens, maxTokens, sameOrCheaper: principal.plan?.spec.fallback_to === 'same-or-cheaper' },
  };
}

/** Runs `compute` at most once, and only if asked. */
export function once(compute: () => number): () => number {
  let value: number | undefined;
  return () => (value ??= compute());
}

/** Header names for the prompt template and free tags (also read from body metadata). */
const TEMPLATE_HEADER = 'x-bb-template-id';
const TEMPLATE_VERSION_HEADER = 'x-bb-template-version';
const TAGS_HEADER = 'x-bb-tags';
const MAX_LABEL_LENGTH = 200;
const MAX_TAGS = 16;
const MAX_METADATA_KEYS = 16;

/**
 * Labels for the ledger: the prompt template (header, else `metadata.template_id`), tags and the
 * body's metadata, bounded so a caller cannot make records (or logs) arbitrarily large.
 */
export function labelRequest(runtime: Runtime, scope: RequestScope, metadata: Readonly<Record<string, string>> | undefined): void {
  const record = scope.record;
  const headers = scope.exchange.headers;
  const header = (name: string) => {
    const value = headers[name];
    return typeof value === 'string' && value !== '' ? value.slice(0, MAX_LABEL_LENGTH) : undefined;
  };
  record.templateId = header(TEMPLATE_HEADER) ?? metadata?.template_id?.slice(0, MAX_LABEL_LENGTH);
  record.templateVersion = header(TEMPLATE_VERSION_HEADER) ?? metadata?.template_version?.slice(0, MAX_LABEL_LENGTH);
  const tags = header(TAGS_HEADER);
  if (tags !== undefined) record.tags = tags.split(',').map((tag) => tag.trim()).filter((tag) => tag !== '').slice(0, MAX_TAGS);
  if (metadata !== undefined) {
    const kept: Record<string, string> = {};
    for (const [key, value] of Object.entries(metadata).slice(0, MAX_METADATA_KEYS)) kept[key.slice(0, MAX_LABEL_LENGTH)] = String(value).slice(0, MAX_LABEL_LENGTH);
    record.metadata = kept;
  }
  // Prices the actual use once the request settles, whatever the outcome.
  scope.onSettle(() => priceUsage(runtime, scope));
}

/** The cost of what was served, from the runtime's price lookup; set at settle. */
function priceUsage(runtime: Runtime, scope: RequestScope): void {
  const { usage } = scope.record;
  if (usage && scope.served) scope.record.costUsd = runtime.prices.costOf(scope.served, usage);
}
