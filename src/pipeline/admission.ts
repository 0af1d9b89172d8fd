import type { EndpointName, Principal } from '../core/principal.js';
import type { ModelRoute } from '../routing/router.js';
import type { RequestScope } from './request-scope.js';
import { resolveModel, type Runtime } from './runtime.js';

/**
 * Admission for a model request: the model must exist (else 404), then access rules and the
 * caller's allowlists must let it through (else 403 naming the rule). Limits, guards and budgets
 * join here as they arrive.
 */
export function admitModelRequest(runtime: Runtime, scope: RequestScope, principal: Principal, endpoint: EndpointName, model: string, customer: string | undefined): ModelRoute {
  const route = resolveModel(runtime, model);
  scope.checkAccess(runtime.access, runtime.identity, principal, { endpoint, model }, customer);
  return route;
}
