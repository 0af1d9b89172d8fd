import { channel } from 'node:diagnostics_channel';
import type { Usage } from './canonical.js';
import type { ErrorCode } from './errors.js';
import type { StreamGapSummary } from './stream-gaps.js';
import type { RecordTraceContext } from './trace-context.js';

/** One attempt at one target within a request. */
export interface AttemptRecord {
  /** The target's name (config `name`, else provider/model). */
  target: string;
  provider: string;
  model: string;
  outcome: 'ok' | ErrorCode;
  durationMs: number;
  /** Set on a retry of the same target: which one (1 = first retry). */
  retry?: number;
  /** The upstream's HTTP status when it answered with an error. */
  upstreamStatus?: number;
  /** When the attempt started, in ms after the request started (trace spans are placed by it). */
  startMs?: number;
}

/** A provider's place relative to the trust boundary (`providers.<name>.trust`). */
export type Trust = 'internal' | 'external';

/** One guardrail decision: which guard, about what kind of value (never the value), and what it did. */
export interface GuardDecision {
  guard: 'pii' | 'injection' | 'deny' | 'output' | 'webhook';
  entity?: string;
  action: string;
  where: 'input' | 'output';
  /** For input egress rules: toward which trust level the action applies. */
  trust?: Trust;
}

/** Why the request went where it went: the group, the rule that chose it, the ordered candidates. */
export interface RoutingTrail {
  group: string;
  rule?: string;
  strategy: string;
  candidates: string[];
}

export interface PrincipalSummary {
  source: string;
  keyId: string;
  displayPrefix: string;
  user?: string;
  team?: string;
  org?: string;
  plan?: string;
}

/**
 * What the settle phase publishes once per request, on success, error and client abort alike.
 * Logs, metrics, the ledger and traces subscribe; the hot path never calls them directly.
 */
export interface RequestRecord {
  requestId: string;
  startedAt: number;
  method: string;
  path: string;
  endpoint: 'chat' | 'embeddings' | 'models' | 'health' | 'admin' | 'other';
  dialect: string | undefined;
  status: number;
  errorCode: ErrorCode | undefined;
  keyName: string | undefined;
  /** Who called, resolved by auth (ids and names only, never a secret). */
  principal: PrincipalSummary | undefined;
  /** The end customer the client acts for (OpenAI `user`, Anthropic `metadata.user_id`). */
  customer: string | undefined;
  /** Conversation id from `x-bb-conversation-id` or body metadata. */
  conversationId: string | undefined;
  /** Prompt template id and version from `x-bb-template-id` / `x-bb-template-version` or body metadata. */
  templateId: string | undefined;
  templateVersion: string | undefined;
  /** Free labels from the `x-bb-tags` header (comma-separated), bounded in count and length. */
  tags: string[];
  /** The request body's `metadata` (string values), bounded in count and length. */
  metadata: Record<string, string> | undefined;
  /** What limits changed before the call: `clamped:<max_tokens>`, `degraded:<model>`. */
  limitActions: string[];
  /** Guardrail decisions (entity types and actions, never values). */
  guards: GuardDecision[];
  /** The access decision; `rule` names what denied. */
  access: { decision: 'allow' | 'deny'; rule?: string } | undefined;
  requestedModel: string | undefined;
  provider: string | undefined;
  servedModel: string | undefined;
  stream: boolean;
  usage: Usage | undefined;
  /** US dollars for `usage` at the served model's price; undefined when unknown or nothing was served. */
  costUsd: number | undefined;
  /** The answer broke off (mid-stream failure or client abort): usage covers only what was generated. */
  usageIncomplete: boolean;
  attempts: AttemptRecord[];
  /** The routing decision (set once routing ran). */
  routing: RoutingTrail | undefined;
  totalMs: number;
  /** Streams only: request start to the first content sent to the client. */
  ttftMs: number | undefined;
  /** Streams only: the gaps between chunks sent to the client, as histogram counts. */
  streamGaps: StreamGapSummary | undefined;
  /** The W3C trace context chosen before the upstream call (tracing on). */
  trace: RecordTraceContext | undefined;
  /** `max_tokens` as sent upstream (after any clamp), when set. */
  maxTokens: number | undefined;
  /** One finish reason per choice, where the answer was read (canonical responses, streams). */
  finishReasons: string[] | undefined;
  /** The plan field of the limit that refused the request, e.g. `requests_per_minute`. */
  rejectedLimit: string | undefined;
  /** Prompt and answer text, redacted, only where `ledger.bodies` records them. */
  bodies: { request: string; response: string } | undefined;
  upstreamMs: number | undefined;
  gatewayOverheadMs: number | undefined;
}

/** The channel settled requests are published on (node:diagnostics_channel, near free with no subscriber). */
export const requestSettledChannel = channel('breakerbox:request:settled');

export function publishRequestSettled(record: RequestRecord): void {
  if (requestSettledChannel.hasSubscribers) requestSettledChannel.publish(record);
}

/**
 * A subscriber that writes records durably in groups (the ledger) says here when the records
 * published so far are on disk. The server waits for it before a response's last byte, so an
 * answer a client saw complete is never missing from the records, while one commit covers every
 * request of an event-loop turn. `now`: write what is pending at once (nothing else is in flight
 * to share the commit with); the barrier then returns undefined.
 */
export type DurabilityBarrier = (now: boolean) => Promise<void> | undefined;

let durabilityBarrier: DurabilityBarrier | undefined;

export function setDurabilityBarrier(barrier: DurabilityBarrier): void {
  durabilityBarrier = barrier;
}

/** Removes the barrier, if it is still this one (another gateway in the process may have set its own). */
export function clearDurabilityBarrier(barrier: DurabilityBarrier): void {
  if (durabilityBarrier === barrier) durabilityBarrier = undefined;
}

/**
 * Resolves once every record published so far is durable; undefined when nothing is pending, or
 * when `now` had it written before returning.
 */
export function recordsDurable(now = false): Promise<void> | undefined {
  return durabilityBarrier?.(now);
}
