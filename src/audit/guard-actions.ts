import { channel } from 'node:diagnostics_channel';
import type { PrincipalSummary } from '../core/request-record.js';
import type { AuditEvent } from './events.js';
import { actorOf } from './events.js';

/**
 * What a guardrail (PII, injection, secret scan; a later issue) reports when it acts. Names,
 * categories and counts only: never the matched text, the prompt or a key.
 */
export interface GuardActionEvent {
  /** The guard's name, e.g. `pii`, `injection`, `secrets`. */
  guard: string;
  /** What it did, e.g. `block`, `redact`, `flag`. */
  action: string;
  requestId: string;
  principal?: PrincipalSummary;
  keyName?: string;
  /** The public model name the request asked for. */
  model?: string;
  /** The category found, e.g. `email`, `credit_card`, `prompt_injection`. */
  entity?: string;
  /** Further facts (counts, rule names). */
  details?: Readonly<Record<string, string | number | boolean>>;
  /** Epoch ms; now when omitted. */
  atMs?: number;
}

/** Guards publish here; the audit log (and anything else, e.g. metrics) subscribes. */
export const guardActionChannel = channel('breakerbox:guard:action');

/**
 * The entry point for guard actions that no settled RequestRecord carries (decisions on
 * `record.guards` are audited from the settle channel already: publishing those here too would
 * count them twice). Publishes on a channel instead of writing, so a guard never waits for the
 * audit log; near free when nothing subscribes.
 */
export function recordGuardAction(event: GuardActionEvent): void {
  if (guardActionChannel.hasSubscribers) guardActionChannel.publish(event);
}

/** The audit event of a guard action. */
export function guardEventOf(event: GuardActionEvent): AuditEvent {
  return {
    kind: 'guardrail',
    actor: actorOf(event.principal, event.keyName),
    action: `guard.${event.action}`,
    targetType: event.model === undefined ? 'request' : 'model',
    targetId: event.model ?? event.requestId,
    reason: { ...(event.details ?? {}), ...(event.entity === undefined ? {} : { entity: event.entity }), guard: event.guard },
    requestId: event.requestId,
    atMs: event.atMs ?? Date.now(),
  };
}
