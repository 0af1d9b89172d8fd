import type { ProviderAdapter, TargetSpec } from '../providers/provider-adapter.js';
import type { HealthTracker } from './health.js';

/** A model target bound to its provider adapter, compiled once from config. */
export interface RoutedTarget extends TargetSpec {
  /** Stable key for health tracking: `provider/model#index`. */
  id: string;
  adapter: ProviderAdapter;
}

/** A public model name and where it may be served. */
export interface ModelRoute {
  name: string;
  targets: readonly RoutedTarget[];
}

/**
 * Orders a model's targets for one request: healthy ones in configured order, then the ejected
 * ones, so a request is never refused just because every target recently failed.
 */
export function orderTargets(route: ModelRoute, health: HealthTracker): RoutedTarget[] {
  if (route.targets.length === 1) return route.targets as RoutedTarget[];
  const healthy: RoutedTarget[] = [];
  const ejected: RoutedTarget[] = [];
  for (const target of route.targets) (health.isHealthy(target.id) ? healthy : ejected).push(target);
  return ejected.length === 0 ? healthy : [...healthy, ...ejected];
}
