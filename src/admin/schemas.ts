import { z } from 'zod';
import { ENDPOINTS, ROLES } from '../core/principal.js';

/** Shared pieces of admin request and response bodies (snake_case, like the config). */

export const metadataSchema = z.record(z.string(), z.unknown()).describe('Free-form JSON object.');
export const nameSchema = z.string().trim().min(1).max(200).regex(/^[^\u0000-\u001f]+$/, 'no control characters');
export const modelsSchema = z.array(z.string().min(1)).max(1000).describe('Public model names allowed; null or absent for no restriction of its own.');
export const endpointsSchema = z.array(z.enum(ENDPOINTS)).describe('Endpoints allowed; null or absent for all.');
export const roleSchema = z.enum(ROLES);
export const planNameSchema = z.string().regex(/^[\w.-]{1,100}$/, 'letters, digits, _ . - only');
export const limitsOut = z.record(z.string(), z.unknown()).nullable().describe('Limits of this object itself (docs/limits.md); null when none.');

export const timestampSchema = z.iso.datetime({ offset: true }).describe('ISO-8601 time.');

export const organizationOut = z.object({
  id: z.string(),
  name: z.string(),
  metadata: metadataSchema,
  created_at: z.string(),
  updated_at: z.string(),
});

export const teamOut = z.object({
  id: z.string(),
  org_id: z.string(),
  name: z.string(),
  plan: z.string().nullable(),
  models: modelsSchema.nullable(),
  endpoints: endpointsSchema.nullable(),
  limits: limitsOut,
  managed_by_config: z.boolean().describe('Defined in the config file: read-only through the API.'),
  metadata: metadataSchema,
  created_at: z.string(),
  updated_at: z.string(),
});

export const userOut = z.object({
  id: z.string(),
  org_id: z.string(),
  team_id: z.string().nullable(),
  name: z.string(),
  role: roleSchema,
  plan: z.string().nullable(),
  models: modelsSchema.nullable(),
  limits: limitsOut,
  metadata: metadataSchema,
  created_at: z.string(),
  updated_at: z.string(),
});

export const keyOut = z.object({
  id: z.string(),
  name: z.string(),
  display_prefix: z.string().describe('The start of the key, enough to recognise it, too little to use it.'),
  owner: z.object({ type: z.enum(['user', 'team']), id: z.string() }),
  plan: z.string().nullable(),
  models: modelsSchema.nullable(),
  endpoints: endpointsSchema.nullable(),
  limits: limitsOut,
  tags: z.array(z.string()),
  metadata: metadataSchema,
  expires_at: z.string().nullable(),
  status: z.enum(['enabled', 'disabled', 'revoked']),
  revoked_at: z.string().nullable(),
  rotated_from: z.string().nullable(),
  created_by: z.string().nullable(),
  created_at: z.string(),
  updated_at: z.string(),
});

export const keyWithSecretOut = keyOut.extend({
  key: z.string().describe('The secret. Shown only in this response; the gateway keeps only its hash.'),
});

export const planOut = z.object({
  name: z.string(),
  source: z.enum(['config', 'store']),
  spec: z.record(z.string(), z.unknown()).describe('The entitlements: models, endpoints, degrade_to, limits.'),
  created_at: z.string().nullable(),
  updated_at: z.string().nullable(),
});

export const customerOut = z.object({
  id: z.string(),
  plan: z.string().nullable(),
  blocked: z.boolean(),
  metadata: metadataSchema,
  created_at: z.string(),
  updated_at: z.string(),
});

export function listOf<T extends z.ZodType>(item: T) {
  return z.object({ data: z.array(item) });
}
