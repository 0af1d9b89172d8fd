import type { ErrorClass, RoutingConfig, StrategyName } from '../config/routing-schema.js';
import type { Trust } from '../core/request-record.js';
import type { ProviderAdapter, TargetSpec } from '../providers/provider-adapter.js';
import type { BreakerBoard } from './breakers.js';
import { firstMatch, type CompiledRule, type RuleFacts } from './rules.js';
import { STRATEGY_BY_NAME, type StrategyContext } from './strategies/index.js';

/** A model target bound to its provider adapter, compiled once from config. */
export interface RoutedTarget extends TargetSpec {
  /** Stable key for health tracking across reloads: `provider/model#index`. */
  id: string;
  /** The label rules, headers and records use (config `name`, else provider/model). */
  name: string;
  weight: number;
  contextWindow: number | undefined;
  /** The provider's place relative to the trust boundary (guardrail egress rules). */
  trust: Trust;
  adapter: ProviderAdapter;
}

/** Another group to try after this one failed with one of `on`. */
export interface FallbackStep {
  model: string;
  on: ReadonlySet<ErrorClass>;
}

/** A public model name (a group of targets) and how its targets are chosen. */
export interface ModelRoute {
  name: string;
  targets: readonly RoutedTarget[];
  strategy: StrategyName;
  fallbacks: readonly FallbackStep[];
}

/** A rule's decision for one request, taken before limits (it can change the model that is priced). */
export interface RouteSelection {
  route: ModelRoute;
  rule: CompiledRule | undefined;
}

/** What the attempt loop needs to know about this request to order and filter targets. */
export interface PlanRequest {
  /** Estimated prompt tokens (computed only when a window or a price is consulted). */
  promptTokens: () => number;
  maxTokens: number | undefined;
  /** Plan degrade mode: retries and fallbacks never move to a costlier target. */
  sameOrCheaper: boolean;
  /** Guardrails: trust levels this request may not go to, with the entity that forbids each. */
  blockedTrust?: ReadonlyMap<Trust, string>;
}

/** Output tokens assumed for pricing a request that sets no max_tokens. */
const ASSUMED_OUTPUT_TOKENS = 256;

/**
 * Orders targets for one request: rules pick the group (and may narrow or extend it), the
 * strategy orders it, targets too small for the prompt are skipped, and breakers push unavailable
 * targets to the back (never out: a group whose targets are all open is tried anyway).
 */
export class Router {
  private readonly globalFallbacks: readonly FallbackStep[];

  constructor(
    private readonly models: ReadonlyMap<string, ModelRoute>,
    private readonly config: RoutingConfig,
    private readonly rules: readonly CompiledRule[],
    readonly board: BreakerBoard,
    private readonly costOf: (target: RoutedTarget, inputTokens: number, outputTokens: number) => number | undefined,
    private readonly random: () => number = Math.random,
  ) {
    this.globalFallbacks = config.fallbacks.map((fallback) => ({ model: fallback.model, on: new Set(fallback.on) }));
  }

  get hasRules(): boolean {
    return this.rules.length > 0;
  }

  /** Applies the first matching rule's `use_model`; narrowing and extending wait for `candidates`. */
  select(route: ModelRoute, facts: RuleFacts): RouteSelection {
    const rule = this.rules.length === 0 ? undefined : firstMatch(this.rules, facts);
    const useModel = rule?.action.useModel;
    return { route: (useModel !== undefined ? this.models.get(useModel) : undefined) ?? route, rule };
  }

  /** The ordered targets of a group for this request. `rule` narrows or extends them when given. */
  candidates(route: ModelRoute, request: PlanRequest, rule?: CompiledRule): RoutedTarget[] {
    let targets: readonly RoutedTarget[] = route.targets;
    const only = rule?.action.onlyTargets;
    if (only) {
      const kept = targets.filter((target) => only.has(target.name));
      if (kept.length > 0) targets = kept;
    }
    if (rule?.action.addModels) targets = this.withModels(targets, rule.action.addModels);
    targets = fitContext(targets, request);
    const context = this.strategyContext(request);
    const ordered = targets.length === 1 ? targets.slice() : STRATEGY_BY_NAME[route.strategy](targets, context);
    return this.healthFirst(ordered);
  }

  /** Fallback groups for an error class: the group's own, then the global ones, each once. */
  fallbacksFor(route: ModelRoute, errorClass: ErrorClass, visited: ReadonlySet<string>): ModelRoute[] {
    const out: ModelRoute[] = [];
    for (const step of [...route.fallbacks, ...this.globalFallbacks]) {
      if (!step.on.has(errorClass) || visited.has(step.model)) continue;
      const fallback = this.models.get(step.model);
      if (fallback && !out.includes(fallback)) out.push(fallback);
    }
    return out;
  }

  /** This request's estimated cost on a target; undefined when its price is unknown. */
  estimateCost(target: RoutedTarget, request: PlanRequest): number | undefined {
    return this.costOf(target, request.promptTokens(), request.maxTokens ?? ASSUMED_OUTPUT_TOKENS);
  }

  get retries(): RoutingConfig['retries'] {
    return this.config.retries;
  }

  private withModels(targets: readonly RoutedTarget[], models: readonly string[]): RoutedTarget[] {
    const out = targets.slice();
    const seen = new Set(out.map((target) => target.id));
    for (const name of models) {
      for (const target of this.models.get(name)?.targets ?? []) {
        if (!seen.has(target.id)) {
          seen.add(target.id);
          out.push(target);
        }
      }
    }
    return out;
  }

  private strategyContext(request: PlanRequest): StrategyContext {
    return {
      board: this.board,
      costOf: (target) => this.estimateCost(target, request),
      probeRatio: this.config.probe_ratio,
      random: this.random,
    };
  }

  /** Available targets in strategy order, then the rest by when they become available. */
  private healthFirst(ordered: RoutedTarget[]): RoutedTarget[] {
    const board = this.board;
    if (ordered.every((target) => board.isAvailable(target.id))) return ordered;
    const available = ordered.filter((target) => board.isAvailable(target.id));
    const waiting = ordered.filter((target) => !board.isAvailable(target.id)).sort((a, b) => board.availableAt(a.id) - board.availableAt(b.id));
    return [...available, ...waiting];
  }
}

/**
 * Skips targets whose known context window is smaller than the prompt plus the answer. When none
 * fits, only the largest stays: the estimate is approximate, so the upstream has the last word.
 */
function fitContext(targets: readonly RoutedTarget[], request: PlanRequest): readonly RoutedTarget[] {
  if (!targets.some((target) => target.contextWindow !== undefined)) return targets;
  const needed = request.promptTokens() + (request.maxTokens ?? 0);
  const fitting = targets.filter((target) => target.contextWindow === undefined || target.contextWindow >= needed);
  if (fitting.length > 0) return fitting;
  const largest = targets.reduce((best, target) => ((target.contextWindow ?? 0) > (best.contextWindow ?? 0) ? target : best));
  return [largest];
}
