import { userInfo } from 'node:os';
import { z } from 'zod';
import { describeAdminAction } from '../../audit/admin-actions.js';
import { GatewayError } from '../../core/errors.js';
import { AUDIT_KINDS, type AuditActor, type AuditEntry, type AuditFilter } from '../../store/audit-records.js';
import type { Actor } from '../actor.js';
import { invalid, type AdminContext } from '../context.js';
import { ok, type AdminResult, type AdminRoute } from '../route.js';

const MAX_LIMIT = 1000;

const jsonValue = z.unknown().describe('JSON exactly as stored and hashed.');

export const auditEntryOut = z.object({
  seq: z.number().int().describe('Position in the chain, from 1, without gaps.'),
  at: z.string().describe('ISO-8601 time of at_ms (not hashed).'),
  at_ms: z.number().int().describe('When it happened, epoch milliseconds.'),
  kind: z.string().describe('admin, denial or guardrail.'),
  actor: jsonValue.describe('Who: key_id, source, display_prefix, key_name, user, team, role. Never a secret.'),
  action: z.string().describe('e.g. keys.create, keys.revoke, access.deny, limits.refuse, guard.block.'),
  target_type: z.string().nullable(),
  target_id: z.string().nullable(),
  details: jsonValue.describe('What was set or refused: field names, entitlement values, rule or limit, error code, request ids.'),
  prev_hash: z.string().describe('The previous entry\'s hash (64 zeros for the first).'),
  hash: z.string().describe('sha256 over prev_hash and the canonical JSON of [seq, at_ms, kind, actor, action, target_type, target_id, details]; docs/audit.md.'),
});

const auditPageOut = z.object({
  data: z.array(auditEntryOut),
  next_cursor: z.string().nullable().describe('Pass as `cursor` for the next page; null on the last one.'),
  head: z.object({ seq: z.number().int(), hash: z.string() }).describe('The chain head as recorded now: note the hash elsewhere to detect later removal of newest entries.'),
});

const timeParam = z.union([z.string().regex(/^\d{1,15}$/).transform(Number), z.iso.datetime({ offset: true }).transform((text) => Date.parse(text))]);
const auditQuery = z.strictObject({
  kind: z.enum(AUDIT_KINDS).optional(),
  action: z.string().min(1).max(200).optional(),
  since: timeParam.optional(),
  until: timeParam.optional(),
  limit: z.string().regex(/^\d+$/).transform(Number).pipe(z.number().int().min(1).max(MAX_LIMIT)).optional(),
  cursor: z.string().regex(/^\d{1,15}$/).transform(Number).optional(),
  order: z.enum(['asc', 'desc']).optional(),
});

export function auditEntryJson(entry: AuditEntry): z.infer<typeof auditEntryOut> {
  return {
    seq: entry.seq,
    at: new Date(entry.atMs).toISOString(),
    at_ms: entry.atMs,
    kind: entry.kind,
    actor: entry.actor,
    action: entry.action,
    target_type: entry.targetType,
    target_id: entry.targetId,
    details: entry.details,
    prev_hash: entry.prevHash,
    hash: entry.hash,
  };
}

function parseQuery(query: URLSearchParams): z.output<typeof auditQuery> {
  const result = auditQuery.safeParse(Object.fromEntries(query));
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const param = issue?.path.join('.') || undefined;
  throw invalid(param ?? 'query', `${param ? `${param}: ` : ''}${issue?.message ?? 'invalid query'} (kind: admin|denial|guardrail; since/until: ISO-8601 or epoch ms; limit: 1-${MAX_LIMIT}; order: asc|desc).`);
}

export const auditRoutes: AdminRoute[] = [
  {
    method: 'GET', path: '/audit', tag: 'audit', summary: 'List audit log entries (admins only); filters kind, action (exact, or a prefix as keys.*), since, until; limit, cursor, order', status: 200, response: auditPageOut,
    async handler(ctx, _params, _body, query) {
      ctx.requireAdmin('read the audit log');
      const { limit, cursor, order, ...filter } = parseQuery(query);
      const [page, head] = await Promise.all([ctx.store.audit.list(filter satisfies AuditFilter, { limit: limit ?? 100, cursor, order }), ctx.store.audit.head()]);
      return ok({ data: page.entries.map(auditEntryJson), next_cursor: page.nextCursor === undefined ? null : String(page.nextCursor), head });
    },
  },
];

/** The operating-system user behind a local CLI action, when the OS tells. */
function osUser(): string | undefined {
  try {
    return userInfo().username || undefined;
  } catch {
    return undefined;
  }
}

/** The admin caller as the audit log shows it: ids, names, role and a key's display prefix. */
export function auditActorOf(actor: Actor): AuditActor {
  const principal = actor.principal;
  const source = principal?.source ?? (actor.id === 'admin-key' || actor.id === 'cli' ? actor.id : undefined);
  const user = principal?.userName ?? principal?.userId ?? (actor.id === 'cli' ? osUser() : undefined);
  const team = actor.teamName ?? principal?.teamName;
  return {
    key_id: actor.id,
    ...(source === undefined ? {} : { source }),
    ...(principal?.displayPrefix ? { display_prefix: principal.displayPrefix } : {}),
    ...(principal?.keyName === undefined ? {} : { key_name: principal.keyName }),
    ...(user === undefined ? {} : { user }),
    ...(team === undefined ? {} : { team }),
    role: actor.role,
  };
}

/**
 * Runs an admin handler and records what it changed: a successful POST, PATCH or DELETE appends
 * one `admin` entry right after the change (the repositories commit their own transactions, so the
 * entry cannot join it; docs/audit.md); a refusal for lack of rights appends an `admin.deny`
 * denial. Other failures change nothing and append nothing.
 */
export async function withAdminAudit(ctx: AdminContext, route: AdminRoute, params: Record<string, string>, body: unknown, run: () => Promise<AdminResult>): Promise<AdminResult> {
  let result: AdminResult;
  try {
    result = await run();
  } catch (error) {
    if (error instanceof GatewayError && error.code === 'BB_ADMIN_FORBIDDEN') {
      const attempted = describeAdminAction({ method: route.method, path: route.path, params, body: undefined });
      await ctx.store.audit.append([
        {
          kind: 'denial',
          actor: auditActorOf(ctx.actor),
          action: 'admin.deny',
          targetType: attempted.targetType,
          ...(attempted.targetId === undefined ? {} : { targetId: attempted.targetId }),
          details: { attempted: attempted.action, error_code: error.code, reason: error.message },
        },
      ]).catch(() => undefined); // the refusal itself is the answer the caller needs
    }
    throw error;
  }
  if (route.method !== 'GET' && result.status < 400) {
    const described = describeAdminAction({ method: route.method, path: route.path, params, body, result: result.body });
    await ctx.store.audit.append([
      {
        kind: 'admin',
        actor: auditActorOf(ctx.actor),
        action: described.action,
        targetType: described.targetType,
        ...(described.targetId === undefined ? {} : { targetId: described.targetId }),
        details: described.details,
      },
    ]);
  }
  return result;
}
