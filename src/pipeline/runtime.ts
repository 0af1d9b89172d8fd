import type { Identity } from '../auth/identity.js';
import type { Config } from '../config/schema.js';
import { GatewayError } from '../core/errors.js';
import type { PlanConfig } from '../config/identity-schema.js';
import type { Principal } from '../core/principal.js';
import type { TraceHeaderSource } from '../core/trace-context.js';
import { AccessPolicy } from '../policies/access/index.js';
import { createRedactor, Guardrails } from '../policies/guardrails/index.js';
import { LimitsPolicy } from '../policies/limits/index.js';
import type { PriceLookup } from '../usage/pricing/price-lookup.js';
import type { StateStore } from '../state/state-store.js';
import type { ProviderAdapter } from '../providers/provider-adapter.js';
import { createProvider } from '../providers/registry.js';
import { BreakerBoard } from '../routing/breakers.js';
import { Router, type ModelRoute, type RoutedTarget } from '../routing/router.js';
import { compileRules } from '../routing/rules.js';

/**
 * The config compiled once into lookup tables: nothing here is re-derived per request. A config
 * reload builds a new Runtime and swaps it in.
 */
export interface Runtime {
  readonly config: Config;
  readonly providers: ReadonlyMap<string, ProviderAdapter>;
  readonly models: ReadonlyMap<string, ModelRoute>;
  /** Public model names, sorted, for `GET /v1/models`. */
  readonly modelNames: readonly string[];
  /** Principals from keys and tokens; outlives config reloads (it owns the store's refresh loop). */
  readonly identity: Identity;
  readonly access: AccessPolicy;
  readonly limits: LimitsPolicy<ModelRoute>;
  /** Rules, strategies, fallbacks; its breaker board outlives reloads. */
  readonly router: Router;
  /** Trace headers for upstream calls; undefined: the client's trace headers are forwarded as sent. */
  readonly traceHeaders: TraceHeaderSource | undefined;
  /** Masks personal data and secrets in text the ledger stores (built on first use). */
  bodyRedactor(): (text: string) => string;
  /** Input and output guards, compiled once. */
  readonly guardrails: Guardrails;
  /** Prices for settled usage (the lookup in force: a reload may replace it). */
  readonly prices: PriceLookup;
  /** Unix seconds when this runtime was built (reported as the models' `created`). */
  readonly createdAt: number;
  /** What `GET /metrics` serves; undefined when metrics are off. */
  readonly metrics: MetricsExposition | undefined;
  close(): Promise<void>;
}

/** Prometheus text for the metrics endpoint (telemetry/metrics.ts implements it; the pipeline may not import it). */
export interface MetricsExposition {
  readonly contentType: string;
  render(): Promise<string>;
}

type PlanLimits = NonNullable<PlanConfig['limits']>;

/** What outlives a config reload and is shared by every runtime built on it. */
export interface RuntimeServices {
  identity: Identity;
  state: StateStore;
  prices: PriceLookup;
  /** Trace context for upstream calls (tracing on: our span's traceparent; off: the client's, as sent). */
  traceHeaders?: TraceHeaderSource;
  /** Circuit breakers and latency per target: a reload keeps what was learnt. */
  breakers?: BreakerBoard;
  /** The gateway's metrics (one registry for the process's life, whatever reloads happen). */
  metrics?: MetricsExposition;
  warn?: (message: string) => void;
}

export function createRuntime(config: Config, services: RuntimeServices): Runtime {
  const { identity } = services;
  const providers = new Map<string, ProviderAdapter>();
  for (const [name, providerConfig] of Object.entries(config.providers)) providers.set(name, createProvider(name, providerConfig));

  const models = new Map<string, ModelRoute>();
  for (const [name, model] of Object.entries(config.models)) {
    const targets: RoutedTarget[] = model.targets.map((target) => ({
      // Keyed by the upstream deployment, so groups sharing it share its breaker and latency.
      id: `${target.provider}/${target.model}`,
      name: target.name ?? `${target.provider}/${target.model}`,
      providerName: target.provider,
      model: target.model,
      params: target.params,
      weight: target.weight,
      contextWindow: target.context_window,
      trust: config.providers[target.provider]?.trust ?? 'external',
      adapter: providers.get(target.provider) as ProviderAdapter,
    }));
    const fallbacks = model.fallbacks.map((fallback) => ({ model: fallback.model, on: new Set(fallback.on) }));
    models.set(name, { name, targets, strategy: model.strategy, fallbacks });
  }
  // Kept on the shared services object, so every runtime a reload builds sees the same breakers.
  const board = (services.breakers ??= new BreakerBoard(config.routing.breaker));
  board.configure(config.routing.breaker);
  const router = new Router(models, config.routing, compileRules(config.routing.rules), board, (target, inputTokens, outputTokens) =>
    services.prices.costOf({ providerName: target.providerName, providerType: target.adapter.type, model: target.model }, { inputTokens, outputTokens }),
  );

  let redactor: ((text: string) => string) | undefined;
  return {
    config,
    providers,
    models,
    modelNames: [...models.keys()].sort(),
    identity,
    access: new AccessPolicy(config.access.rules),
    limits: new LimitsPolicy<ModelRoute>(
      config.limits,
      services.state,
      services.prices,
      config.pricing.unknown_price,
      (name) => models.get(name),
      (route) => {
        const first = route.targets[0];
        return first && { providerName: first.providerName, providerType: first.adapter.type, model: first.model };
      },
      {
        teamLimits: (team) => identity.current.teamsByName.get(team)?.limits as PlanLimits | undefined,
        modelLimits: (model) => config.models[model]?.limits,
        customerPlan: (customer) => {
          const planName = identity.current.customers.get(customer)?.plan;
          const plan = planName === undefined ? undefined : identity.current.plans.get(planName);
          return plan && { name: plan.name, limits: plan.config.limits };
        },
      },
      services.warn,
    ),
    router,
    guardrails: new Guardrails(config.guardrails),
    bodyRedactor: () => (redactor ??= createRedactor(config.guardrails)),
    get traceHeaders() {
      return services.traceHeaders;
    },
    get prices() {
      return services.prices;
    },
    createdAt: Math.floor(Date.now() / 1000),
    get metrics() {
      return services.metrics;
    },
    async close() {
      await Promise.all([...providers.values()].map((provider) => provider.close()));
    },
  };
}

/** The model must exist; whether this caller may use it is the access policy's call (a 403). */
export function resolveModel(runtime: Runtime, name: string): ModelRoute {
  const route = runtime.models.get(name);
  if (!route) throw new GatewayError('BB_MODEL_NOT_FOUND', `The model '${name}' does not exist.`, { param: 'model' });
  return route;
}

/** Models the caller may use; a forbidden model is left out as if it did not exist. */
export function visibleModelNames(runtime: Runtime, principal: Principal): string[] {
  return runtime.modelNames.filter((name) => runtime.access.canSeeModel(principal, name));
}
