import { z } from 'zod';
import { displayPrefix, generateApiKey, hashKey } from '../../auth/key-secrets.js';
import { planLimitsSchema } from '../../config/identity-schema.js';
import { GatewayError } from '../../core/errors.js';
import type { ApiKeyRecord } from '../../store/index.js';
import { roleRank } from '../actor.js';
import { forbidden, invalid, notFound, type AdminContext } from '../context.js';
import { ok, type AdminRoute } from '../route.js';
import { endpointsSchema, keyOut, keyWithSecretOut, listOf, metadataSchema, modelsSchema, nameSchema, planNameSchema, timestampSchema } from '../schemas.js';

const ownerSchema = z.strictObject({ type: z.enum(['user', 'team']), id: z.string().min(1) });
const createBody = z.strictObject({
  name: nameSchema,
  owner: ownerSchema.optional().describe("Required for admins; team-admins default to their own team."),
  plan: planNameSchema.optional(),
  models: modelsSchema.optional(),
  endpoints: endpointsSchema.optional(),
  limits: planLimitsSchema.optional().describe("Limits of this key alone, on top of its plan's (admins only)."),
  tags: z.array(z.string().min(1).max(100)).max(50).optional(),
  metadata: metadataSchema.optional(),
  expires_at: timestampSchema.optional(),
  expires_in_s: z.number().int().positive().optional().describe('Alternative to expires_at.'),
});
const updateBody = z.strictObject({
  name: nameSchema.optional(),
  plan: planNameSchema.nullable().optional(),
  models: modelsSchema.nullable().optional(),
  endpoints: endpointsSchema.nullable().optional(),
  limits: planLimitsSchema.nullable().optional(),
  tags: z.array(z.string().min(1).max(100)).max(50).optional(),
  metadata: metadataSchema.optional(),
  expires_at: timestampSchema.nullable().optional(),
  status: z.enum(['enabled', 'disabled']).optional().describe('Revoke with POST /keys/{id}/revoke; a revoked key stays revoked.'),
});
const rotateBody = z.strictObject({
  grace_s: z.number().int().nonnegative().max(30 * 86_400).optional().describe('How long the old key keeps working; admin.rotation_grace_s by default.'),
});

export function keyJson(key: ApiKeyRecord): z.infer<typeof keyOut> {
  return {
    id: key.id,
    name: key.name,
    display_prefix: key.displayPrefix,
    owner: { type: key.ownerType, id: key.ownerId },
    plan: key.plan ?? null,
    models: key.models ?? null,
    endpoints: (key.endpoints as z.infer<typeof endpointsSchema> | undefined) ?? null,
    limits: key.limits ?? null,
    tags: key.tags,
    metadata: key.metadata,
    expires_at: key.expiresAt ?? null,
    status: key.status,
    revoked_at: key.revokedAt ?? null,
    rotated_from: key.rotatedFrom ?? null,
    created_by: key.createdBy ?? null,
    created_at: key.createdAt,
    updated_at: key.updatedAt,
  };
}

/** The owner must be visible to the actor, and an owning user may not outrank it. */
async function checkOwner(ctx: AdminContext, owner: { type: 'user' | 'team'; id: string }): Promise<void> {
  if (owner.type === 'team') {
    const team = await ctx.store.teams.get(owner.id);
    if (!team || !ctx.seesTeam(team.id)) throw invalid('owner', `No team with id '${owner.id}'.`);
    return;
  }
  const user = await ctx.store.users.get(owner.id);
  if (!user || !ctx.seesTeam(user.teamId)) throw invalid('owner', `No user with id '${owner.id}'.`);
  if (roleRank(user.role) > roleRank(ctx.actor.role)) throw forbidden('make keys for a user with a stronger role');
}

async function visibleKey(ctx: AdminContext, id: string): Promise<ApiKeyRecord> {
  const key = await ctx.store.apiKeys.get(id);
  if (!key) throw notFound('key', id);
  const teamId = key.ownerType === 'team' ? key.ownerId : ctx.identity.current.usersById.get(key.ownerId)?.teamId;
  if (!ctx.seesTeam(teamId)) throw notFound('key', id);
  return key;
}

/** A non-admin may only open endpoints it may use itself. */
function checkEndpoints(ctx: AdminContext, endpoints: readonly string[] | null | undefined): void {
  if (ctx.isAdmin || !endpoints) return;
  for (const endpoint of endpoints) {
    if (ctx.actor.principal?.endpointAllowLists.some((list) => !list.allowed.has(endpoint as never))) throw forbidden(`grant the endpoint '${endpoint}'`);
  }
}

function expiryOf(input: { expires_at?: string; expires_in_s?: number }): string | undefined {
  if (input.expires_at !== undefined && input.expires_in_s !== undefined) throw invalid('expires_at', 'Send expires_at or expires_in_s, not both.');
  if (input.expires_in_s !== undefined) return new Date(Date.now() + input.expires_in_s * 1000).toISOString();
  return input.expires_at === undefined ? undefined : new Date(input.expires_at).toISOString();
}

export const keyRoutes: AdminRoute[] = [
  {
    method: 'GET', path: '/keys', tag: 'keys', summary: 'List keys (never their secrets)', status: 200, response: listOf(keyOut),
    async handler(ctx, _params, _body, query) {
      const ownerId = query.get('owner_id');
      const keys = (await ctx.store.apiKeys.list()).filter((key) => {
        if (ownerId !== null && key.ownerId !== ownerId) return false;
        const teamId = key.ownerType === 'team' ? key.ownerId : ctx.identity.current.usersById.get(key.ownerId)?.teamId;
        return ctx.seesTeam(teamId);
      });
      return ok({ data: keys.map(keyJson) });
    },
  },
  {
    method: 'POST', path: '/keys', tag: 'keys', summary: 'Create a key; the secret is in this response only', status: 201, body: createBody, response: keyWithSecretOut,
    async handler(ctx, _params, body) {
      ctx.requireWrite();
      const input = body as z.infer<typeof createBody>;
      const owner = input.owner ?? (ctx.actor.teamId === undefined ? undefined : { type: 'team' as const, id: ctx.actor.teamId });
      if (!owner) throw invalid('owner', 'Name the owner: { "type": "team" | "user", "id": ... }.');
      await checkOwner(ctx, owner);
      ctx.checkReferences(input);
      ctx.checkGrant(input);
      ctx.checkLimitsChange(input);
      checkEndpoints(ctx, input.endpoints);
      const secret = generateApiKey();
      const key = await ctx.store.apiKeys.create({
        name: input.name,
        keyHash: hashKey(secret),
        displayPrefix: displayPrefix(secret),
        ownerType: owner.type,
        ownerId: owner.id,
        plan: input.plan,
        models: input.models,
        endpoints: input.endpoints,
        limits: input.limits as Record<string, unknown> | undefined,
        tags: input.tags ?? [],
        metadata: input.metadata ?? {},
        expiresAt: expiryOf(input),
        status: 'enabled',
        createdBy: ctx.actor.id,
      });
      await ctx.changed();
      return ok({ ...keyJson(key), key: secret }, 201);
    },
  },
  {
    method: 'GET', path: '/keys/{id}', tag: 'keys', summary: 'Read a key (never its secret)', status: 200, response: keyOut,
    async handler(ctx, params) {
      return ok(keyJson(await visibleKey(ctx, params.id as string)));
    },
  },
  {
    method: 'PATCH', path: '/keys/{id}', tag: 'keys', summary: 'Update a key', status: 200, body: updateBody, response: keyOut,
    async handler(ctx, params, body) {
      const existing = await visibleKey(ctx, params.id as string);
      ctx.requireWrite();
      await checkOwner(ctx, { type: existing.ownerType, id: existing.ownerId });
      const input = body as z.infer<typeof updateBody>;
      if (existing.status === 'revoked' && input.status !== undefined) throw new GatewayError('BB_ADMIN_CONFLICT', 'The key is revoked; make a new one.');
      ctx.checkReferences(input);
      ctx.checkGrant(input);
      ctx.checkLimitsChange(input);
      checkEndpoints(ctx, input.endpoints);
      const expiresAt = input.expires_at === undefined || input.expires_at === null ? input.expires_at : new Date(input.expires_at).toISOString();
      const key = await ctx.store.apiKeys.update(existing.id, { name: input.name, plan: input.plan, models: input.models, endpoints: input.endpoints, limits: input.limits as Record<string, unknown> | null | undefined, tags: input.tags, metadata: input.metadata, expiresAt, status: input.status });
      if (!key) throw notFound('key', existing.id);
      await ctx.changed();
      return ok(keyJson(key));
    },
  },
  {
    method: 'POST', path: '/keys/{id}/revoke', tag: 'keys', summary: 'Revoke a key: refused from the next request on this instance, within store.refresh_ms on others', status: 200, response: keyOut,
    async handler(ctx, params) {
      const existing = await visibleKey(ctx, params.id as string);
      ctx.requireWrite();
      await checkOwner(ctx, { type: existing.ownerType, id: existing.ownerId });
      const key = existing.status === 'revoked' ? existing : await ctx.store.apiKeys.update(existing.id, { status: 'revoked', revokedAt: new Date().toISOString() });
      if (!key) throw notFound('key', existing.id);
      await ctx.changed();
      return ok(keyJson(key));
    },
  },
  {
    method: 'POST', path: '/keys/{id}/rotate', tag: 'keys', summary: 'Rotate a key: a new secret now, the old one works for a grace period', status: 201, body: rotateBody, response: keyWithSecretOut,
    async handler(ctx, params, body) {
      const existing = await visibleKey(ctx, params.id as string);
      ctx.requireWrite();
      await checkOwner(ctx, { type: existing.ownerType, id: existing.ownerId });
      if (existing.status === 'revoked') throw new GatewayError('BB_ADMIN_CONFLICT', 'The key is revoked; make a new one.');
      const graceS = (body as z.infer<typeof rotateBody>).grace_s ?? ctx.config.admin.rotation_grace_s;
      const secret = generateApiKey();
      const { id: _id, createdAt: _c, updatedAt: _u, ...fields } = existing;
      const key = await ctx.store.apiKeys.rotate(
        existing.id,
        { ...fields, keyHash: hashKey(secret), displayPrefix: displayPrefix(secret), rotatedFrom: existing.id, createdBy: ctx.actor.id, status: 'enabled' },
        new Date(Date.now() + graceS * 1000).toISOString(),
      );
      if (!key) throw notFound('key', existing.id);
      await ctx.changed();
      return ok({ ...keyJson(key), key: secret }, 201);
    },
  },
  {
    method: 'DELETE', path: '/keys/{id}', tag: 'keys', summary: 'Delete a key record (revoke keeps the record; delete removes it)', status: 204,
    async handler(ctx, params) {
      const existing = await visibleKey(ctx, params.id as string);
      ctx.requireWrite();
      await checkOwner(ctx, { type: existing.ownerType, id: existing.ownerId });
      if (!(await ctx.store.apiKeys.delete(existing.id))) throw notFound('key', existing.id);
      await ctx.changed();
      return ok(undefined, 204);
    },
  },
];
