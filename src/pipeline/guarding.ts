import type { CanonicalMessage, CanonicalRequest, EmbeddingsRequest } from '../core/canonical.js';
import type { GuardDecision, Trust } from '../core/request-record.js';
import { runWebhookGuards, type AnswerFilter, type InputInspection } from '../policies/guardrails/index.js';
import type { RouteSelection } from '../routing/router.js';
import type { RequestScope } from './request-scope.js';
import { resolveModel, type Runtime } from './runtime.js';

/** What the guardrails decided before routing, and what they need afterwards. */
export interface GuardedRequest {
  inspection: InputInspection | undefined;
  /** The request as a provider of this trust level may receive it. */
  requestFor(trust: Trust): CanonicalRequest;
  /** The output filter for the answer (restores tokenized values, applies output guards). */
  answerFilter(): AnswerFilter | undefined;
}

/**
 * The guardrail part of admission: input guards inspect the messages (a refusal throws, every
 * decision lands in the record), and the request variants per trust level are prepared. When an
 * answer must be read (output guards, tokenized values), the client's body is dropped so the
 * provider's answer comes back in canonical form rather than passed through.
 */
export function guardRequest(runtime: Runtime, scope: RequestScope, request: CanonicalRequest): GuardedRequest | Promise<GuardedRequest> {
  const guards = runtime.guardrails;
  const decisions = scope.record.guards;
  const inspection = guards.input?.inspect(request.messages, decisions);
  const guarded = prepare(runtime, request, inspection, decisions);
  const webhooks = runtime.config.guardrails.webhooks;
  // Webhooks cost a network call: only a config that has them pays a promise here.
  if (webhooks.length === 0) return guarded;
  return runWebhookGuards(webhooks, request.messages, webhookContext(scope, 'chat', request.model), decisions).then(() => guarded);
}

function prepare(runtime: Runtime, request: CanonicalRequest, inspection: InputInspection | undefined, decisions: GuardDecision[]): GuardedRequest {
  const guards = runtime.guardrails;
  const tokenizes = decisions.some((decision) => decision.action === 'tokenize');
  if (guards.output.watches || tokenizes) request.source = undefined;
  let variants: Map<Trust, CanonicalRequest> | undefined;
  return {
    inspection,
    requestFor(trust) {
      if (!inspection) return request;
      variants ??= new Map();
      let variant = variants.get(trust);
      if (!variant) {
        const messages = inspection.messagesFor(trust);
        const changed = messages.some((message, index) => message !== request.messages[index]);
        // A rewritten prompt is no longer the client's body: adapters build from the canonical form.
        variant = changed ? { ...request, messages: [...messages], source: undefined } : request;
        variants.set(trust, variant);
      }
      return variant;
    },
    answerFilter: () => guards.output.filterFor(inspection?.vault(), decisions),
  };
}

/** A guard that says reroute sends the request to `guardrails.reroute_model` (before limits price it). */
export function applyReroute(runtime: Runtime, reroute: boolean, selection: RouteSelection): RouteSelection {
  const target = runtime.config.guardrails.reroute_model;
  if (!reroute || target === undefined) return selection;
  return { route: resolveModel(runtime, target), rule: undefined };
}

/**
 * Embeddings inputs go through the same input guards (strings only; token arrays carry no text).
 * A placeholder would change what is embedded, so `tokenize` acts as `mask` here.
 */
export async function guardEmbeddings(runtime: Runtime, scope: RequestScope, request: EmbeddingsRequest): Promise<{ requestFor: (trust: Trust) => EmbeddingsRequest; blocked: ReadonlyMap<Trust, string>; reroute: boolean } | undefined> {
  const input = request.input;
  const texts = typeof input === 'string' ? [input] : input.every((item) => typeof item === 'string') ? (input as string[]) : undefined;
  const guard = runtime.guardrails.input;
  const webhooks = runtime.config.guardrails.webhooks;
  if ((!guard && webhooks.length === 0) || texts === undefined) return undefined;
  const messages: CanonicalMessage[] = texts.map((text) => ({ role: 'user', content: text }));
  await runWebhookGuards(webhooks, messages, webhookContext(scope, 'embeddings', request.model), scope.record.guards);
  if (!guard) return undefined;
  const inspection = guard.inspect(messages, scope.record.guards, { tokenizeAsMask: true });
  const variants = new Map<Trust, EmbeddingsRequest>();
  const requestFor = (trust: Trust) => {
    let variant = variants.get(trust);
    if (!variant) {
      const guarded = inspection.messagesFor(trust).map((message) => (typeof message.content === 'string' ? message.content : ''));
      const changed = guarded.some((text, index) => text !== texts[index]);
      // A rewritten input is no longer the client's body: the adapter builds from the canonical form.
      variant = changed ? { ...request, input: typeof input === 'string' ? (guarded[0] ?? '') : guarded, source: undefined } : request;
      variants.set(trust, variant);
    }
    return variant;
  };
  return { requestFor, blocked: inspection.blocked, reroute: inspection.reroute };
}

function webhookContext(scope: RequestScope, endpoint: 'chat' | 'embeddings', model: string) {
  const principal = scope.record.principal;
  return {
    requestId: scope.exchange.requestId,
    endpoint,
    model,
    principal: principal && { key: principal.displayPrefix, team: principal.team, user: principal.user },
  };
}
