import type { Identity } from '../auth/identity.js';
import type { Config } from '../config/schema.js';
import { GatewayError } from '../core/errors.js';
import type { AccessPolicy } from '../policies/access/index.js';
import type { RecordStore } from '../store/index.js';
import { roleRank, type Actor } from './actor.js';

/** Everything an admin handler needs; built per admin request. */
export class AdminContext {
  constructor(
    readonly actor: Actor,
    readonly store: RecordStore,
    readonly identity: Identity,
    readonly config: Config,
    readonly access: AccessPolicy,
  ) {}

  get isAdmin(): boolean {
    return this.actor.role === 'admin';
  }

  /** Viewers read; everyone else with an admin role may write within their scope. */
  requireWrite(): void {
    if (this.actor.role === 'viewer') throw new GatewayError('BB_ADMIN_FORBIDDEN', 'The viewer role is read-only.');
  }

  requireAdmin(action: string): void {
    if (!this.isAdmin) throw new GatewayError('BB_ADMIN_FORBIDDEN', `Only the admin role may ${action}.`);
  }

  /** Whether the actor may see objects of this team: admins and unscoped viewers see all. */
  seesTeam(teamId: string | undefined): boolean {
    if (this.isAdmin) return true;
    if (this.actor.teamId === undefined) return this.actor.role === 'viewer';
    return teamId !== undefined && teamId === this.actor.teamId;
  }

  /** After every change: this instance's tables catch up before the response goes out. */
  async changed(): Promise<void> {
    await this.identity.refresh();
  }

  planExists(name: string): boolean {
    return this.identity.current.plans.has(name);
  }

  /** Limits on an object are set by admins only: a team-admin could otherwise lift its own. */
  checkLimitsChange(fields: { limits?: unknown }): void {
    if (fields.limits !== undefined) this.requireAdmin('set limits');
  }

  /** Refuses unknown plans and models with a 400 naming the field. */
  checkReferences(fields: { plan?: string | null; models?: readonly string[] | null }): void {
    if (typeof fields.plan === 'string' && !this.planExists(fields.plan)) throw invalid('plan', `Unknown plan '${fields.plan}'.`);
    for (const model of fields.models ?? []) {
      if (!(model in this.config.models)) throw invalid('models', `Unknown model '${model}'.`);
    }
  }

  /**
   * No escalation: what a non-admin grants (plan, models, a role) must be within its own rights.
   * A plan is within rights when it is the actor's own plan or its team's; models when the actor
   * itself may use each of them.
   */
  checkGrant(fields: { plan?: string | null; models?: readonly string[] | null; role?: string }): void {
    if (this.isAdmin) return;
    const principal = this.actor.principal;
    if (typeof fields.plan === 'string') {
      const team = this.actor.teamName === undefined ? undefined : this.identity.current.teamsByName.get(this.actor.teamName);
      if (fields.plan !== principal?.plan?.name && fields.plan !== team?.plan) throw forbidden(`grant the plan '${fields.plan}'`);
    }
    for (const model of fields.models ?? []) {
      if (!principal || !this.access.canSeeModel(principal, model)) throw forbidden(`grant the model '${model}'`);
    }
    if (fields.role !== undefined && roleRank(fields.role as Actor['role']) > roleRank(this.actor.role)) throw forbidden(`grant the role '${fields.role}'`);
  }
}

export function invalid(param: string, message: string): GatewayError {
  return new GatewayError('BB_INVALID_REQUEST', message, { param });
}

export function forbidden(action: string): GatewayError {
  return new GatewayError('BB_ADMIN_FORBIDDEN', `Your role may not ${action}.`);
}

export function notFound(kind: string, id: string): GatewayError {
  // Ids come from the URL: quote a bounded piece of them.
  const shown = id.length > 80 ? `${id.slice(0, 80)}…` : id;
  return new GatewayError('BB_ADMIN_NOT_FOUND', `No ${kind} with id '${shown}'.`);
}
