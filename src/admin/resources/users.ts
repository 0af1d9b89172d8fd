import { z } from 'zod';
import { planLimitsSchema } from '../../config/identity-schema.js';
import { GatewayError } from '../../core/errors.js';
import type { UserRecord } from '../../store/index.js';
import { roleRank } from '../actor.js';
import { forbidden, invalid, notFound, type AdminContext } from '../context.js';
import { ok, type AdminRoute } from '../route.js';
import { listOf, metadataSchema, modelsSchema, nameSchema, planNameSchema, roleSchema, userOut } from '../schemas.js';
import { defaultOrganizationId } from '../seed.js';

const createBody = z.strictObject({
  name: nameSchema.describe('Unique login name or email address.'),
  team_id: z.string().optional().describe('Team-admins may only add users to their own team (the default for them).'),
  org_id: z.string().optional().describe("Defaults to the team's organization, else \"default\"."),
  role: roleSchema.default('member'),
  plan: planNameSchema.optional(),
  models: modelsSchema.optional(),
  limits: planLimitsSchema.optional().describe("Limits shared by all the user's keys."),
  metadata: metadataSchema.optional(),
});
const updateBody = z.strictObject({
  name: nameSchema.optional(),
  team_id: z.string().nullable().optional(),
  role: roleSchema.optional(),
  plan: planNameSchema.nullable().optional(),
  models: modelsSchema.nullable().optional(),
  limits: planLimitsSchema.nullable().optional(),
  metadata: metadataSchema.optional(),
});

export function userJson(user: UserRecord): z.infer<typeof userOut> {
  return {
    id: user.id,
    org_id: user.orgId,
    team_id: user.teamId ?? null,
    name: user.name,
    role: user.role,
    plan: user.plan ?? null,
    models: user.models ?? null,
    limits: user.limits ?? null,
    metadata: user.metadata,
    created_at: user.createdAt,
    updated_at: user.updatedAt,
  };
}

export async function visibleUser(ctx: AdminContext, id: string): Promise<UserRecord> {
  const user = await ctx.store.users.get(id);
  if (!user || !ctx.seesTeam(user.teamId)) throw notFound('user', id);
  return user;
}

/** Team-scoped callers may only place users in their own team. */
async function checkTeam(ctx: AdminContext, teamId: string | null | undefined): Promise<void> {
  if (teamId === undefined) return;
  if (teamId === null) {
    if (!ctx.isAdmin) throw forbidden('take a user out of your team');
    return;
  }
  const team = await ctx.store.teams.get(teamId);
  if (!team || !ctx.seesTeam(team.id)) throw invalid('team_id', `No team with id '${teamId}'.`);
}

/** Nobody acts on someone holding a stronger role than their own. */
function checkTarget(ctx: AdminContext, user: UserRecord): void {
  if (roleRank(user.role) > roleRank(ctx.actor.role)) throw forbidden('change a user with a stronger role');
}

export const userRoutes: AdminRoute[] = [
  {
    method: 'GET', path: '/users', tag: 'users', summary: 'List users', status: 200, response: listOf(userOut),
    async handler(ctx) {
      const users = (await ctx.store.users.list()).filter((user) => ctx.seesTeam(user.teamId));
      return ok({ data: users.map(userJson) });
    },
  },
  {
    method: 'POST', path: '/users', tag: 'users', summary: 'Create a user', status: 201, body: createBody, response: userOut,
    async handler(ctx, _params, body) {
      ctx.requireWrite();
      const input = body as z.infer<typeof createBody>;
      const teamId = input.team_id ?? (ctx.isAdmin ? undefined : ctx.actor.teamId);
      if (!ctx.isAdmin && teamId === undefined) throw forbidden('create users outside a team');
      await checkTeam(ctx, teamId);
      ctx.checkReferences(input);
      ctx.checkGrant(input);
      ctx.checkLimitsChange(input);
      const team = teamId === undefined ? undefined : await ctx.store.teams.get(teamId);
      const user = await ctx.store.users.create({
        name: input.name,
        orgId: input.org_id ?? team?.orgId ?? (await defaultOrganizationId(ctx.store)),
        teamId,
        role: input.role,
        plan: input.plan,
        models: input.models,
        limits: input.limits as Record<string, unknown> | undefined,
        metadata: input.metadata ?? {},
      });
      await ctx.changed();
      return ok(userJson(user), 201);
    },
  },
  {
    method: 'GET', path: '/users/{id}', tag: 'users', summary: 'Read a user', status: 200, response: userOut,
    async handler(ctx, params) {
      return ok(userJson(await visibleUser(ctx, params.id as string)));
    },
  },
  {
    method: 'PATCH', path: '/users/{id}', tag: 'users', summary: 'Update a user', status: 200, body: updateBody, response: userOut,
    async handler(ctx, params, body) {
      const existing = await visibleUser(ctx, params.id as string);
      ctx.requireWrite();
      const input = body as z.infer<typeof updateBody>;
      if (input.role !== undefined && input.role !== existing.role && existing.id === ctx.actor.userId) {
        throw new GatewayError('BB_ADMIN_FORBIDDEN', 'Nobody may change their own role.');
      }
      checkTarget(ctx, existing);
      await checkTeam(ctx, input.team_id);
      ctx.checkReferences(input);
      ctx.checkGrant(input);
      ctx.checkLimitsChange(input);
      const user = await ctx.store.users.update(existing.id, { name: input.name, teamId: input.team_id, role: input.role, plan: input.plan, models: input.models, limits: input.limits as Record<string, unknown> | null | undefined, metadata: input.metadata });
      if (!user) throw notFound('user', existing.id);
      await ctx.changed();
      return ok(userJson(user));
    },
  },
  {
    method: 'DELETE', path: '/users/{id}', tag: 'users', summary: 'Delete a user (revoke or delete their keys first)', status: 204,
    async handler(ctx, params) {
      const existing = await visibleUser(ctx, params.id as string);
      ctx.requireWrite();
      checkTarget(ctx, existing);
      if (existing.id === ctx.actor.userId) throw forbidden('delete yourself');
      if (!(await ctx.store.users.delete(existing.id))) throw notFound('user', existing.id);
      await ctx.changed();
      return ok(undefined, 204);
    },
  },
];
