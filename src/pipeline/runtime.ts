import { createStaticKeyAuthenticator, type Authenticator } from '../auth/api-keys.js';
import type { Config } from '../config/schema.js';
import { GatewayError } from '../core/errors.js';
import type { Principal } from '../core/principal.js';
import type { ProviderAdapter } from '../providers/provider-adapter.js';
import { createProvider } from '../providers/registry.js';
import { HealthTracker } from '../routing/health.js';
import type { ModelRoute, RoutedTarget } from '../routing/router.js';

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
  readonly authenticate: Authenticator;
  readonly health: HealthTracker;
  /** Unix seconds when this runtime was built (reported as the models' `created`). */
  readonly createdAt: number;
  close(): Promise<void>;
}

export function createRuntime(config: Config): Runtime {
  const providers = new Map<string, ProviderAdapter>();
  for (const [name, providerConfig] of Object.entries(config.providers)) providers.set(name, createProvider(name, providerConfig));

  const models = new Map<string, ModelRoute>();
  for (const [name, model] of Object.entries(config.models)) {
    const targets: RoutedTarget[] = model.targets.map((target, index) => ({
      id: `${target.provider}/${target.model}#${index}`,
      providerName: target.provider,
      model: target.model,
      params: target.params,
      adapter: providers.get(target.provider) as ProviderAdapter,
    }));
    models.set(name, { name, targets });
  }

  return {
    config,
    providers,
    models,
    modelNames: [...models.keys()].sort(),
    authenticate: createStaticKeyAuthenticator(config.auth.api_keys, config.auth.disabled),
    health: new HealthTracker(),
    createdAt: Math.floor(Date.now() / 1000),
    async close() {
      await Promise.all([...providers.values()].map((provider) => provider.close()));
    },
  };
}

/**
 * Admission for the model: the name must exist and the principal may use it. An unknown and a
 * forbidden name get the same 404, so callers cannot probe which models exist.
 */
export function resolveModel(runtime: Runtime, principal: Principal, name: string): ModelRoute {
  const route = runtime.models.get(name);
  if (!route || (principal.allowedModels && !principal.allowedModels.has(name))) {
    throw new GatewayError('BB_MODEL_NOT_FOUND', `The model '${name}' does not exist or you do not have access to it.`, { param: 'model' });
  }
  return route;
}

export function visibleModelNames(runtime: Runtime, principal: Principal): string[] {
  const allowed = principal.allowedModels;
  return allowed ? runtime.modelNames.filter((name) => allowed.has(name)) : [...runtime.modelNames];
}
