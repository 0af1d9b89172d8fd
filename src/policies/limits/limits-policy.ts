import type { LimitsConfig } from '../../config/limits-schema.js';
import type { PlanConfig } from '../../config/identity-schema.js';
import type { CanonicalRequest, Usage } from '../../core/canonical.js';
import { GatewayError } from '../../core/errors.js';
import type { Principal } from '../../core/principal.js';
import type { ReserveItem, ReserveResult, StateStore } from '../../state/state-store.js';
import type { PricedModel, PriceLookup } from '../../usage/pricing/price-lookup.js';
import { StateUnavailableError } from '../../state/state-store.js';
import { LIMIT_DEFS, type Expected, type LimitDef } from './limit-defs.js';
import { ConversationMemory, ladderStep } from './ladder.js';
import { buildItems, rateLimitHeaders, type PlannedItem } from './items.js';
import { Settlement, type SettlementTarget } from './settlement.js';
import { secondsUntil } from './windows.js';

/** A public model as the policy sees it; `targetOf` gives the target it would try first (for prices). */
export interface LimitRoute {
  name: string;
}

/** The model that serves (or would serve) a request, as prices know it. */
export type ServedModel = PricedModel;

export interface LimitRequest<R extends LimitRoute> {
  requestId: string;
  principal: Principal;
  route: R;
  /** max_tokens may be clamped in place (output caps, the ladder, cut mode). */
  request: Pick<CanonicalRequest, 'maxTokens'>;
  /** Counts the prompt's tokens; called only when some limit applies (tokenizing is not free). */
  estimateInputTokens: () => number;
  conversationId: string | undefined;
  /** The end customer (`user`), whose own plan may carry limits. */
  customer?: string;
  /** The route (endpoint), for `limits.routes`. */
  endpoint?: 'chat' | 'embeddings';
}

type Limits = NonNullable<PlanConfig['limits']>;

/** Limits that live outside the principal: teams and models in config, end customers' plans. */
export interface LimitLookups {
  teamLimits(team: string): Limits | undefined;
  modelLimits(model: string): Limits | undefined;
  customerPlan(customer: string): { name: string; limits: Limits | undefined } | undefined;
}

interface LimitSource {
  /** Whose counters: `key:<id>`, `team:<name>`, `cust:<id>`, `model:<name>`. */
  scope: string;
  limits: Limits;
  /** Named in refusals: "plan 'free'", "team 'finance'". */
  label: string;
}

/** An admitted request's hold on its limits; `settle` books what it really used. */
export interface LimitTicket<R extends LimitRoute> {
  route: R;
  headers: Record<string, string>;
  /** Cut mode with an output budget: the output tokens reserved, which a stream must not pass. */
  streamOutputCap: number | undefined;
  /** What admission changed, for the record: `clamped:<n>`, `degraded:<model>`. */
  actions: string[];
  settle(usage: Usage | undefined, served: ServedModel | undefined): void;
}

/**
 * Token-aware limits and budgets: reserve the worst case at admission, all limits at once (one
 * round trip to the state store), then settle to the actual use. A plan without limits costs
 * nothing here.
 */
export class LimitsPolicy<R extends LimitRoute> {
  private readonly conversations = new ConversationMemory(10_000);
  private readonly settlementTarget: SettlementTarget;
  private readonly pricingByRoute = new WeakMap<R, { priced: Priced; known: boolean }>();

  constructor(
    private readonly config: LimitsConfig,
    private readonly store: StateStore,
    private readonly prices: PriceLookup,
    private readonly unknownPrice: 'refuse' | 'zero',
    private readonly routeByName: (name: string) => R | undefined,
    private readonly targetOf: (route: R) => ServedModel | undefined,
    private readonly lookups: LimitLookups,
    private readonly warn: (message: string) => void = () => undefined,
  ) {
    this.settlementTarget = { store, conversations: this.conversations, warn };
  }

  /**
   * Reserves the request's worst case on every applicable counter, or throws the 429/400 that
   * names the limit. Synchronous with the memory backend (no promise hops on the hot path).
   */
  admit(input: LimitRequest<R>): LimitTicket<R> | undefined | Promise<LimitTicket<R> | undefined> {
    const state = this.prepare(input);
    if (!state) return undefined;
    const ttlMs = this.config.reservation_ttl_s * 1000;
    if (this.store.reserveNow) {
      for (;;) {
        const ticket = this.afterReserve(state, this.store.reserveNow(input.requestId, this.nextAttempt(state), ttlMs));
        if (ticket) return ticket;
      }
    }
    return this.admitRemote(state, ttlMs);
  }

  private async admitRemote(state: AttemptState<R>, ttlMs: number): Promise<LimitTicket<R>> {
    for (;;) {
      const items = this.nextAttempt(state);
      let result: ReserveResult;
      try {
        result = await this.store.reserve(state.input.requestId, items, ttlMs);
      } catch (error) {
        if (error instanceof StateUnavailableError) throw new GatewayError('BB_LIMITS_UNAVAILABLE', 'Limits cannot be checked right now (the shared limit store is unreachable); retry shortly.', { retryAfterSeconds: 1, cause: error });
        throw error;
      }
      const ticket = this.afterReserve(state, result);
      if (ticket) return ticket;
    }
  }

  /** Per-request caps, the ladder step and the counters to reserve on; undefined when no limits apply. */
  private prepare(input: LimitRequest<R>): AttemptState<R> | undefined {
    const sources = this.sourcesOf(input);
    if (sources.length === 0) return undefined;
    const request = input.request;
    const inputTokens = input.estimateInputTokens();
    let cap: number | undefined;
    for (const source of sources) {
      const inputCap = source.limits.max_input_tokens_per_request;
      if (inputCap !== undefined && inputTokens > inputCap) {
        throw new GatewayError('BB_INPUT_TOO_LARGE', `The prompt is about ${inputTokens} tokens; ${source.label} allows ${inputCap} per request.`, { param: 'messages' });
      }
      const outputCap = source.limits.max_output_tokens_per_request;
      if (outputCap !== undefined && request.maxTokens !== undefined && request.maxTokens > outputCap) {
        if (this.config.output_cap === 'refuse') throw new GatewayError('BB_OUTPUT_CAP_EXCEEDED', `max_tokens ${request.maxTokens} is above the cap of ${source.label} (${outputCap}).`, { param: 'max_tokens' });
        request.maxTokens = outputCap;
      }
      if (outputCap !== undefined) cap = Math.min(cap ?? outputCap, outputCap);
    }
    const actions: string[] = [];
    let route = input.route;
    const own = sources[0]?.scope.startsWith('key:') ? sources[0] : undefined;
    const conversationBudget = own?.limits.conversation_output_tokens;
    const conversationKey = input.conversationId === undefined || conversationBudget === undefined ? undefined : `${own?.scope}:${input.conversationId}`;
    if (conversationKey !== undefined) {
      const step = ladderStep(this.config.ladder, conversationBudget as number, this.conversations.used(conversationKey));
      if (step.kind !== 'full') this.applyStep(step.kind, request, input.principal, actions, (next) => (route = next));
    }
    const planned = sources.map((source) => ({
      source,
      defs: defsOf(source.limits).filter((def) => def.window !== 'conversation' || (source === own && conversationKey !== undefined)),
    }));
    return {
      input,
      route,
      actions,
      planned,
      priced: this.priceOf(route, planned, sources),
      conversationKey,
      inputTokens,
      maxOutput: request.maxTokens ?? cap ?? this.config.default_max_output_tokens,
      attempt: 0,
      items: [],
      expected: { inputTokens: 0, maxOutputTokens: 0, maxCost: 0 },
      now: 0,
    };
  }

  /** The counters and amounts of the next reservation attempt, on the store's clock. */
  private nextAttempt(state: AttemptState<R>): ReserveItem[] {
    const inputTokens = state.inputTokens;
    state.expected = { inputTokens, maxOutputTokens: state.maxOutput, maxCost: state.priced.maxCost(inputTokens, state.maxOutput) };
    state.now = this.store.now();
    const context = { conversationKey: state.conversationKey, now: state.now, config: this.config, outputMode: this.config.stream_overrun };
    state.items = state.planned.flatMap(({ source, defs }) => buildItems(defs, source.limits, state.expected, { ...context, scope: source.scope, label: source.label }));
    return state.items.map((item) => item.reserve);
  }

  /** A ticket when the reservation held; undefined to try once more (shortened); else the 429. */
  private afterReserve(state: AttemptState<R>, result: ReserveResult): LimitTicket<R> | undefined {
    const { items, conversationKey } = state;
    if (result.ok) {
      if (conversationKey !== undefined) this.conversations.reserved(conversationKey, items, result.used);
      return this.ticket(state, result.used);
    }
    const failed = items[result.index] as PlannedItem;
    if (failed.def.window === 'conversation' && conversationKey !== undefined) this.conversations.set(conversationKey, result.used);
    // Cut mode: a budget that still has room shortens the answer to fit, once.
    if (state.attempt === 0 && failed.overrun === 'cut' && failed.def.kind === 'budget' && failed.def.scalesWithOutput) {
      const fitted = fitOutput(failed.def, state.expected, failed.reserve.limit - result.used, state.priced);
      if (fitted >= 1 && fitted < state.maxOutput) {
        state.attempt += 1;
        state.maxOutput = fitted;
        state.input.request.maxTokens = fitted;
        state.actions.push(`clamped:${fitted}`);
        return undefined;
      }
    }
    throw limitError(failed, secondsUntil(failed.windowEndMs, state.now));
  }

  /**
   * Every set of limits that applies, each on its own counters: the caller's plan (per key), its
   * team's limits (shared by the team), the end customer's plan (per customer) and the model's
   * limits (shared by all callers of that model).
   */
  private sourcesOf(input: LimitRequest<R>): LimitSource[] {
    const sources: LimitSource[] = [];
    const plan = input.principal.plan;
    const planLimits = (plan?.spec as PlanConfig | undefined)?.limits;
    if (plan && planLimits) sources.push({ scope: `key:${input.principal.keyId}`, limits: planLimits, label: `plan '${plan.name}'` });
    const team = input.principal.teamName;
    const teamLimits = team === undefined ? undefined : this.lookups.teamLimits(team);
    if (team !== undefined && teamLimits) sources.push({ scope: `team:${team}`, limits: teamLimits, label: `team '${team}'` });
    if (input.customer !== undefined) {
      const customerPlan = this.lookups.customerPlan(input.customer);
      if (customerPlan?.limits) sources.push({ scope: `cust:${input.customer}`, limits: customerPlan.limits, label: `end-customer plan '${customerPlan.name}'` });
    }
    for (const entity of input.principal.entityLimits) sources.push({ scope: entity.scope, limits: entity.limits as Limits, label: entity.label });
    const routeLimits = input.endpoint === undefined ? undefined : this.config.routes[input.endpoint];
    if (routeLimits) sources.push({ scope: `route:${input.endpoint}`, limits: routeLimits, label: `route '${input.endpoint}'` });
    const modelLimits = this.lookups.modelLimits(input.route.name);
    if (modelLimits) sources.push({ scope: `model:${input.route.name}`, limits: modelLimits, label: `model '${input.route.name}'` });
    return sources;
  }

  private applyStep(kind: 'shorter' | 'cheaper', request: Pick<CanonicalRequest, 'maxTokens'>, principal: Principal, actions: string[], setRoute: (route: R) => void): void {
    const shorter = this.config.ladder.shorter_max_tokens;
    if (request.maxTokens === undefined || request.maxTokens > shorter) {
      request.maxTokens = shorter;
      actions.push(`clamped:${shorter}`);
    }
    const cheaper = principal.plan?.degradeTo;
    if (kind === 'cheaper' && cheaper !== undefined) {
      const next = this.routeByName(cheaper);
      if (next) {
        setRoute(next);
        actions.push(`degraded:${cheaper}`);
      }
    }
  }

  private priceOf(route: R, planned: AttemptState<R>['planned'], sources: readonly LimitSource[]): Priced {
    // Without a spend cap nothing here needs a price: skip the catalog on the hot path.
    if (!planned.some((entry) => entry.defs.some((def) => def.counter.startsWith('usd')))) return UNPRICED;
    let pricing = this.pricingByRoute.get(route);
    if (!pricing) {
      pricing = this.pricing(route);
      this.pricingByRoute.set(route, pricing);
    }
    if (!pricing.known) {
      const target = this.targetOf(route);
      const capped = sources.find((source) => source.limits.spend_per_day_usd !== undefined || source.limits.spend_per_month_usd !== undefined);
      if (this.unknownPrice === 'refuse') throw new GatewayError('BB_PRICE_UNKNOWN', `The model '${route.name}' has no known price, and ${capped?.label ?? 'a limit'} has a spend cap.`);
      this.warn(`no price for ${target?.providerType}/${target?.model}; counted as zero against spend caps`);
    }
    return pricing.priced;
  }

  /** How a route's requests are priced against spend caps; prices are fixed for a runtime's life, so once per route. */
  private pricing(route: R): { priced: Priced; known: boolean } {
    const target = this.targetOf(route);
    const probe = (input: number, output: number) => (target ? this.prices.costOf(target, { inputTokens: input, outputTokens: output }) : undefined);
    const priced: Priced = {
      maxCost: (input: number, output: number) => probe(input, output) ?? 0,
      outputCost: (probe(0, 1_000_000) ?? 0) / 1_000_000,
      cost: (usage: Usage | undefined, served: ServedModel | undefined) => (usage && served ? (this.prices.costOf(served, usage) ?? 0) : 0),
    };
    return { priced, known: probe(1, 1) !== undefined };
  }

  private ticket(state: AttemptState<R>, used: number[]): LimitTicket<R> {
    const items = state.items;
    const guardsOutput = items.some((item) => item.overrun === 'cut' && item.def.kind === 'budget' && item.def.scalesWithOutput);
    return {
      route: state.route,
      actions: state.actions,
      streamOutputCap: guardsOutput ? state.maxOutput : undefined,
      headers: rateLimitHeaders(items, used, state.now),
      settle: settlerOf(new Settlement(this.settlementTarget, state.input.requestId, items, state.conversationKey, state.priced.cost)),
    };
  }
}

/** The ticket's settle, in a scope of its own: what an open request keeps is the settlement alone. */
function settlerOf(settlement: Settlement): (usage: Usage | undefined, served: ServedModel | undefined) => void {
  return (usage, served) => settlement.settle(usage, served);
}

/** One admission in progress: what it reserves, and what a retry may change. */
interface AttemptState<R> {
  input: LimitRequest<R & LimitRoute>;
  route: R;
  actions: string[];
  planned: Array<{ source: LimitSource; defs: readonly LimitDef[] }>;
  priced: Priced;
  conversationKey: string | undefined;
  inputTokens: number;
  maxOutput: number;
  attempt: number;
  items: PlannedItem[];
  expected: Expected;
  now: number;
}

interface Priced {
  maxCost(inputTokens: number, outputTokens: number): number;
  /** Dollars per output token. */
  outputCost: number;
  cost(usage: Usage | undefined, served: ServedModel | undefined): number;
}

const definedDefs = new WeakMap<Limits, readonly LimitDef[]>();

/** The limit kinds a limits block sets, worked out once per block (config objects live long). */
function defsOf(limits: Limits): readonly LimitDef[] {
  let defs = definedDefs.get(limits);
  if (!defs) {
    defs = LIMIT_DEFS.filter((def) => limits[def.field] !== undefined);
    definedDefs.set(limits, defs);
  }
  return defs;
}

const UNPRICED: Priced = { maxCost: () => 0, outputCost: 0, cost: () => 0 };

/** The most output tokens that still fit a budget's room. */
function fitOutput(def: LimitDef, expected: Expected, room: number, priced: { outputCost: number; maxCost: (i: number, o: number) => number }): number {
  if (def.counter.startsWith('usd')) {
    const inputCost = priced.maxCost(expected.inputTokens, 0);
    return priced.outputCost > 0 ? Math.floor((room - inputCost) / priced.outputCost) : 0;
  }
  const withoutOutput = def.reserve({ ...expected, maxOutputTokens: 0 });
  return Math.floor(room - withoutOutput);
}

function limitError(item: PlannedItem, retryAfterSeconds: number): GatewayError {
  const what = `${item.def.field} of ${item.label} (${item.def.describe(item.reserve.limit)})`;
  const limit = item.def.field;
  if (item.def.kind === 'rate') return new GatewayError('BB_RATE_LIMITED', `Rate limit reached: ${what}. Retry after ${retryAfterSeconds} s.`, { retryAfterSeconds, limit });
  if (item.def.window === 'conversation') return new GatewayError('BB_BUDGET_EXCEEDED', `Budget used up: ${what}. Start a new conversation.`, { limit });
  return new GatewayError('BB_BUDGET_EXCEEDED', `Budget used up: ${what}. It resets in ${retryAfterSeconds} s.`, { retryAfterSeconds, limit });
}
