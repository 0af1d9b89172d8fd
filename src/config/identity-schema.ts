import { z } from 'zod';
import { ENDPOINTS, ROLES } from '../core/principal.js';

/**
 * Config for identity and access: plans, teams, access rules, the record store and the admin API.
 * Kept apart from schema.ts so each file stays readable; schema.ts assembles the whole.
 */

const modelList = z.array(z.string().min(1)).describe('Public model names allowed; all when omitted.');
const endpointList = z
  .array(z.enum(ENDPOINTS))
  .describe(`Endpoints allowed (${ENDPOINTS.join(', ')}); all when omitted.`);
const role = z.enum(ROLES);

const count = z.number().int().positive();
const money = z.number().positive();

/**
 * Limits and budgets. On a plan they apply per key (each key of the plan has its own counters); on
 * a team they are shared by the whole team; on a model, by every caller of it (docs/limits.md).
 */
export const planLimitsSchema = z
  .strictObject({
    requests_per_second: count.optional(),
    requests_per_minute: count.optional(),
    concurrent_requests: count.optional(),
    input_tokens_per_minute: count.optional(),
    output_tokens_per_minute: count.optional(),
    tokens_per_minute: count.optional(),
    tokens_per_day: count.optional(),
    tokens_per_month: count.optional(),
    max_input_tokens_per_request: count.optional(),
    max_output_tokens_per_request: count.optional(),
    spend_per_day_usd: money.optional(),
    spend_per_month_usd: money.optional(),
    conversation_output_tokens: count.optional(),
    stream_overrun: z
      .enum(['cut', 'finish'])
      .optional()
      .describe("How these budgets treat an answer that would run past them (cut or finish); limits.stream_overrun when omitted."),
  })
  .describe('Rate limits and budgets (docs/limits.md).');

export const planSchema = z
  .strictObject({
    description: z.string().optional().describe('Free text, for people.'),
    models: modelList.optional(),
    endpoints: endpointList.optional(),
    degrade_to: z.string().min(1).optional().describe('A cheaper public model to fall back to as budgets run out.'),
    fallback_to: z
      .enum(['any', 'same-or-cheaper'])
      .default('any')
      .describe('Degrade mode on failures: same-or-cheaper keeps retries and fallbacks off targets that cost more than the first choice.'),
    limits: planLimitsSchema.optional(),
  })
  .describe('A named bundle of entitlements that keys, users and teams reference.');

export type PlanConfig = z.output<typeof planSchema>;

const teamSchema = z
  .strictObject({
    plan: z.string().min(1).optional().describe('The plan of the team\'s keys and users unless they name their own.'),
    models: modelList.optional(),
    endpoints: endpointList.optional(),
    limits: planLimitsSchema.optional().describe('Limits shared by every key and user of the team (on top of each one\'s plan).'),
  })
  .describe('A team defined in config (teams can also be created through the admin API).');

const principalMatchSchema = z
  .strictObject({
    teams: z.array(z.string().min(1)).optional().describe('Team names.'),
    plans: z.array(z.string().min(1)).optional().describe('Plan names.'),
    roles: z.array(role).optional().describe('Roles.'),
    users: z.array(z.string().min(1)).optional().describe('User names (or JWT subjects).'),
  })
  .refine((match) => Object.values(match).some((list) => list !== undefined && list.length > 0), 'name at least one team, plan, role or user');

const accessRuleSchema = z
  .strictObject({
    name: z.string().regex(/^[\w.-]+$/, 'letters, digits, _ . - only').describe('Named in the 403 a denied caller gets, and in the request record.'),
    models: z.array(z.string().min(1)).min(1).optional().describe('The rule covers requests for these public models.'),
    endpoints: z.array(z.enum(ENDPOINTS)).min(1).optional().describe('The rule covers these endpoints.'),
    allow: principalMatchSchema.describe('Callers matching any entry here pass; everyone else covered by the rule is refused.'),
  })
  .refine((rule) => rule.models !== undefined || rule.endpoints !== undefined, 'name the models or endpoints the rule covers')
  .describe('Only the listed callers may use the covered models or endpoints.');

export const accessSchema = z
  .strictObject({
    rules: z.array(accessRuleSchema).default([]).describe('Checked in order; every rule covering a request must allow it.'),
  })
  .prefault({})
  .describe('Access rules across teams, plans and roles, e.g. "only finance can use the premium model".');

export type AccessRuleConfig = z.output<typeof accessRuleSchema>;

export const storeSchema = z
  .strictObject({
    driver: z.enum(['sqlite', 'postgres']).default('sqlite').describe('sqlite: a file, one instance. postgres: several instances share one database.'),
    path: z.string().min(1).default('data/breakerbox.db').describe('SQLite file (relative to the working directory), or :memory:.'),
    url: z.string().min(1).optional().describe('PostgreSQL URL, e.g. ${env:DATABASE_URL}. Required for postgres.'),
    schema: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,62}$/, 'letters, digits and _ only').optional().describe('PostgreSQL schema to use (created if missing).'),
    refresh_ms: z
      .number()
      .int()
      .min(50)
      .max(1000)
      .default(500)
      .describe('How often each instance checks the store for changed keys, teams and plans: the bound for a revoke to reach every instance.'),
  })
  .refine((store) => store.driver !== 'postgres' || store.url !== undefined, { message: 'url is required for the postgres driver', path: ['url'] })
  .prefault({})
  .describe('Where durable records (keys, teams, users, plans) live.');

export type StoreConfig = z.output<typeof storeSchema>;

export const adminSchema = z
  .strictObject({
    api_key: z
      .string()
      .min(16)
      .optional()
      .describe('Admin key for /admin/v1 (full rights). Use ${env:BB_ADMIN_KEY}; at least 16 characters.'),
    rotation_grace_s: z
      .number()
      .int()
      .nonnegative()
      .default(86_400)
      .describe('Default time a rotated key keeps working next to its replacement.'),
  })
  .prefault({})
  .describe('The admin API at /admin/v1: admin key, JWTs with gateway roles, or keys of users with roles.');

/** Fields a static key in config may carry besides its name and secret. */
export const staticKeyIdentityFields = {
  team: z.string().min(1).optional().describe('Team name (from `teams` or the store).'),
  user: z.string().min(1).optional().describe('User name the key acts as, for records and rules.'),
  plan: z.string().min(1).optional().describe('Plan name; defaults to the team\'s plan.'),
  roles: z.array(role).optional().describe('Roles; member when omitted. Roles other than member open the admin API.'),
  endpoints: endpointList.optional(),
};

export const identityConfigFields = {
  plans: z.record(z.string().regex(/^[\w.-]+$/), planSchema).default({}).describe('Plans by name.'),
  teams: z.record(z.string().regex(/^[\w.-]+$/), teamSchema).default({}).describe('Teams defined in config, by name.'),
  access: accessSchema,
  store: storeSchema,
  admin: adminSchema,
};
