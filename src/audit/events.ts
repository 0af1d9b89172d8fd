import type { PrincipalSummary, RequestRecord } from '../core/request-record.js';
import type { AuditActor, AuditKind, JsonObject } from '../store/audit-records.js';

/**
 * One denial or guardrail action waiting to be appended. Events that differ only in request id
 * and time fold into one entry per flush (see PendingEntries), so `reason` holds everything that
 * tells two events apart.
 */
export interface AuditEvent {
  kind: Extract<AuditKind, 'denial' | 'guardrail'>;
  actor: AuditActor;
  action: string;
  targetType: string;
  targetId: string;
  /** Rule, limit or guard facts: names, codes and counts only, never prompt text or a key. */
  reason: JsonObject;
  requestId: string;
  atMs: number;
}

/** Refusals by limits and budgets, as error codes of the settled record. */
const LIMIT_CODES: ReadonlySet<string> = new Set(['BB_RATE_LIMITED', 'BB_BUDGET_EXCEEDED', 'BB_PRICE_UNKNOWN', 'BB_INPUT_TOO_LARGE', 'BB_OUTPUT_CAP_EXCEEDED']);

/** The caller as the audit log shows it: ids, names and the key's display prefix. */
export function actorOf(principal: PrincipalSummary | undefined, keyName: string | undefined): AuditActor {
  if (principal === undefined) return { key_id: 'unknown', ...(keyName === undefined ? {} : { key_name: keyName }) };
  return {
    key_id: principal.keyId,
    source: principal.source,
    ...(principal.displayPrefix === '' ? {} : { display_prefix: principal.displayPrefix }),
    ...(keyName === undefined ? {} : { key_name: keyName }),
    ...(principal.user === undefined ? {} : { user: principal.user }),
    ...(principal.team === undefined ? {} : { team: principal.team }),
  };
}

function reasonOf(record: RequestRecord): JsonObject {
  const reason: JsonObject = { endpoint: record.endpoint, status: record.status };
  if (record.errorCode !== undefined) reason.error_code = record.errorCode;
  if (record.access?.rule !== undefined) reason.rule = record.access.rule;
  if (record.limitActions.length > 0) reason.limit_actions = [...record.limitActions];
  if (record.principal?.plan !== undefined) reason.plan = record.principal.plan;
  if (record.customer !== undefined) reason.customer = record.customer;
  return reason;
}

/**
 * The audit event of a settled request, or undefined when nothing was denied. `limits.cut` is a
 * budget that stopped an answer already under way (the stream's output budget).
 */
export function denialOf(record: RequestRecord): AuditEvent | undefined {
  const accessDenied = record.access?.decision === 'deny';
  if (!accessDenied && (record.errorCode === undefined || !LIMIT_CODES.has(record.errorCode))) return undefined;
  const action = accessDenied ? 'access.deny' : record.errorCode === 'BB_BUDGET_EXCEEDED' && record.servedModel !== undefined ? 'limits.cut' : 'limits.refuse';
  const model = record.requestedModel;
  return {
    kind: 'denial',
    actor: actorOf(record.principal, record.keyName),
    action,
    targetType: model === undefined ? 'endpoint' : 'model',
    targetId: model ?? record.endpoint,
    reason: reasonOf(record),
    requestId: record.requestId,
    atMs: record.startedAt,
  };
}

/** A guardrail decision as the settled record carries it (entity types and actions, never values). */
interface RecordedGuard {
  guard: string;
  entity?: string;
  action: string;
  where?: string;
  trust?: string;
}

/** Errors by which a guardrail refused or stopped a request. */
const GUARD_CODES: ReadonlySet<string> = new Set(['BB_GUARDRAIL_BLOCKED', 'BB_OUTPUT_BLOCKED']);

/**
 * One audit event per guardrail decision on the settled record (`record.guards`; each one is an
 * action taken: allow is not recorded there). Read structurally, so records without the field
 * simply yield none.
 */
export function guardEventsOf(record: RequestRecord): AuditEvent[] {
  const guards = (record as RequestRecord & { guards?: readonly RecordedGuard[] }).guards;
  if (guards === undefined || guards.length === 0) return [];
  const model = record.requestedModel;
  const actor = actorOf(record.principal, record.keyName);
  return guards.map((decision) => {
    const reason: JsonObject = { guard: decision.guard, endpoint: record.endpoint };
    if (decision.entity !== undefined) reason.entity = decision.entity;
    if (decision.where !== undefined) reason.where = decision.where;
    if (decision.trust !== undefined) reason.trust = decision.trust;
    if (record.errorCode !== undefined && GUARD_CODES.has(record.errorCode)) reason.error_code = record.errorCode;
    return {
      kind: 'guardrail',
      actor,
      action: `guard.${decision.action}`,
      targetType: model === undefined ? 'endpoint' : 'model',
      targetId: model ?? record.endpoint,
      reason,
      requestId: record.requestId,
      atMs: record.startedAt,
    };
  });
}
