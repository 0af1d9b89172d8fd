import type { z } from 'zod';
import { GatewayError } from '../core/errors.js';
import { encodeOpenAIError } from '../dialects/openai-chat/index.js';
import type { Exchange, Reply } from '../pipeline/exchange.js';
import { RequestScope } from '../pipeline/request-scope.js';
import type { Runtime } from '../pipeline/runtime.js';
import { RecordConflictError, RecordInUseError, RecordReferenceError } from '../store/index.js';
import { resolveActor } from './actor.js';
import { AdminContext } from './context.js';
import { buildOpenApiDocument } from './openapi.js';
import { auditRoutes, withAdminAudit } from './resources/audit.js';
import { customerRoutes } from './resources/customers.js';
import { keyRoutes } from './resources/keys.js';
import { organizationRoutes } from './resources/organizations.js';
import { planRoutes } from './resources/plans.js';
import { teamRoutes } from './resources/teams.js';
import { usageRoutes } from './resources/usage.js';
import { userRoutes } from './resources/users.js';
import type { AdminResult, AdminRoute } from './route.js';

export const ADMIN_PREFIX = '/admin/v1';
export const ADMIN_ROUTES: readonly AdminRoute[] = [...organizationRoutes, ...teamRoutes, ...userRoutes, ...keyRoutes, ...planRoutes, ...customerRoutes, ...auditRoutes, ...usageRoutes];

interface CompiledRoute {
  route: AdminRoute;
  pattern: RegExp;
  names: string[];
}

const COMPILED: CompiledRoute[] = ADMIN_ROUTES.map((route) => {
  const names: string[] = [];
  const source = route.path.replace(/\{(\w+)\}/g, (_match, name: string) => {
    names.push(name);
    return '([^/]+)';
  });
  return { route, pattern: new RegExp(`^${source}$`), names };
});

let openApiText: string | undefined;

/** Everything under /admin/v1: JSON in, JSON out, errors in the OpenAI error shape. */
export async function handleAdmin(runtime: Runtime, exchange: Exchange): Promise<Reply> {
  const scope = new RequestScope(exchange, 'admin', undefined);
  try {
    const path = exchange.path.slice(ADMIN_PREFIX.length) || '/';
    if (path === '/openapi.json' && (exchange.method === 'GET' || exchange.method === 'HEAD')) {
      openApiText ??= JSON.stringify(buildOpenApiDocument(ADMIN_ROUTES, ADMIN_PREFIX));
      return scope.json(200, openApiText);
    }
    // Matched before authentication, so an unknown path is a 404 even without credentials.
    const found = match(exchange.method === 'HEAD' ? 'GET' : exchange.method, path);
    const store = runtime.identity.store;
    if (!store) throw new GatewayError('BB_ROUTE_NOT_FOUND', 'The admin API needs a record store.');
    const actor = await resolveActor(runtime.config, runtime.identity, exchange.headers);
    scope.record.keyName = actor.principal?.keyName ?? actor.id;
    const raw = found.route.body ? await readOptionalJson(scope) : undefined;
    const ctx = new AdminContext(actor, store, runtime.identity, runtime.config, runtime.access);
    const result = await dispatch(ctx, found, raw, new URLSearchParams(exchange.query));
    return scope.json(result.status, result.status === 204 ? '' : JSON.stringify(result.body));
  } catch (error) {
    return scope.errorReply(translateStoreError(error), encodeOpenAIError);
  }
}

/**
 * One admin action without HTTP, for callers that already hold a context (the CLI against a local
 * store). Same matching, body validation and error translation as the HTTP API; throws
 * GatewayError. `path` is relative to /admin/v1; an absent body counts as `{}`.
 */
export async function runAdminAction(ctx: AdminContext, method: AdminRoute['method'], path: string, body: unknown, query: URLSearchParams = new URLSearchParams()): Promise<AdminResult> {
  try {
    return await dispatch(ctx, match(method, path), body ?? {}, query);
  } catch (error) {
    throw translateStoreError(error);
  }
}

/** Validates the body (when the route takes one) and runs the handler; callers translate store errors. */
async function dispatch(ctx: AdminContext, found: MatchedRoute, raw: unknown, query: URLSearchParams): Promise<AdminResult> {
  const body = found.route.body ? parseBody(found.route.body, raw) : undefined;
  return withAdminAudit(ctx, found.route, found.params, body, () => found.route.handler(ctx, found.params, body, query));
}

interface MatchedRoute {
  route: AdminRoute;
  params: Record<string, string>;
}

function match(method: string, path: string): MatchedRoute {
  const allowed: string[] = [];
  for (const compiled of COMPILED) {
    const groups = compiled.pattern.exec(path);
    if (!groups) continue;
    if (compiled.route.method !== method) {
      allowed.push(compiled.route.method);
      continue;
    }
    const params: Record<string, string> = {};
    compiled.names.forEach((name, index) => (params[name] = decodeParam(groups[index + 1] as string)));
    return { route: compiled.route, params };
  }
  if (allowed.length > 0) throw new GatewayError('BB_METHOD_NOT_ALLOWED', `${method} is not allowed on ${ADMIN_PREFIX}${path}; use ${allowed.join(', ')}.`);
  throw new GatewayError('BB_ROUTE_NOT_FOUND', `No admin endpoint at ${method} ${ADMIN_PREFIX}${path}.`);
}

/** A malformed escape stays as sent: it then names no object (a 404) instead of throwing (a 500). */
function decodeParam(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/** POST actions without fields (revoke, rotate) may come with no body at all. */
async function readOptionalJson(scope: RequestScope): Promise<unknown> {
  if (scope.exchange.headers['content-type'] === undefined && scope.exchange.headers['content-length'] === undefined && scope.exchange.headers['transfer-encoding'] === undefined) return {};
  return scope.readJson();
}

function parseBody(schema: z.ZodType, raw: unknown): unknown {
  const result = schema.safeParse(raw);
  if (result.success) return result.data;
  const first = result.error.issues[0];
  const param = first?.path.join('.') || undefined;
  const more = result.error.issues.length > 1 ? ` (and ${result.error.issues.length - 1} more)` : '';
  throw new GatewayError('BB_INVALID_REQUEST', `${param ? `${param}: ` : ''}${first?.message ?? 'invalid body'}${more}.`, { param });
}

/** Store errors become client errors that name the field, never the driver's own message. */
function translateStoreError(error: unknown): unknown {
  if (error instanceof RecordConflictError) return new GatewayError('BB_ADMIN_CONFLICT', `A ${error.entity} with that ${error.field} already exists.`, { param: error.field });
  if (error instanceof RecordInUseError) return new GatewayError('BB_ADMIN_CONFLICT', `The ${error.entity} is still used by ${error.usedBy}.`);
  if (error instanceof RecordReferenceError) return new GatewayError('BB_INVALID_REQUEST', `The ${error.field} refers to no existing ${error.field.replace(/_?id$/i, '') || 'record'}.`, { param: error.field });
  return error;
}
