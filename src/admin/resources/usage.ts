import { z } from 'zod';
import { GatewayError } from '../../core/errors.js';
import { parseUsageQuery, UsageQueryError } from '../../usage/analytics/query-spec.js';
import { runUsageQuery } from '../../usage/analytics/run-query.js';
import { forbidden, invalid, type AdminContext } from '../context.js';
import { ok, type AdminRoute } from '../route.js';

const values = z.record(z.string(), z.number().nullable()).describe('Measure name -> value (null when undefined, e.g. an average over no requests).');

/** The answer of GET /usage (also what `breakerbox usage --json` prints). */
export const usageAnswerSchema = z.object({
  from: z.string(),
  to: z.string(),
  compare: z.object({ from: z.string(), to: z.string() }).nullable().describe('The baseline period of a comparison; from/to is the current one.'),
  group_by: z.array(z.string()),
  bucket: z.string().nullable(),
  measures: z.array(z.string()),
  order: z.string(),
  top: z.number().nullable(),
  team: z.string().nullable().describe("A team-admin's answer covers only this team."),
  rows: z.array(
    z.object({
      bucket: z.string().optional().describe('Start of the time bucket.'),
      group: z.record(z.string(), z.string().nullable()),
      values: values.optional(),
      baseline: values.optional(),
      current: values.optional(),
      change: z.object({ measure: z.string(), delta: z.number().nullable(), ratio: z.number().nullable() }).optional(),
    }),
  ),
  truncated: z.boolean(),
  sources: z.array(z.string()).describe('rollups:<set>/<grain>, raw:edges, raw:unfolded, raw:fallback (docs/analytics.md).'),
  rollups: z.object({ watermark: z.number(), unfolded_rows: z.number(), unfolded_included: z.boolean() }),
});

/** Admins see every team; team-admins only their own team's rows; viewers and members nothing. */
function scopeOf(ctx: AdminContext): string | undefined {
  if (ctx.isAdmin) return undefined;
  if (ctx.actor.role !== 'team-admin' || ctx.actor.teamName === undefined) throw forbidden('read usage analytics (admins and team-admins only)');
  return ctx.actor.teamName;
}

export const usageRoutes: AdminRoute[] = [
  {
    method: 'GET',
    path: '/usage',
    tag: 'usage',
    summary:
      'Usage analytics over the ledger. Query: group_by (key, user, team, customer, model, provider, served_model, route, template, template_version, conversation; comma-separated), from, to (ISO or 24h/7d), bucket (1h, 1d), measures, order (<measure>[:asc|:desc]), top, compare_from + compare_to, a filter per dimension (model=demo). docs/analytics.md',
    status: 200,
    response: usageAnswerSchema,
    async handler(ctx, _params, _body, query) {
      const scopeTeam = scopeOf(ctx);
      const wanted = query.get('team');
      if (scopeTeam !== undefined && wanted !== null && wanted !== scopeTeam) throw new GatewayError('BB_ADMIN_FORBIDDEN', 'A team-admin sees only its own team\'s usage.');
      let parsed;
      try {
        parsed = parseUsageQuery(query, { now: Date.now(), scopeTeam });
      } catch (error) {
        if (error instanceof UsageQueryError) throw invalid(error.param, error.message);
        throw error;
      }
      return ok(await runUsageQuery(ctx.store.usage, parsed));
    },
  },
];
