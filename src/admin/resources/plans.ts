import { z } from 'zod';
import { planSchema } from '../../config/identity-schema.js';
import { GatewayError } from '../../core/errors.js';
import type { PlanRecord } from '../../store/index.js';
import { invalid, notFound, type AdminContext } from '../context.js';
import { ok, type AdminRoute } from '../route.js';
import { listOf, planNameSchema, planOut } from '../schemas.js';

const planCreateBody = z.strictObject({ name: planNameSchema, spec: planSchema });
const planUpdateBody = z.strictObject({ spec: planSchema.describe('Replaces the whole spec.') });

function planJson(plan: PlanRecord): z.infer<typeof planOut> {
  return { name: plan.name, source: 'store', spec: plan.spec, created_at: plan.createdAt, updated_at: plan.updatedAt };
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
];
