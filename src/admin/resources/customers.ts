import { z } from 'zod';
import type { CustomerRecord } from '../../store/index.js';
import { notFound } from '../context.js';
import { ok, type AdminRoute } from '../route.js';
import { customerOut, listOf, metadataSchema, planNameSchema } from '../schemas.js';

const customerCreateBody = z.strictObject({
  id: z.string().min(1).max(256).describe('The value clients send as `user` (Anthropic: metadata.user_id).'),
  plan: planNameSchema.optional(),
  blocked: z.boolean().default(false),
  metadata: metadataSchema.optional(),
});
const customerUpdateBody = z.strictObject({ plan: planNameSchema.nullable().optional(), blocked: z.boolean().optional(), metadata: metadataSchema.optional() });

function customerJson(customer: CustomerRecord): z.infer<typeof customerOut> {
  return { id: customer.id, plan: customer.plan ?? null, blocked: customer.blocked, metadata: customer.metadata, created_at: customer.createdAt, updated_at: customer.updatedAt };
}

/** End customers: the `user` a client acts for; the admin API can block one or give it a plan. */
export const customerRoutes: AdminRoute[] = [
  {
    method: 'GET', path: '/customers', tag: 'customers', summary: 'List end customers', status: 200, response: listOf(customerOut),
    async handler(ctx) {
      return ok({ data: (await ctx.store.customers.list()).map(customerJson) });
    },
  },
  {
    method: 'POST', path: '/customers', tag: 'customers', summary: 'Register an end customer (plan, blocked flag)', status: 201, body: customerCreateBody, response: customerOut,
    async handler(ctx, _params, body) {
      ctx.requireAdmin('manage end customers');
      const input = body as z.infer<typeof customerCreateBody>;
      ctx.checkReferences(input);
      const customer = await ctx.store.customers.create({ id: input.id, plan: input.plan, blocked: input.blocked, metadata: input.metadata ?? {} });
      await ctx.changed();
      return ok(customerJson(customer), 201);
    },
  },
  {
    method: 'GET', path: '/customers/{id}', tag: 'customers', summary: 'Read an end customer', status: 200, response: customerOut,
    async handler(ctx, params) {
      const customer = await ctx.store.customers.get(params.id as string);
      if (!customer) throw notFound('customer', params.id as string);
      return ok(customerJson(customer));
    },
  },
  {
    method: 'PATCH', path: '/customers/{id}', tag: 'customers', summary: 'Update an end customer', status: 200, body: customerUpdateBody, response: customerOut,
    async handler(ctx, params, body) {
      ctx.requireAdmin('manage end customers');
      const input = body as z.infer<typeof customerUpdateBody>;
      ctx.checkReferences(input);
      const customer = await ctx.store.customers.update(params.id as string, input);
      if (!customer) throw notFound('customer', params.id as string);
      await ctx.changed();
      return ok(customerJson(customer));
    },
  },
  {
    method: 'DELETE', path: '/customers/{id}', tag: 'customers', summary: 'Delete an end customer record', status: 204,
    async handler(ctx, params) {
      ctx.requireAdmin('manage end customers');
      if (!(await ctx.store.customers.delete(params.id as string))) throw notFound('customer', params.id as string);
      await ctx.changed();
      return ok(undefined, 204);
    },
  },
];
