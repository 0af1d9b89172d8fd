import { z } from 'zod';
import { planSchema } from '../../config/identity-schema.js';
import { GatewayError } from '../../core/errors.js';
import type { CustomerRecord, PlanRecord } from '../../store/index.js';
import { invalid, notFound, type AdminContext } from '../context.js';
import { ok, type AdminRoute } from '../route.js';
import { customerOut, listOf, metadataSchema, planNameSchema, planOut } from '../schemas.js';

const planCreateBody = z.strictObject({ name: planNameSchema, spec: planSchema });
const planUpdateBody = z.strictObject({ spec: planSchema.describe('Replaces the whole spec.') });
const customerCreateBody = z.strictObject({
  id: z.string().min(1).max(256).describe('The value clients send as `user` (Anthropic: metadata.user_id).'),
  plan: planNameSchema.optional(),
  blocked: z.boolean().default(false),
  metadata: metadataSchema.optional(),
});
const customerUpdateBody = z.strictObject({ plan: planNameSchema.nullable().optional(), blocked: z.boolean().optional(), metadata: metadataSchema.optional() });

function planJson(plan: PlanRecord): z.infer<typeof planOut> {
  return { name: plan.name, source: 'store', spec: plan.spec, created_at: plan.createdAt, updated_at: plan.updatedAt };
}

function customerJson(customer: CustomerRecord): z.infer<typeof customerOut> {
  return { id: customer.id, plan: customer.plan ?? null, blocked: customer.blocked, metadata: customer.metadata, created_at: customer.createdAt, updated_at: customer.updatedAt };
}

/** The plan's models and degrade target must be public models of this config. */
function checkSpec(ctx: AdminContext, spec: z.infer<typeof planSchema>): void {
  ctx.checkReferences({ models: spec.models });
  if (spec.degrade_to !== undefined && !(spec.degrade_to in ctx.config.models)) throw invalid('spec.degrade_to', `Unknown model '${spec.degrade_to}'.`);
}

function refuseConfigPlan(ctx: AdminContext, name: string): void {
  if (name in ctx.config.plans) throw new GatewayError('BB_ADMIN_CONFLICT', `Plan '${name}' is defined in the config file; change it there.`);
}

export const planRoutes: AdminRoute[] = [
  {
    method: 'GET', path: '/plans', tag: 'plans', summary: 'List plans, from config and from the store', status: 200, response: listOf(planOut),
    async handler(ctx) {
      const fromConfig = Object.entries(ctx.config.plans).map(([name, spec]) => ({ name, source: 'config' as const, spec, created_at: null, updated_at: null }));
      const stored = (await ctx.store.plans.list()).filter((plan) => !(plan.name in ctx.config.plans)).map(planJson);
      return ok({ data: [...fromConfig, ...stored] });
    },
  },
  {
    method: 'POST', path: '/plans', tag: 'plans', summary: 'Create a plan', status: 201, body: planCreateBody, response: planOut,
    async handler(ctx, _params, body) {
      ctx.requireAdmin('create plans');
      const input = body as z.infer<typeof planCreateBody>;
      refuseConfigPlan(ctx, input.name);
      checkSpec(ctx, input.spec);
      const plan = await ctx.store.plans.create({ name: input.name, spec: input.spec });
      await ctx.changed();
      return ok(planJson(plan), 201);
    },
  },
  {
    method: 'GET', path: '/plans/{name}', tag: 'plans', summary: 'Read a plan', status: 200, response: planOut,
    async handler(ctx, params) {
      const name = params.name as string;
      const configured = ctx.config.plans[name];
      if (configured) return ok({ name, source: 'config', spec: configured, created_at: null, updated_at: null });
      const plan = await ctx.store.plans.get(name);
      if (!plan) throw notFound('plan', name);
      return ok(planJson(plan));
    },
  },
  {
    method: 'PATCH', path: '/plans/{name}', tag: 'plans', summary: "Replace a plan's spec", status: 200, body: planUpdateBody, response: planOut,
    async handler(ctx, params, body) {
      ctx.requireAdmin('change plans');
      const name = params.name as string;
      refuseConfigPlan(ctx, name);
      const input = body as z.infer<typeof planUpdateBody>;
      checkSpec(ctx, input.spec);
      const plan = await ctx.store.plans.update(name, { spec: input.spec });
      if (!plan) throw notFound('plan', name);
      await ctx.changed();
      return ok(planJson(plan));
    },
  },
  {
    method: 'DELETE', path: '/plans/{name}', tag: 'plans', summary: 'Delete a plan (nothing may still name it)', status: 204,
    async handler(ctx, params) {
      ctx.requireAdmin('delete plans');
      const name = params.name as string;
      refuseConfigPlan(ctx, name);
      if (!(await ctx.store.plans.delete(name))) throw notFound('plan', name);
      await ctx.changed();
      return ok(undefined, 204);
    },
  },
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
