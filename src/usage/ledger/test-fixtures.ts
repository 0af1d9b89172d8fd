import type { RequestRecord } from '../../core/request-record.js';

/* Test fixtures for the ledger's tests (not used by the gateway). */

/** A settled-request record as the pipeline publishes it. */
export function sampleRecord(requestId: string, extra: Partial<RequestRecord> = {}): RequestRecord {
  // Fields not listed are undefined on a real record too; the cast keeps the fixture valid as the record grows.
  return {
    requestId,
    startedAt: Date.now(),
    method: 'POST',
    path: '/v1/chat/completions',
    endpoint: 'chat',
    dialect: 'openai-chat',
    status: 200,
    errorCode: undefined,
    keyName: 'test',
    principal: { source: 'static-key', keyId: 'static:test', displayPrefix: 'bb-test…', team: 'search', plan: 'pro' },
    customer: undefined,
    conversationId: undefined,
    templateId: undefined,
    templateVersion: undefined,
    tags: [],
    metadata: undefined,
    limitActions: [],
    guards: [],
    access: { decision: 'allow' },
    requestedModel: 'demo',
    provider: 'mock',
    servedModel: 'mock-1',
    stream: false,
    usage: { inputTokens: 20, outputTokens: 12 },
    costUsd: 0.0001,
    usageIncomplete: false,
    attempts: [{ target: 'mock/mock-1', provider: 'mock', model: 'mock-1', outcome: 'ok', durationMs: 1.5 }],
    routing: { group: 'demo', strategy: 'ordered', candidates: ['mock/mock-1'] },
    totalMs: 2.5,
    ttftMs: undefined,
    upstreamMs: 1.5,
    gatewayOverheadMs: 1,
    ...extra,
  } as RequestRecord;
}
