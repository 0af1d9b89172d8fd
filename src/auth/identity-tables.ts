import type { Config } from '../config/schema.js';
import { planLimitsSchema, planSchema, type PlanConfig } from '../config/identity-schema.js';
import type { AllowList, EndpointName, Principal, ResolvedPlan, Role } from '../core/principal.js';
import type { CustomerRecord, IdentitySnapshot, KeyStatus, UserRecord } from '../store/records.js';
import { displayPrefix, hashKey } from './key-secrets.js';

/** A team from config or the store, as principals and access rules see it. */
export interface TeamEntry {
  id: string;
  name: string;
  orgId?: string;
  plan?: string;
  models?: readonly string[];
  endpoints?: readonly EndpointName[];
  /** Limits shared by the whole team (config `teams.<name>.limits`, or the store's). */
  limits?: Readonly<Record<string, unknown>>;
}

export interface PlanEntry extends ResolvedPlan {
  config: PlanConfig;
}

/** A credential found by its hash; status and expiry are checked on every use, not at build time. */
export interface KeyEntry {
  principal: Principal;
  status: KeyStatus;
  expiresAtMs: number | undefined;
}

/**
 * Config and store records compiled into lookup maps: resolving a principal is one hash and one
 * map read, no I/O. A new table set is built whenever the store's revision changes, then swapped in.
 */
export interface IdentityTables {
  readonly revision: number;
  readonly keysByHash: ReadonlyMap<string, KeyEntry>;
  readonly teamsByName: ReadonlyMap<string, TeamEntry>;
  readonly teamsById: ReadonlyMap<string, TeamEntry>;
  readonly usersById: ReadonlyMap<string, UserRecord>;
  readonly usersByName: ReadonlyMap<string, UserRecord>;
  readonly plans: ReadonlyMap<string, PlanEntry>;
  readonly customers: ReadonlyMap<string, CustomerRecord>;
  /** Plan names the store holds whose spec did not validate (reported, never applied). */
  readonly invalidPlans: readonly string[];
}

/** What a principal is built from, wherever the credential came from. */
export interface PrincipalParts {
  source: Principal['source'];
  keyId: string;
  keyName: string;
  displayPrefix: string;
  user?: { id?: string; name: string; plan?: string; models?: readonly string[]; role?: Role; limits?: Readonly<Record<string, unknown>> };
  /** Limits of the key itself. */
  limits?: Readonly<Record<string, unknown>>;
  teamName?: string;
  /** A plan named by the credential itself (key or token); wins over user and team plans. */
  plan?: string;
  roles?: readonly Role[];
  models?: readonly string[];
  endpoints?: readonly EndpointName[];
  tags?: readonly string[];
  metadata?: Readonly<Record<string, unknown>>;
}

export function buildIdentityTables(config: Config, snapshot: IdentitySnapshot | undefined): IdentityTables {
  const plans = new Map<string, PlanEntry>();
  const invalidPlans: string[] = [];
  for (const [name, plan] of Object.entries(config.plans)) plans.set(name, planEntry(name, plan));
  for (const record of snapshot?.plans ?? []) {
    if (plans.has(record.name)) continue; // config wins; the admin API refuses such names anyway
    const parsed = planSchema.safeParse(record.spec);
    if (parsed.success) plans.set(record.name, planEntry(record.name, parsed.data));
    else invalidPlans.push(record.name);
  }

  const teamsByName = new Map<string, TeamEntry>();
  for (const team of snapshot?.teams ?? []) {
    teamsByName.set(team.name, { id: team.id, name: team.name, orgId: team.orgId, plan: team.plan, models: team.models, endpoints: team.endpoints as EndpointName[] | undefined, limits: validLimits(team.limits) });
  }
  // Config teams are mirrored into the store at start; config stays the source of their fields.
  for (const [name, team] of Object.entries(config.teams)) {
    const stored = teamsByName.get(name);
    teamsByName.set(name, { id: stored?.id ?? `config:${name}`, orgId: stored?.orgId, name, ...team });
  }
  const teamsById = new Map<string, TeamEntry>([...teamsByName.values()].map((team) => [team.id, team]));

  const usersById = new Map((snapshot?.users ?? []).map((user) => [user.id, user]));
  const tables = {
    revision: snapshot?.revision ?? 0,
    keysByHash: new Map<string, KeyEntry>(),
    teamsByName,
    teamsById,
    usersById,
    usersByName: new Map((snapshot?.users ?? []).map((user) => [user.name, user])),
    plans,
    customers: new Map((snapshot?.customers ?? []).map((customer) => [customer.id, customer])),
    invalidPlans,
  };

  for (const key of config.auth.api_keys) {
    const principal = buildPrincipal(tables, config.auth.default_plan, {
      source: 'static-key',
      keyId: `static:${key.name}`,
      keyName: key.name,
      displayPrefix: displayPrefix(key.key),
      user: key.user === undefined ? undefined : { name: key.user },
      teamName: key.team,
      plan: key.plan,
      roles: key.roles,
      models: key.models,
      endpoints: key.endpoints,
    });
    tables.keysByHash.set(hashKey(key.key), { principal, status: 'enabled', expiresAtMs: undefined });
  }
  for (const key of snapshot?.apiKeys ?? []) {
    const owner = key.ownerType === 'user' ? usersById.get(key.ownerId) : undefined;
    const team = key.ownerType === 'team' ? teamsById.get(key.ownerId) : owner?.teamId === undefined ? undefined : teamsById.get(owner.teamId);
    const principal = buildPrincipal(tables, config.auth.default_plan, {
      source: 'virtual-key',
      keyId: key.id,
      keyName: key.name,
      displayPrefix: key.displayPrefix,
      user: owner && { id: owner.id, name: owner.name, plan: owner.plan, models: owner.models, role: owner.role, limits: validLimits(owner.limits) },
      limits: validLimits(key.limits),
      teamName: team?.name,
      plan: key.plan,
      models: key.models,
      endpoints: key.endpoints as EndpointName[] | undefined,
      tags: key.tags,
      metadata: key.metadata,
    });
    tables.keysByHash.set(key.keyHash, { principal, status: key.status, expiresAtMs: key.expiresAt === undefined ? undefined : Date.parse(key.expiresAt) });
  }
  return tables;
}

/**
 * Resolves plan, team and allowlists onto a principal. The plan is the first one named by the
 * credential, the user, the team, or `auth.default_plan`; every allowlist on the way applies.
 */
export function buildPrincipal(tables: Pick<IdentityTables, 'plans' | 'teamsByName'>, defaultPlan: string | undefined, parts: PrincipalParts): Principal {
  const team = parts.teamName === undefined ? undefined : tables.teamsByName.get(parts.teamName);
  const planName = parts.plan ?? parts.user?.plan ?? team?.plan ?? defaultPlan;
  const plan = planName === undefined ? undefined : tables.plans.get(planName);
  const modelAllowLists: AllowList[] = [];
  const endpointAllowLists: AllowList<EndpointName>[] = [];
  const addModels = (rule: string, list: readonly string[] | undefined) => list && modelAllowLists.push({ rule, allowed: new Set(list) });
  const addEndpoints = (rule: string, list: readonly EndpointName[] | undefined) => list && endpointAllowLists.push({ rule, allowed: new Set(list) });
  addModels(`the model list of key '${parts.keyName}'`, parts.models);
  addEndpoints(`the endpoint list of key '${parts.keyName}'`, parts.endpoints);
  if (parts.user) addModels(`the model list of user '${parts.user.name}'`, parts.user.models);
  if (team) {
    addModels(`the model list of team '${team.name}'`, team.models);
    addEndpoints(`the endpoint list of team '${team.name}'`, team.endpoints);
  }
  if (plan) {
    addModels(`the model list of plan '${plan.name}'`, plan.config.models);
    addEndpoints(`the endpoint list of plan '${plan.name}'`, plan.config.endpoints);
  }
  const roles = parts.roles ?? (parts.user?.role === undefined ? ['member' as const] : [parts.user.role]);
  return {
    source: parts.source,
    keyId: parts.keyId,
    keyName: parts.keyName,
    displayPrefix: parts.displayPrefix,
    userId: parts.user?.id,
    userName: parts.user?.name,
    teamId: team?.id,
    teamName: parts.teamName,
    orgId: team?.orgId,
    plan: plan && { name: plan.name, spec: plan.spec, degradeTo: plan.degradeTo },
    roles,
    modelAllowLists,
    endpointAllowLists,
    tags: parts.tags ?? [],
    metadata: parts.metadata ?? {},
    entityLimits: entityLimitsOf(parts),
  };
}

function entityLimitsOf(parts: PrincipalParts): Principal['entityLimits'] {
  const out: Array<Principal['entityLimits'][number]> = [];
  if (parts.limits) out.push({ scope: `keylim:${parts.keyId}`, label: `key '${parts.keyName}'`, limits: parts.limits });
  if (parts.user?.limits && parts.user.id !== undefined) out.push({ scope: `user:${parts.user.id}`, label: `user '${parts.user.name}'`, limits: parts.user.limits });
  return out;
}

/** Store limits are checked when written; a row that does not parse is ignored, never half-applied. */
export function validLimits(limits: Record<string, unknown> | undefined): Readonly<Record<string, unknown>> | undefined {
  if (limits === undefined) return undefined;
  const parsed = planLimitsSchema.safeParse(limits);
  return parsed.success ? (parsed.data as Record<string, unknown>) : undefined;
}

function planEntry(name: string, config: PlanConfig): PlanEntry {
  return { name, spec: config as Record<string, unknown>, degradeTo: config.degrade_to, config };
}
