import type { AccessRuleConfig } from '../../config/identity-schema.js';
import { GatewayError } from '../../core/errors.js';
import type { EndpointName, Principal, Role } from '../../core/principal.js';

/** What was decided, recorded with the request. */
export interface AccessDecision {
  decision: 'allow' | 'deny';
  /** The rule that denied; absent when allowed. */
  rule?: string;
}

interface CompiledRule {
  name: string;
  models: ReadonlySet<string> | undefined;
  endpoints: ReadonlySet<EndpointName> | undefined;
  teams: ReadonlySet<string>;
  plans: ReadonlySet<string>;
  roles: ReadonlySet<Role>;
  users: ReadonlySet<string>;
}

export interface AccessRequest {
  endpoint: EndpointName;
  /** The public model asked for, when the endpoint has one. */
  model?: string;
}

export interface CustomerGate {
  /** End customers refused outright (by the admin API's `blocked` flag). */
  isBlocked(customerId: string): boolean;
}

/**
 * Access rules compiled once from config, plus the allowlists the principal carries. Every rule and
 * list that covers a request must allow it. A denial is a 403 that names the rule and nothing
 * else: not the allowed teams, not the other models.
 */
export class AccessPolicy {
  private readonly rules: readonly CompiledRule[];

  constructor(rules: readonly AccessRuleConfig[]) {
    this.rules = rules.map((rule) => ({
      name: rule.name,
      models: rule.models && new Set(rule.models),
      endpoints: rule.endpoints && new Set(rule.endpoints),
      teams: new Set(rule.allow.teams ?? []),
      plans: new Set(rule.allow.plans ?? []),
      roles: new Set(rule.allow.roles ?? []),
      users: new Set(rule.allow.users ?? []),
    }));
  }

  /** The first rule or allowlist that refuses this request, or undefined when all allow it. */
  deniedBy(principal: Principal, request: AccessRequest): string | undefined {
    for (const list of principal.endpointAllowLists) if (!list.allowed.has(request.endpoint)) return list.rule;
    if (request.model !== undefined) {
      for (const list of principal.modelAllowLists) if (!list.allowed.has(request.model)) return list.rule;
    }
    for (const rule of this.rules) {
      if (rule.endpoints && !rule.endpoints.has(request.endpoint)) continue;
      if (rule.models && (request.model === undefined || !rule.models.has(request.model))) continue;
      if (!matches(rule, principal)) return `access rule '${rule.name}'`;
    }
    return undefined;
  }

  /** Throws the 403 for a denied request; returns the decision to record otherwise. */
  check(principal: Principal, request: AccessRequest, customer?: { id: string; gate: CustomerGate }): AccessDecision {
    const rule = customer?.gate.isBlocked(customer.id) ? 'the blocked end-customer list' : this.deniedBy(principal, request);
    if (rule === undefined) return { decision: 'allow' };
    const what = request.model === undefined ? `the ${request.endpoint} endpoint` : `the model '${request.model}'`;
    throw new AccessDeniedError(rule, `Access to ${what} is denied by ${rule}.`);
  }

  /** Whether a model shows up in the caller's model list (same rules as a chat request). */
  canSeeModel(principal: Principal, model: string): boolean {
    return this.deniedBy(principal, { endpoint: 'chat', model }) === undefined;
  }
}

/** A 403 that remembers which rule refused, for the request record. */
export class AccessDeniedError extends GatewayError {
  constructor(
    readonly rule: string,
    message: string,
  ) {
    super('BB_ACCESS_DENIED', message);
  }
}

function matches(rule: CompiledRule, principal: Principal): boolean {
  if (principal.teamName !== undefined && rule.teams.has(principal.teamName)) return true;
  if (principal.plan !== undefined && rule.plans.has(principal.plan.name)) return true;
  if (principal.userName !== undefined && rule.users.has(principal.userName)) return true;
  return principal.roles.some((role) => rule.roles.has(role));
}
