import type { RequestRecord } from '../../core/request-record.js';
import { OBJECT_ROW_TEXT_START, ROW_TEXT_START, rowFromText, rowToText, type LedgerRow } from '../../store/ledger-records.js';

/**
 * A settled request as a row of the `requests` table. Runs when the request settles, and in the
 * shipper on records an older version left in its outbox (JSON), so every field is treated as
 * possibly absent. Only ids, names and the key's display prefix are copied; the record never
 * holds a secret.
 */
export function toLedgerRow(record: RequestRecord): LedgerRow {
  const usage = record.usage;
  const principal = record.principal;
  const attempts = record.attempts ?? [];
  return {
    request_id: text(record.requestId) ?? '',
    started_at_ms: Math.trunc(num(record.startedAt) ?? 0),
    endpoint: text(record.endpoint) ?? 'other',
    dialect: text(record.dialect),
    method: text(record.method) ?? '',
    path: text(record.path) ?? '',
    status: Math.trunc(num(record.status) ?? 0),
    error_code: text(record.errorCode),
    key_source: text(principal?.source),
    key_id: text(principal?.keyId),
    key_prefix: text(principal?.displayPrefix),
    key_name: text(record.keyName),
    user_name: text(principal?.user),
    team_name: text(principal?.team),
    org_id: text(principal?.org),
    plan: text(principal?.plan),
    customer: text(record.customer),
    requested_model: text(record.requestedModel),
    provider: text(record.provider),
    served_model: text(record.servedModel),
    template_id: text(record.templateId),
    template_version: text(record.templateVersion),
    conversation_id: text(record.conversationId),
    tags: JSON.stringify(record.tags ?? []),
    metadata: record.metadata === undefined || record.metadata === null ? null : JSON.stringify(record.metadata),
    stream: record.stream ? 1 : 0,
    input_tokens: count(usage?.inputTokens),
    output_tokens: count(usage?.outputTokens),
    cached_tokens: count(usage?.cachedInputTokens),
    reasoning_tokens: count(usage?.reasoningTokens),
    cache_creation_tokens: count(usage?.cacheCreationTokens),
    usage_estimated: usage?.estimated ? 1 : 0,
    usage_incomplete: record.usageIncomplete ? 1 : 0,
    cost_usd: num(record.costUsd),
    total_ms: num(record.totalMs) ?? 0,
    ttft_ms: num(record.ttftMs),
    upstream_ms: num(record.upstreamMs),
    overhead_ms: num(record.gatewayOverheadMs),
    attempt_count: attempts.length,
    attempts: JSON.stringify(
      attempts.map((attempt) => ({
        target: attempt.target,
        provider: attempt.provider,
        model: attempt.model,
        outcome: attempt.outcome,
        duration_ms: attempt.durationMs,
        ...(attempt.retry !== undefined ? { retry: attempt.retry } : {}),
        ...(attempt.upstreamStatus !== undefined ? { upstream_status: attempt.upstreamStatus } : {}),
      })),
    ),
    routing: record.routing ? JSON.stringify(record.routing) : null,
    access: record.access ? JSON.stringify(record.access) : null,
    limit_actions: JSON.stringify(record.limitActions ?? []),
    guards: JSON.stringify(record.guards ?? []),
    rejected_limit: text(record.rejectedLimit),
    max_tokens: record.maxTokens === undefined || record.maxTokens === null ? null : count(record.maxTokens),
    finish_reasons: record.finishReasons ? JSON.stringify(record.finishReasons) : null,
    trace_id: text(record.trace?.traceId),
    request_body: text(record.bodies?.request),
    response_body: text(record.bodies?.response),
    cache_hit: 0,
  };
}

/** Text for a text column; PostgreSQL refuses NUL characters in text, so they are dropped. */
function text(value: unknown): string | null {
  if (value === undefined || value === null) return null;
  const string = String(value);
  return string.includes('\0') ? string.replaceAll('\0', '') : string;
}

function num(value: unknown): number | null {
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}

/** A token count: a non-negative integer, 0 when unknown. */
function count(value: unknown): number {
  const n = num(value);
  return n === null || n < 0 ? 0 : Math.trunc(n);
}

/**
 * A row from its outbox text. The outbox holds rows (positional since 29 November 2026, JSON
 * objects before) or whole records (versions before rows were made at settle time, replayed after
 * an upgrade); a record has `requestId` where a row has `request_id`. Throws on text that is
 * neither, which the shipper sets aside.
 */
export function ledgerRowFromOutbox(text: string): LedgerRow {
  const row = rowFromText(text);
  if (row !== undefined) return row;
  const parsed = JSON.parse(text) as Partial<RequestRecord> | null;
  if (typeof parsed === 'object' && parsed !== null && typeof parsed.requestId === 'string') return toLedgerRow(parsed as RequestRecord);
  throw new Error('not a ledger row or request record');
}

/**
 * The outbox text as a row's text, for a store that parses rows on its own thread: as it is when
 * it already is one in either format (nothing parsed here), else an older version's record made a
 * row. Throws on text that is neither, which the shipper sets aside. A text that only starts like
 * a row is the store's to refuse (it fails with the unreadable-row code, a data error).
 */
export function ledgerRowText(text: string): string {
  return text.startsWith(ROW_TEXT_START) || text.startsWith(OBJECT_ROW_TEXT_START) ? text : rowToText(ledgerRowFromOutbox(text));
}
