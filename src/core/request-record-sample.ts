import type { RequestRecord } from './request-record.js';

/**
 * A settled chat request as the pipeline publishes it: a plain success with every field present.
 * For tests and benchmarks of the record's subscribers (ledger, metrics, traces); never used by
 * the gateway itself.
 */
export function sampleRequestRecord(overrides: Partial<RequestRecord> = {}): RequestRecord {
  return {
    requestId: 'req-1',
    startedAt: 1_700_000_000_000,
    method: 'POST',
    path: '/v1/chat/completions',
    endpoint: 'chat',
    dialect: 'openai-chat',
    status: 200,
    errorCode: undefined,
    keyName: 'test',
    principal: undefined,
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
    usage: { inputTokens: 40, outputTokens: 12 },
    costUsd: 0.001,
    usageIncomplete: false,
    attempts: [{ target: 'mock/mock-1', provider: 'mock', model: 'mock-1', outcome: 'ok', durationMs: 80 }],
    routing: { group: 'demo', strategy: 'priority', candidates: ['mock/mock-1'] },
    totalMs: 100,
    ttftMs: undefined,
    streamGaps: undefined,
    trace: undefined,
    maxTokens: undefined,
    finishReasons: undefined,
    rejectedLimit: undefined,
    bodies: undefined,
    upstreamMs: 80,
    gatewayOverheadMs: 0.4,
    ...overrides,
  };
}
