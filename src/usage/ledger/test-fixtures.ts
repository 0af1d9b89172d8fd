import type { RequestRecord } from '../../core/request-record.js';
import { sampleRequestRecord } from '../../core/request-record-sample.js';

/* Test fixtures for the ledger's tests (not used by the gateway). */

/** A settled-request record as the pipeline publishes it, started now, with a principal. */
export function sampleRecord(requestId: string, extra: Partial<RequestRecord> = {}): RequestRecord {
  return sampleRequestRecord({
    requestId,
    startedAt: Date.now(),
    principal: { source: 'static-key', keyId: 'static:test', displayPrefix: 'bb-test…', team: 'search', plan: 'pro' },
    usage: { inputTokens: 20, outputTokens: 12 },
    costUsd: 0.0001,
    attempts: [{ target: 'mock/mock-1', provider: 'mock', model: 'mock-1', outcome: 'ok', durationMs: 1.5 }],
    routing: { group: 'demo', strategy: 'ordered', candidates: ['mock/mock-1'] },
    totalMs: 2.5,
    upstreamMs: 1.5,
    gatewayOverheadMs: 1,
    ...extra,
  });
}
