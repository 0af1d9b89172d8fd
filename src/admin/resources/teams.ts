import { z } from 'zod';
import { GatewayError } from '../../core/errors.js';
import type { TeamRecord } from '../../store/index.js';
import { notFound, type AdminContext } from '../context.js';
import { ok, type AdminRoute } from '../route.js';
import { planLimitsSchema } from '../../config/identity-schema.js';
import { endpointsSchema, listOf, metadataSchema, modelsSchema, planNameSchema, teamOut } from '../schemas.js';
import { defaultOrganizationId } from '../seed.js';

const teamName = z.string().regex(/^[\w.-]{1,100}$/, 'letters, digits, _ . - only');
const createBody = z.strictObject({
  name: teamName,
  org_id: z.string().optional().describe('Defaults to the organization named "default".'),
  plan: planNameSchema.optional(),
  models: modelsSchema.optional(),
  endpoints: endpointsSchema.optional(),
  limits: planLimitsSchema.optional(),
  metadata: metadataSchema.optional(),
});
const updateBody = z.strictObject({
  name: teamName.optional(),
  plan: planNameSchema.nullable().optional(),
  models: modelsSchema.nullable().optional(),
  endpoints: endpointsSchema.nullable().optional(),
  limits: planLimitsSchema.nullable().optional(),
  metadata: metadataSchema.optional(),
});

export function teamJson(ctx: AdminContext, team: TeamRecord): z.infer<typeof teamOut> {
  return {
    id: team.id,
    org_id: team.orgId,
    name: team.name,
    plan: team.plan ?? null,
    models: team.models ?? null,
    endpoints: (team.endpoints as z.infer<typeof endpointsSchema> | undefined) ?? null,
    limits: team.limits ?? null,
    managed_by_config: team.name in ctx.config.teams,
    metadata: team.metadata,
    created_at: team.createdAt,
    updated_at: team.updatedAt,
  };
}

/** Another team's object reads as 404: a scoped caller cannot tell it exists. */
export async function visibleTeam(ctx: AdminContext, id: string): Promise<TeamRecord> {
  const team = await ctx.store.teams.get(id);
  if (!team || !ctx.seesTeam(team.id)) throw notFound('team', id);
  return team;
}

function refuseConfigTeam(ctx: AdminContext, team: TeamRecord): void {
  if (team.name in ctx.config.teams) {
    throw new GatewayError('BB_ADMIN_CONFLICT', `Team '${team.name}' is defined in the config file; change it there.`);
  }
}

export const teamRoutes: AdminRoute[] = [
  {
    method: 'GET', path: '/teams', tag: 'teams', summary: 'List teams', status: 200, response: listOf(teamOut),
    async handler(ctx) {
      const teams = (await ctx.store.teams.list()).filter((team) => ctx.seesTeam(team.id));
      return ok({ data: teams.map((team) => teamJson(ctx, team)) });
    },
  },
  {
    method: 'POST', path: '/teams', tag: 'teams', summary: 'Create a team', status: 201, body: createBody, response: teamOut,
    async handler(ctx, _params, body) {
      ctx.requireAdmin('create teams');
      const input = body as z.infer<typeof createBody>;
      ctx.checkReferences(input);
      if (input.name in ctx.config.teams) throw new GatewayError('BB_ADMIN_CONFLICT', `Team '${input.name}' is defined in the config file.`);
      const team = await ctx.store.teams.create({
        name: input.name,
        orgId: input.org_id ?? (await defaultOrganizationId(ctx.store)),
        plan: input.plan,
        models: input.models,
        endpoints: input.endpoints,
        limits: input.limits as Record<string, unknown> | undefined,
        metadata: input.metadata ?? {},
      });
      await ctx.changed();
      return ok(teamJson(ctx, team), 201);
    },
  },
  {
    method: 'GET', path: '/teams/{id}', tag: 'teams', summary: 'Read a team', status: 200, response: teamOut,
    async handler(ctx, params) {
      return ok(teamJson(ctx, await visibleTeam(ctx, params.id as string)));
    },
  },
  {
    method: 'PATCH', path: '/teams/{id}', tag: 'teams', summary: 'Update a team', status: 200, body: updateBody, response: teamOut,
    async handler(ctx, params, body) {
      const existing = await visibleTeam(ctx, params.id as string);
      ctx.requireAdmin('change teams');
      refuseConfigTeam(ctx, existing);
      const input = body as z.infer<typeof updateBody>;
      ctx.checkReferences(input);
      if (input.name !== undefined && input.name in ctx.config.teams) throw new GatewayError('BB_ADMIN_CONFLICT', `Team '${input.name}' is defined in the config file.`);
      const team = await ctx.store.teams.update(existing.id, input);
      if (!team) throw notFound('team', existing.id);
      await ctx.changed();
      return ok(teamJson(ctx, team));
    },
  },
  {
    method: 'DELETE', path: '/teams/{id}', tag: 'teams', summary: 'Delete a team (it must have no users or keys)', status: 204,
    async handler(ctx, params) {
      const existing = await visibleTeam(ctx, params.id as string);
      ctx.requireAdmin('delete teams');
      refuseConfigTeam(ctx, existing);
      if (!(await ctx.store.teams.delete(existing.id))) throw notFound('team', existing.id);
      await ctx.changed();
      return ok(undefined, 204);
    },
  },
];
