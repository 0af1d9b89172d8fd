import { canonicalJson } from '../store/audit-chain.js';
import type { JsonObject, JsonValue } from '../store/audit-records.js';

/** What an admin route did, as the audit log names it. */
export interface AdminActionDescription {
  /** `<resource>.<verb>`: `keys.create`, `keys.revoke`, `teams.update`, `plans.delete`. */
  action: string;
  targetType: string;
  targetId?: string;
  details: JsonObject;
}

export interface AdminActionInput {
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  /** The route's path template, e.g. `/keys/{id}/revoke`. */
  path: string;
  params: Readonly<Record<string, string>>;
  /** The validated request body. */
  body: unknown;
  /** The success response body (may hold a secret: only named fields are read from it). */
  result?: unknown;
}

/**
 * Body fields whose values are recorded: entitlements and names. The free-form ones (metadata,
 * tags) are recorded by name only, and a field not listed here is too, so a new field can never
 * carry a secret into the log unnoticed.
 */
const RECORDED_VALUES: ReadonlySet<string> = new Set([
  'name', 'owner', 'org_id', 'team_id', 'role', 'plan', 'models', 'endpoints', 'limits', 'spec',
  'status', 'blocked', 'expires_at', 'expires_in_s', 'grace_s', 'id',
]);

const VERBS: Record<string, string> = { POST: 'create', PATCH: 'update', DELETE: 'delete', GET: 'read' };

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function json(value: unknown): JsonValue {
  return JSON.parse(canonicalJson(value)) as JsonValue;
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** `keys` -> `key`, `organizations` -> `organization`. */
function singular(resource: string): string {
  return resource.endsWith('s') ? resource.slice(0, -1) : resource;
}

/**
 * Names an admin route's action and picks what the log keeps of it: the target, which fields the
 * body set (values only for entitlement fields), and from the response only ids and a new key's
 * display prefix, never its secret.
 */
export function describeAdminAction(input: AdminActionInput): AdminActionDescription {
  const segments = input.path.split('/').filter((segment) => segment !== '');
  const resource = segments[0] ?? 'admin';
  const last = segments[segments.length - 1] ?? '';
  const verb = segments.length > 1 && !last.startsWith('{') ? last : (VERBS[input.method] ?? input.method.toLowerCase());
  const result = isObject(input.result) ? input.result : {};
  const paramId = Object.values(input.params)[0];
  const targetId = paramId ?? text(result.id) ?? text(result.name);
  const details: JsonObject = {};
  const body = isObject(input.body) ? input.body : {};
  const fields = Object.keys(body).filter((field) => body[field] !== undefined).sort();
  if (fields.length > 0) details.fields = fields;
  const values: JsonObject = {};
  for (const field of fields) if (RECORDED_VALUES.has(field)) values[field] = json(body[field]);
  if (Object.keys(values).length > 0) details.values = values;
  const resultId = text(result.id);
  if (paramId !== undefined && resultId !== undefined && resultId !== paramId) details.new_id = resultId;
  const prefix = text(result.display_prefix);
  if (prefix !== undefined && input.method === 'POST') details.display_prefix = prefix;
  return { action: `${resource}.${verb}`, targetType: singular(resource), ...(targetId === undefined ? {} : { targetId }), details };
}
