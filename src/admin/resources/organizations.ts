import { z } from 'zod';
import type { OrganizationRecord } from '../../store/index.js';
import { notFound, type AdminContext } from '../context.js';
import { ok, type AdminRoute } from '../route.js';
import { listOf, metadataSchema, nameSchema, organizationOut } from '../schemas.js';

const createBody = z.strictObject({ name: nameSchema, metadata: metadataSchema.optional() });
const updateBody = z.strictObject({ name: nameSchema.optional(), metadata: metadataSchema.optional() });

export function organizationJson(org: OrganizationRecord): z.infer<typeof organizationOut> {
  return { id: org.id, name: org.name, metadata: org.metadata, created_at: org.createdAt, updated_at: org.updatedAt };
}

/** Team-scoped callers see only their own team's organization. */
async function visibleOrg(ctx: AdminContext, id: string): Promise<OrganizationRecord> {
  const org = await ctx.store.organizations.get(id);
  if (!org) throw notFound('organization', id);
  if (!ctx.isAdmin && ctx.actor.teamId !== undefined) {
    const team = ctx.identity.current.teamsById.get(ctx.actor.teamId);
    if (team?.orgId !== id) throw notFound('organization', id);
  }
  return org;
}

export const organizationRoutes: AdminRoute[] = [
  {
    method: 'GET', path: '/organizations', tag: 'organizations', summary: 'List organizations', status: 200, response: listOf(organizationOut),
    async handler(ctx) {
      const orgs = await ctx.store.organizations.list();
      const ownOrg = ctx.actor.teamId === undefined ? undefined : ctx.identity.current.teamsById.get(ctx.actor.teamId)?.orgId;
      const visible = ctx.isAdmin || ctx.actor.teamId === undefined ? orgs : orgs.filter((org) => org.id === ownOrg);
      return ok({ data: visible.map(organizationJson) });
    },
  },
  {
    method: 'POST', path: '/organizations', tag: 'organizations', summary: 'Create an organization', status: 201, body: createBody, response: organizationOut,
    async handler(ctx, _params, body) {
      ctx.requireAdmin('create organizations');
      const input = body as z.infer<typeof createBody>;
      const org = await ctx.store.organizations.create({ name: input.name, metadata: input.metadata ?? {} });
      await ctx.changed();
      return ok(organizationJson(org), 201);
    },
  },
  {
    method: 'GET', path: '/organizations/{id}', tag: 'organizations', summary: 'Read an organization', status: 200, response: organizationOut,
    async handler(ctx, params) {
      return ok(organizationJson(await visibleOrg(ctx, params.id as string)));
    },
  },
  {
    method: 'PATCH', path: '/organizations/{id}', tag: 'organizations', summary: 'Update an organization', status: 200, body: updateBody, response: organizationOut,
    async handler(ctx, params, body) {
      await visibleOrg(ctx, params.id as string);
      ctx.requireAdmin('change organizations');
      const org = await ctx.store.organizations.update(params.id as string, body as z.infer<typeof updateBody>);
      if (!org) throw notFound('organization', params.id as string);
      await ctx.changed();
      return ok(organizationJson(org));
    },
  },
  {
    method: 'DELETE', path: '/organizations/{id}', tag: 'organizations', summary: 'Delete an organization (it must have no teams or users)', status: 204,
    async handler(ctx, params) {
      await visibleOrg(ctx, params.id as string);
      ctx.requireAdmin('delete organizations');
      if (!(await ctx.store.organizations.delete(params.id as string))) throw notFound('organization', params.id as string);
      await ctx.changed();
      return ok(undefined, 204);
    },
  },
];
