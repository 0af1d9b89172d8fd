import type { AuditEntryInput } from '../store/audit-records.js';
import type { AuditEvent } from './events.js';

/** Request ids kept per folded entry: enough to look a few up in the ledger. */
const MAX_REQUEST_IDS = 10;

interface Group {
  event: AuditEvent;
  count: number;
  requestIds: string[];
  lastAtMs: number;
}

/**
 * Denials and guard actions waiting for the next flush, bounded. Events from the same caller with
 * the same action, target and reason fold into one entry with a count, so a client hammering a
 * rate limit adds one entry per flush, not one per request. Past `max` distinct entries new ones
 * are only counted (`dropped`), and the writer logs that count as an entry of its own.
 */
export class PendingEntries {
  private groups = new Map<string, Group>();
  private droppedEvents = 0;

  constructor(private readonly max: number) {}

  get size(): number {
    return this.groups.size;
  }

  add(event: AuditEvent): void {
    // Plain JSON.stringify: events are built field by field in a fixed order, so equal events give equal text.
    const key = JSON.stringify([event.kind, event.action, event.actor, event.targetType, event.targetId, event.reason]);
    const group = this.groups.get(key);
    if (group !== undefined) {
      group.count += 1;
      group.lastAtMs = Math.max(group.lastAtMs, event.atMs);
      if (group.requestIds.length < MAX_REQUEST_IDS) group.requestIds.push(event.requestId);
      return;
    }
    if (this.groups.size >= this.max) {
      this.droppedEvents += 1;
      return;
    }
    this.groups.set(key, { event, count: 1, requestIds: [event.requestId], lastAtMs: event.atMs });
  }

  /** Empties the buffer: the entries to append, in arrival order, and how many events were dropped. */
  take(): { entries: AuditEntryInput[]; dropped: number } {
    const groups = [...this.groups.values()];
    const dropped = this.droppedEvents;
    this.groups = new Map();
    this.droppedEvents = 0;
    return { entries: groups.map(toEntry), dropped };
  }
}

function toEntry(group: Group): AuditEntryInput {
  const { event } = group;
  return {
    atMs: event.atMs,
    kind: event.kind,
    actor: event.actor,
    action: event.action,
    targetType: event.targetType,
    targetId: event.targetId,
    details: {
      ...event.reason,
      count: group.count,
      request_ids: group.requestIds,
      ...(group.count > 1 ? { last_at_ms: group.lastAtMs } : {}),
    },
  };
}
