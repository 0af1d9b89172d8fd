import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { InMemorySpanExporter, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import type { TracingConfig } from '../config/telemetry-schema.js';
import { syntheticRecord } from './metrics-test-records.js';
import { forwardClientTraceHeaders, TraceContextSource } from './tracing-context.js';
import { GatewayTracing } from './tracing.js';

const SETTINGS: TracingConfig = { enabled: true, otlp_endpoint: 'http://127.0.0.1:4318/v1/traces', service_name: 'bb-test', sample_ratio: 1, headers: {}, export_timeout_ms: 1000 };
const PROVIDERS = { providers: { mock: { type: 'mock' }, oa: { type: 'openai' }, groq: { type: 'openai-compatible', vendor: 'groq' } } } as never;

const CLIENT_TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const CLIENT_SPAN = '00f067aa0ba902b7';

const tracings: GatewayTracing[] = [];
function newTracing(settings: Partial<TracingConfig> = {}): { tracing: GatewayTracing; exporter: InMemorySpanExporter } {
  const exporter = new InMemorySpanExporter();
  const tracing = new GatewayTracing({ ...SETTINGS, ...settings }, { config: () => PROVIDERS, exporter });
  tracings.push(tracing);
  return { tracing, exporter };
}

after(async () => {
  await Promise.all(tracings.map((tracing) => tracing.shutdown()));
});

function spanNamed(spans: ReadableSpan[], kind: SpanKind): ReadableSpan[] {
  return spans.filter((span) => span.kind === kind);
}

function durationMs(span: ReadableSpan): number {
  return span.duration[0] * 1000 + span.duration[1] / 1e6;
}

describe('GenAI spans from settled records', () => {
  it('a chat record becomes one SERVER span with the GenAI attributes', () => {
    const { tracing, exporter } = newTracing();
    tracing.record(syntheticRecord({ provider: 'oa', servedModel: 'gpt-4o-mini', stream: true, ttftMs: 250, maxTokens: 256, finishReasons: ['stop'], conversationId: 'conv-9', usage: { inputTokens: 40, outputTokens: 12, cachedInputTokens: 8 }, attempts: [{ target: 'oa/gpt-4o-mini', provider: 'oa', model: 'gpt-4o-mini', outcome: 'ok', durationMs: 80 }] }));
    const spans = exporter.getFinishedSpans();
    const [request] = spanNamed(spans, SpanKind.SERVER);
    assert.ok(request);
    assert.equal(request.name, 'chat demo');
    assert.equal(request.resource.attributes['service.name'], 'bb-test');
    assert.deepEqual(
      { ...request.attributes },
      {
        'gen_ai.operation.name': 'chat',
        'gen_ai.provider.name': 'openai',
        'gen_ai.request.model': 'demo',
        'gen_ai.response.model': 'gpt-4o-mini',
        'gen_ai.request.stream': true,
        'gen_ai.request.max_tokens': 256,
        'gen_ai.response.finish_reasons': ['stop'],
        'gen_ai.usage.input_tokens': 40,
        'gen_ai.usage.output_tokens': 12,
        'gen_ai.usage.cache_read.input_tokens': 8,
        'gen_ai.response.time_to_first_chunk': 0.25,
        'gen_ai.conversation.id': 'conv-9',
        'http.response.status_code': 200,
        'breakerbox.request_id': 'req-1',
        'breakerbox.provider': 'oa',
        'breakerbox.cost_usd': 0.001,
        'breakerbox.attempts': 1,
      },
    );
    assert.equal(request.status.code, SpanStatusCode.UNSET);
    assert.deepEqual(request.startTime, [1_700_000_000, 0]);
    assert.equal(durationMs(request), 100);
    const [attempt] = spanNamed(spans, SpanKind.CLIENT);
    assert.equal(attempt?.name, 'chat gpt-4o-mini');
    assert.equal(attempt?.parentSpanContext?.spanId, request.spanContext().spanId);
    assert.equal(attempt?.attributes['gen_ai.provider.name'], 'openai');
  });

  it('an error record carries error.type and an error status; no secret or key name', () => {
    const { tracing, exporter } = newTracing();
    tracing.record(syntheticRecord({ status: 503, errorCode: 'BB_UPSTREAM_OVERLOADED', usage: undefined, provider: undefined, servedModel: undefined, costUsd: undefined, keyName: 'team-key', attempts: [{ target: 'mock/mock-1', provider: 'mock', model: 'mock-1', outcome: 'BB_UPSTREAM_OVERLOADED', durationMs: 12, upstreamStatus: 503 }] }));
    const spans = exporter.getFinishedSpans();
    const [request] = spanNamed(spans, SpanKind.SERVER);
    assert.equal(request?.attributes['error.type'], 'BB_UPSTREAM_OVERLOADED');
    assert.equal(request?.attributes['gen_ai.provider.name'], 'breakerbox.mock', 'from the attempt when nothing was served');
    assert.equal(request?.attributes['http.response.status_code'], 503);
    assert.equal(request?.status.code, SpanStatusCode.ERROR);
    assert.equal(request?.attributes['gen_ai.usage.input_tokens'], undefined);
    const [attempt] = spanNamed(spans, SpanKind.CLIENT);
    assert.equal(attempt?.attributes['error.type'], 'BB_UPSTREAM_OVERLOADED');
    assert.equal(attempt?.attributes['http.response.status_code'], 503);
    assert.equal(attempt?.status.code, SpanStatusCode.ERROR);
    assert.doesNotMatch(JSON.stringify(spans.map((span) => span.attributes)), /team-key/);
  });

  it('a multi-attempt record gets one CLIENT child per attempt, in order, with their durations', () => {
    const { tracing, exporter } = newTracing();
    tracing.record(
      syntheticRecord({
        provider: 'groq',
        servedModel: 'llama-3',
        totalMs: 400,
        attempts: [
          { target: 'oa/gpt-4o', provider: 'oa', model: 'gpt-4o', outcome: 'BB_UPSTREAM_RATE_LIMITED', durationMs: 20, upstreamStatus: 429 },
          { target: 'oa/gpt-4o', provider: 'oa', model: 'gpt-4o', outcome: 'BB_UPSTREAM_TIMEOUT', durationMs: 150, retry: 1, startMs: 60 },
          { target: 'groq/llama-3', provider: 'groq', model: 'llama-3', outcome: 'ok', durationMs: 90, startMs: 220 },
        ],
      }),
    );
    const spans = exporter.getFinishedSpans();
    const [request] = spanNamed(spans, SpanKind.SERVER);
    const attempts = spanNamed(spans, SpanKind.CLIENT);
    assert.equal(attempts.length, 3);
    assert.ok(attempts.every((span) => span.parentSpanContext?.spanId === request?.spanContext().spanId && span.spanContext().traceId === request?.spanContext().traceId));
    assert.deepEqual(attempts.map((span) => span.name), ['chat gpt-4o', 'chat gpt-4o', 'chat llama-3']);
    assert.deepEqual(attempts.map(durationMs), [20, 150, 90]);
    // The first has no recorded start: it starts with the request; the others at their offsets.
    assert.deepEqual(attempts.map((span) => span.startTime[1] / 1e6 + (span.startTime[0] - 1_700_000_000) * 1000), [0, 60, 220]);
    assert.deepEqual(attempts.map((span) => span.attributes['gen_ai.provider.name']), ['openai', 'openai', 'groq']);
    assert.equal(attempts[1]?.attributes['breakerbox.retry'], 1);
    assert.equal(request?.attributes['gen_ai.provider.name'], 'groq');
  });

  it('embeddings records are named for their operation; other endpoints get no span', () => {
    const { tracing, exporter } = newTracing();
    tracing.record(syntheticRecord({ endpoint: 'embeddings', path: '/v1/embeddings', requestedModel: 'embed', usage: { inputTokens: 9, outputTokens: 0 } }));
    tracing.record(syntheticRecord({ endpoint: 'models', path: '/v1/models' }));
    tracing.record(syntheticRecord({ endpoint: 'other', path: '/nope', status: 404, errorCode: 'BB_ROUTE_NOT_FOUND' }));
    const spans = spanNamed(exporter.getFinishedSpans(), SpanKind.SERVER);
    assert.deepEqual(spans.map((span) => span.name), ['embeddings embed']);
    assert.equal(spans[0]?.attributes['gen_ai.operation.name'], 'embeddings');
    assert.equal(spans[0]?.attributes['gen_ai.usage.output_tokens'], undefined);
  });
});

describe('trace context before the upstream call', () => {
  it('continues the client trace: the upstream traceparent names our span, which the settled span keeps', () => {
    const { tracing, exporter } = newTracing();
    const decided = tracing.context.headersFor({ traceparent: `00-${CLIENT_TRACE}-${CLIENT_SPAN}-01`, tracestate: 'vendor=abc', authorization: 'Bearer secret' });
    const context = decided.context;
    assert.ok(context);
    assert.equal(context.traceId, CLIENT_TRACE);
    assert.equal(context.parentSpanId, CLIENT_SPAN);
    assert.match(context.spanId, /^[0-9a-f]{16}$/);
    assert.notEqual(context.spanId, CLIENT_SPAN);
    assert.deepEqual(decided.headers, { traceparent: `00-${CLIENT_TRACE}-${context.spanId}-01`, tracestate: 'vendor=abc' });
    tracing.record(syntheticRecord({ trace: context }));
    const [request] = spanNamed(exporter.getFinishedSpans(), SpanKind.SERVER);
    assert.equal(request?.spanContext().traceId, CLIENT_TRACE);
    assert.equal(request?.spanContext().spanId, context.spanId);
    assert.equal(request?.parentSpanContext?.spanId, CLIENT_SPAN);
  });

  it('starts a new trace without a valid client traceparent, sampled by ratio', () => {
    const always = new TraceContextSource(1).headersFor({ traceparent: 'garbage' });
    assert.ok(always.context?.sampled);
    assert.equal(always.context.parentSpanId, undefined);
    assert.match(always.headers.traceparent ?? '', /^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
    const never = new TraceContextSource(0).headersFor({});
    assert.equal(never.context?.sampled, false);
    assert.match(never.headers.traceparent ?? '', /-00$/);
  });

  it('follows the client sampling decision over the ratio, and skips unsampled records', () => {
    const { tracing, exporter } = newTracing({ sample_ratio: 0 });
    const sampled = tracing.context.headersFor({ traceparent: `00-${CLIENT_TRACE}-${CLIENT_SPAN}-01` }).context;
    const unsampled = tracing.context.headersFor({ traceparent: `00-${CLIENT_TRACE}-${CLIENT_SPAN}-00` }).context;
    assert.equal(sampled?.sampled, true);
    assert.equal(unsampled?.sampled, false);
    tracing.record(syntheticRecord({ trace: unsampled }));
    tracing.record(syntheticRecord({}));
    assert.equal(exporter.getFinishedSpans().length, 0, 'ratio 0 and an unsampled parent: nothing recorded');
    tracing.record(syntheticRecord({ trace: sampled }));
    assert.equal(spanNamed(exporter.getFinishedSpans(), SpanKind.SERVER).length, 1);
  });

  it('with tracing off, forwards the client trace headers as they came and nothing else', () => {
    const forwarded = forwardClientTraceHeaders.headersFor({ traceparent: 'anything', tracestate: 'a=b', authorization: 'Bearer secret', 'x-other': 'y' });
    assert.deepEqual(forwarded, { headers: { traceparent: 'anything', tracestate: 'a=b' }, context: undefined });
  });
});
