import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { publishRequestSettled } from '../core/request-record.js';
import type { BreakerReport } from '../routing/breakers.js';
import { StreamGapMeter } from './metrics-stream-gaps.js';
import { sampleValue, syntheticRecord } from './metrics-test-records.js';
import { configuredNames, GatewayMetrics, type MetricsSources } from './metrics.js';

const CONFIG = { models: { demo: {}, fast: {} }, providers: { mock: {}, backup: {} } } as const;

function newMetrics(overrides: Partial<MetricsSources> = {}): GatewayMetrics {
  return new GatewayMetrics({ names: configuredNames(() => CONFIG as never), breakers: () => [], inFlight: () => 0, ...overrides }, { processMetrics: false });
}

function typeOf(text: string, name: string): string | undefined {
  return new RegExp(`^# TYPE ${name} (\\w+)$`, 'm').exec(text)?.[1];
}

describe('metrics from settled records', () => {
  it('exposes every request metric with its type and bounded labels', async () => {
    const metrics = newMetrics();
    metrics.observe(syntheticRecord({ usage: { inputTokens: 40, outputTokens: 12, cachedInputTokens: 8, reasoningTokens: 3 }, costUsd: 0.002 }));
    const gaps = new StreamGapMeter();
    for (const at of [0, 3, 30, 2030]) gaps.tick(at);
    metrics.observe(syntheticRecord({ stream: true, ttftMs: 120, streamGaps: gaps, totalMs: 2100, gatewayOverheadMs: 0.3 }));
    const text = await metrics.render();

    const types: Record<string, string> = {
      breakerbox_requests_total: 'counter',
      breakerbox_tokens_total: 'counter',
      breakerbox_cost_usd_total: 'counter',
      breakerbox_request_duration_seconds: 'histogram',
      breakerbox_time_to_first_token_seconds: 'histogram',
      breakerbox_stream_chunk_gap_seconds: 'histogram',
      breakerbox_gateway_overhead_seconds: 'histogram',
      breakerbox_upstream_errors_total: 'counter',
      breakerbox_limit_rejections_total: 'counter',
      breakerbox_access_denials_total: 'counter',
      breakerbox_guardrail_actions_total: 'counter',
      breakerbox_breaker_state: 'gauge',
      breakerbox_requests_in_flight: 'gauge',
      breakerbox_ledger_queue_depth: 'gauge',
    };
    for (const [name, type] of Object.entries(types)) assert.equal(typeOf(text, name), type, name);

    const base = { endpoint: 'chat', dialect: 'openai-chat', model: 'demo', provider: 'mock' };
    assert.equal(sampleValue(text, 'breakerbox_requests_total', { ...base, stream: 'false', status: '200', code: '' }), 1);
    assert.equal(sampleValue(text, 'breakerbox_requests_total', { ...base, stream: 'true', status: '200', code: '' }), 1);
    const tokens = { endpoint: 'chat', model: 'demo', provider: 'mock' };
    assert.equal(sampleValue(text, 'breakerbox_tokens_total', { ...tokens, type: 'input' }), 80);
    assert.equal(sampleValue(text, 'breakerbox_tokens_total', { ...tokens, type: 'output' }), 24);
    assert.equal(sampleValue(text, 'breakerbox_tokens_total', { ...tokens, type: 'cached' }), 8);
    assert.equal(sampleValue(text, 'breakerbox_tokens_total', { ...tokens, type: 'reasoning' }), 3);
    assert.equal(sampleValue(text, 'breakerbox_tokens_total', { ...tokens, type: 'cache_write' }), undefined, 'a kind never seen is not exported');
    assert.equal(sampleValue(text, 'breakerbox_cost_usd_total', tokens), 0.003);

    const duration = { endpoint: 'chat', model: 'demo', provider: 'mock', stream: 'true' };
    assert.equal(sampleValue(text, 'breakerbox_request_duration_seconds_count', duration), 1);
    assert.equal(sampleValue(text, 'breakerbox_request_duration_seconds_bucket', { ...duration, le: '2.5' }), 1);
    assert.equal(sampleValue(text, 'breakerbox_request_duration_seconds_bucket', { ...duration, le: '1' }), 0);
    assert.equal(sampleValue(text, 'breakerbox_time_to_first_token_seconds_bucket', { model: 'demo', provider: 'mock', le: '0.25' }), 1);
    assert.equal(sampleValue(text, 'breakerbox_time_to_first_token_seconds_bucket', { model: 'demo', provider: 'mock', le: '0.1' }), 0);
    // Gaps of 3 ms, 27 ms and 2000 ms.
    const gap = { model: 'demo', provider: 'mock' };
    assert.equal(sampleValue(text, 'breakerbox_stream_chunk_gap_seconds_count', gap), 3);
    assert.equal(sampleValue(text, 'breakerbox_stream_chunk_gap_seconds_bucket', { ...gap, le: '0.005' }), 1);
    assert.equal(sampleValue(text, 'breakerbox_stream_chunk_gap_seconds_bucket', { ...gap, le: '0.05' }), 2);
    assert.equal(sampleValue(text, 'breakerbox_stream_chunk_gap_seconds_bucket', { ...gap, le: '2.5' }), 3);
    assert.ok(Math.abs((sampleValue(text, 'breakerbox_stream_chunk_gap_seconds_sum', gap) ?? 0) - 2.03) < 1e-9);
    assert.equal(sampleValue(text, 'breakerbox_gateway_overhead_seconds_count', { endpoint: 'chat', stream: 'false' }), 1);
    assert.equal(sampleValue(text, 'breakerbox_gateway_overhead_seconds_bucket', { endpoint: 'chat', stream: 'true', le: '0.0005' }), 1);
    assert.doesNotMatch(text, /req-1|request_id|"test"/, 'no per-request id or key name in any label');
  });

  it('counts failed attempts, limit rejections and access denials by code', async () => {
    const metrics = newMetrics();
    metrics.observe(
      syntheticRecord({
        attempts: [
          { target: 'mock/mock-1', provider: 'mock', model: 'mock-1', outcome: 'BB_UPSTREAM_OVERLOADED', durationMs: 5, upstreamStatus: 503 },
          { target: 'mock/mock-1', provider: 'mock', model: 'mock-1', outcome: 'BB_UPSTREAM_TIMEOUT', durationMs: 50, retry: 1 },
          { target: 'backup/b-1', provider: 'backup', model: 'b-1', outcome: 'ok', durationMs: 30 },
        ],
        provider: 'backup',
      }),
    );
    metrics.observe(syntheticRecord({ status: 429, errorCode: 'BB_RATE_LIMITED', rejectedLimit: 'requests_per_minute', usage: undefined, provider: undefined, attempts: [] }));
    metrics.observe(syntheticRecord({ status: 429, errorCode: 'BB_BUDGET_EXCEEDED', usage: undefined, provider: undefined, attempts: [] }));
    metrics.observe(syntheticRecord({ status: 403, errorCode: 'BB_ACCESS_DENIED', access: { decision: 'deny', rule: 'ops-only' }, usage: undefined, provider: undefined, attempts: [] }));
    const text = await metrics.render();
    assert.equal(sampleValue(text, 'breakerbox_upstream_errors_total', { provider: 'mock', code: 'BB_UPSTREAM_OVERLOADED', class: 'overloaded' }), 1);
    assert.equal(sampleValue(text, 'breakerbox_upstream_errors_total', { provider: 'mock', code: 'BB_UPSTREAM_TIMEOUT', class: 'timeout' }), 1);
    assert.equal(sampleValue(text, 'breakerbox_limit_rejections_total', { endpoint: 'chat', model: 'demo', code: 'BB_RATE_LIMITED', limit: 'requests_per_minute' }), 1);
    assert.equal(sampleValue(text, 'breakerbox_limit_rejections_total', { endpoint: 'chat', model: 'demo', code: 'BB_BUDGET_EXCEEDED', limit: '' }), 1);
    assert.equal(sampleValue(text, 'breakerbox_access_denials_total', { endpoint: 'chat', model: 'demo', rule: 'ops-only' }), 1);
    assert.equal(sampleValue(text, 'breakerbox_requests_total', { endpoint: 'chat', dialect: 'openai-chat', model: 'demo', provider: '', stream: 'false', status: '429', code: 'BB_RATE_LIMITED' }), 1);
  });

  it('bounds labels: unknown models and providers become `other`, free text is capped', async () => {
    const metrics = newMetrics();
    metrics.observe(syntheticRecord({ requestedModel: 'gpt-9-made-up', provider: 'somewhere' }));
    metrics.observe(syntheticRecord({ requestedModel: 'x'.repeat(200), provider: 'mock', status: 404, errorCode: 'BB_MODEL_NOT_FOUND', usage: undefined }));
    for (let index = 0; index < 150; index += 1) {
      metrics.observe(syntheticRecord({ status: 403, errorCode: 'BB_ACCESS_DENIED', access: { decision: 'deny', rule: `rule-${index}` }, usage: undefined }));
    }
    const text = await metrics.render();
    assert.equal(sampleValue(text, 'breakerbox_requests_total', { endpoint: 'chat', dialect: 'openai-chat', model: 'other', provider: 'other', stream: 'false', status: '200', code: '' }), 1);
    assert.equal(sampleValue(text, 'breakerbox_requests_total', { endpoint: 'chat', dialect: 'openai-chat', model: 'other', provider: 'mock', stream: 'false', status: '404', code: 'BB_MODEL_NOT_FOUND' }), 1);
    assert.doesNotMatch(text, /gpt-9-made-up|somewhere|xxxx/);
    const rules = text.split('\n').filter((line) => line.startsWith('breakerbox_access_denials_total{'));
    assert.equal(rules.length, 101, '100 distinct rule values, then `other`');
    assert.equal(sampleValue(text, 'breakerbox_access_denials_total', { endpoint: 'chat', model: 'demo', rule: 'other' }), 50);
  });

  it('follows a reload: a model the new config adds gets its own label', async () => {
    let config: { models: Record<string, object>; providers: Record<string, object> } = { models: { demo: {} }, providers: { mock: {} } };
    const metrics = new GatewayMetrics({ names: configuredNames(() => config as never), breakers: () => [], inFlight: () => 0 }, { processMetrics: false });
    metrics.observe(syntheticRecord({ requestedModel: 'later' }));
    config = { models: { demo: {}, later: {} }, providers: { mock: {} } };
    metrics.observe(syntheticRecord({ requestedModel: 'later' }));
    const text = await metrics.render();
    assert.equal(sampleValue(text, 'breakerbox_tokens_total', { endpoint: 'chat', model: 'other', provider: 'mock', type: 'input' }), 40);
    assert.equal(sampleValue(text, 'breakerbox_tokens_total', { endpoint: 'chat', model: 'later', provider: 'mock', type: 'input' }), 40);
  });

  it('reports breaker states, requests in flight and the ledger queue depth at scrape time', async () => {
    let breakers: BreakerReport[] = [
      { target: 'mock/mock-1', state: 'closed', consecutive_failures: 0, in_flight: 0 },
      { target: 'backup/b-1', state: 'half-open', consecutive_failures: 0, in_flight: 0 },
      { target: 'openai/gpt-4o', state: 'open', consecutive_failures: 0, in_flight: 0, retry_in_ms: 1000 },
    ];
    let inFlight = 3;
    const metrics = newMetrics({ breakers: () => breakers, inFlight: () => inFlight });
    let text = await metrics.render();
    assert.equal(sampleValue(text, 'breakerbox_breaker_state', { target: 'mock/mock-1' }), 0);
    assert.equal(sampleValue(text, 'breakerbox_breaker_state', { target: 'backup/b-1' }), 1);
    assert.equal(sampleValue(text, 'breakerbox_breaker_state', { target: 'openai/gpt-4o' }), 2);
    assert.equal(sampleValue(text, 'breakerbox_requests_in_flight'), 3);
    assert.equal(sampleValue(text, 'breakerbox_ledger_queue_depth'), 0, 'no ledger wired yet');
    breakers = [{ target: 'mock/mock-1', state: 'open', consecutive_failures: 0, in_flight: 0 }];
    inFlight = 0;
    metrics.setLedgerQueueDepth(() => 7);
    text = await metrics.render();
    assert.equal(sampleValue(text, 'breakerbox_breaker_state', { target: 'mock/mock-1' }), 2);
    assert.equal(sampleValue(text, 'breakerbox_breaker_state', { target: 'backup/b-1' }), undefined, 'a target no longer reported is dropped');
    assert.equal(sampleValue(text, 'breakerbox_requests_in_flight'), 0);
    assert.equal(sampleValue(text, 'breakerbox_ledger_queue_depth'), 7);
  });

  it('subscribes to the settle channel, counts guardrail decisions, and stops', async () => {
    const metrics = newMetrics();
    const stop = metrics.start();
    publishRequestSettled(syntheticRecord({ guards: [{ guard: 'pii', entity: 'email', action: 'redact', where: 'input' }, { guard: 'injection', action: 'block', where: 'input' }] }));
    // A malformed record is dropped: a throwing subscriber would crash the process.
    publishRequestSettled(null as never);
    stop();
    publishRequestSettled(syntheticRecord());
    const text = await metrics.render();
    assert.equal(sampleValue(text, 'breakerbox_requests_total', { endpoint: 'chat', dialect: 'openai-chat', model: 'demo', provider: 'mock', stream: 'false', status: '200', code: '' }), 1);
    assert.equal(sampleValue(text, 'breakerbox_guardrail_actions_total', { guard: 'pii', entity: 'email', action: 'redact' }), 1);
    assert.equal(sampleValue(text, 'breakerbox_guardrail_actions_total', { guard: 'injection', entity: '', action: 'block' }), 1);
  });

  it('exports Node process metrics under the breakerbox_ prefix when asked', async () => {
    const metrics = new GatewayMetrics({ names: configuredNames(() => CONFIG as never), breakers: () => [], inFlight: () => 0 }, { processMetrics: true });
    const text = await metrics.render();
    assert.match(text, /^# TYPE breakerbox_process_cpu_seconds_total counter$/m);
    assert.match(text, /^# TYPE breakerbox_nodejs_eventloop_lag_seconds gauge$/m);
  });
});

describe('stream gap meter', () => {
  it('counts gaps between ticks into fixed buckets', () => {
    const meter = new StreamGapMeter();
    meter.tick(100);
    assert.equal(meter.count, 0, 'the first chunk only starts the clock');
    meter.tick(100.5);
    meter.tick(110.5);
    meter.tick(10_110.5);
    assert.equal(meter.count, 3);
    assert.equal(meter.sumMs, 10_010.5);
    assert.equal(meter.counts[0], 1, '0.5 ms <= 1 ms');
    assert.equal(meter.counts[2], 1, '10 ms <= 10 ms');
    assert.equal(meter.counts[meter.counts.length - 1], 1, '10 s is past the last bound');
    assert.equal(meter.counts.length, 12);
  });
});
