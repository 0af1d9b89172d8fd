import type { AttemptRecord, RequestRecord } from '../core/request-record.js';
import type { StreamGapSummary } from './metrics-stream-gaps.js';
import type { RecordTraceContext } from './tracing-context.js';

/**
 * Record fields metrics and tracing read that the pipeline does not set yet (proposed to the
 * lead for core/request-record.ts). All optional, so today's records work unchanged; once the
 * fields exist on RequestRecord with these types, this file shrinks to a re-export.
 */
export interface ProposedRecordFields {
  /** Streams: gaps between chunks sent to the client (the encoder ticks a StreamGapMeter). */
  streamGaps?: StreamGapSummary;
  /** The W3C trace context chosen before the upstream call (tracing on). */
  trace?: RecordTraceContext;
  /** `max_tokens` as sent upstream (after a clamp), when the request set or got one. */
  maxTokens?: number;
  /** One finish reason per choice, as the canonical response or the stream's finish events said. */
  finishReasons?: string[];
  /** The plan field of the limit that refused the request (`requests_per_minute`, `spend_per_day_usd`, ...). */
  rejectedLimit?: string;
}

/** The fields of a guardrail decision (`record.guards`) the metrics read: which guard, what kind of value (never the value), what it did. */
export interface GuardDecisionLabels {
  guard: string;
  entity?: string;
  action: string;
}

export interface ProposedAttemptFields {
  /** When the attempt started, in ms after the request started (so spans can be placed exactly). */
  startMs?: number;
}

export type ObservedRecord = RequestRecord & ProposedRecordFields;
export type ObservedAttempt = AttemptRecord & ProposedAttemptFields;
