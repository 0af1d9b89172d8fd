/**
 * Who is calling. Resolved once per request by `auth/` (from a static key, a virtual key or a
 * JWT), then read by policies, routing, records and the admin API.
 */

/** Roles, from least to most rights: member calls models, viewer also reads the admin API. */
export const ROLES = ['member', 'viewer', 'team-admin', 'admin'] as const;
export type Role = (typeof ROLES)[number];

/** Endpoint names for allowlists. */
export const ENDPOINTS = ['chat', 'embeddings', 'models', 'count_tokens'] as const;
export type EndpointName = (typeof ENDPOINTS)[number];

/** A named allowlist; a denial names `rule`, never the list's contents. */
export interface AllowList<T extends string = string> {
  rule: string;
  allowed: ReadonlySet<T>;
}

/** A plan resolved onto the principal: entitlements that limits, budgets and routing read. */
export interface ResolvedPlan {
  name: string;
  /** The plan's full entitlements as configured (limits, budgets, degrade target, ...). */
  spec: Readonly<Record<string, unknown>>;
  /** A cheaper public model to fall back to as budgets run out. */
  degradeTo?: string;
}

export interface Principal {
  /** How the caller proved who it is. */
  source: 'static-key' | 'virtual-key' | 'jwt' | 'admin-key' | 'anonymous';
  /** Stable id of the credential (never the secret itself). */
  keyId: string;
  /** Human name of the key, for logs and records. */
  keyName: string;
  /** A short, non-secret prefix of the key for display, e.g. `bb-quic…`. */
  displayPrefix: string;
  userId?: string;
  userName?: string;
  teamId?: string;
  teamName?: string;
  orgId?: string;
  plan?: ResolvedPlan;
  roles: readonly Role[];
  /** Every model allowlist that applies (key, user, team, plan); a model must pass all of them. */
  modelAllowLists: readonly AllowList[];
  /** Every endpoint allowlist that applies. */
  endpointAllowLists: readonly AllowList<EndpointName>[];
  tags: readonly string[];
  metadata: Readonly<Record<string, unknown>>;
  /**
   * Limits set on the key or the user itself (besides the plan's), each with the scope its
   * counters share: `keylim:<key id>` for the key alone, `user:<user id>` for all the user's keys.
   */
  entityLimits: ReadonlyArray<{ scope: string; label: string; limits: Readonly<Record<string, unknown>> }>;
}

/** The principal used when `auth.disabled` is set (local experiments only). */
export const ANONYMOUS_PRINCIPAL: Principal = {
  source: 'anonymous',
  keyId: 'anonymous',
  keyName: 'anonymous',
  displayPrefix: '',
  roles: ['member'],
  modelAllowLists: [],
  endpointAllowLists: [],
  tags: [],
  metadata: {},
  entityLimits: [],
};

export function hasRole(principal: Principal, role: Role): boolean {
  return principal.roles.includes(role);
}

/** The strongest role a principal holds (member when it holds none). */
export function topRole(principal: Principal): Role {
  let best = 0;
  for (const role of principal.roles) best = Math.max(best, ROLES.indexOf(role));
  return ROLES[best] as Role;
}
