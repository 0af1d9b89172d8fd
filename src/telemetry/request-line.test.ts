import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { RequestRecord } from '../core/request-record.js';
import { formatRequestLine } from './logger.js';

describe('the request log line', () => {
  it('names the routing rule and the failed attempts of a fallback, as valid JSON', () => {
    const record = {
      requestId: 'r1',
      method: 'POST',
      path: '/v1/chat/completions',
      status: 200,
      requestedModel: 'smart',
      stream: false,
      usageIncomplete: false,
      totalMs: 12.5,
      routing: { group: 'cheap', rule: 'short-summaries', strategy: 'priority', candidates: ['a/x', 'b/y'] },
      attempts: [
        { target: 'a/x', provider: 'a', model: 'x', outcome: 'BB_UPSTREAM_OVERLOADED', durationMs: 3, upstreamStatus: 500 },
        { target: 'b/y', provider: 'b', model: 'y', outcome: 'ok', durationMs: 4 },
      ],
    } as unknown as RequestRecord;
    const line = JSON.parse(formatRequestLine(record, 30, '2026-11-28T00:00:00.000Z')) as Record<string, unknown>;
    assert.equal(line.routing_rule, 'short-summaries');
    assert.equal(line.attempts, 2);
    assert.deepEqual(line.failed_attempts, ['a/x:BB_UPSTREAM_OVERLOADED']);
  });
});
