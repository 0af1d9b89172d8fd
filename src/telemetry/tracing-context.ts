import type { HeaderBag, RecordTraceContext, TraceHeaders, TraceHeaderSource } from '../core/trace-context.js';
import { defaultTextMapGetter, defaultTextMapSetter, ROOT_CONTEXT, SpanKind, trace, TraceFlags, type Context } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { ParentBasedSampler, RandomIdGenerator, SamplingDecision, TraceIdRatioBasedSampler, type Sampler } from '@opentelemetry/sdk-trace-base';

export type { HeaderBag, RecordTraceContext, TraceHeaders, TraceHeaderSource };
export { forwardClientTraceHeaders } from './trace-forwarding.js';

/**
 * Tracing on: continues the client's trace when its `traceparent` is valid (and follows its
 * sampled flag), else starts a trace sampled at `sampleRatio`. Cost per request: one header
 * parse, two random ids and one sampler call; no span is created here.
 */
export class TraceContextSource implements TraceHeaderSource {
  private readonly propagator = new W3CTraceContextPropagator();
  private readonly ids = new RandomIdGenerator();
  private readonly sampler: Sampler;

  constructor(sampleRatio: number) {
    this.sampler = new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(sampleRatio) });
  }

  headersFor(headers: HeaderBag): TraceHeaders {
    const parentContext = this.propagator.extract(ROOT_CONTEXT, headers, defaultTextMapGetter);
    const parent = trace.getSpanContext(parentContext);
    const traceId = parent?.traceId ?? this.ids.generateTraceId();
    const spanId = this.ids.generateSpanId();
    const sampled = this.sampler.shouldSample(parentContext, traceId, '', SpanKind.SERVER, {}, []).decision === SamplingDecision.RECORD_AND_SAMPLED;
    const context: RecordTraceContext = { traceId, spanId, sampled };
    if (parent) context.parentSpanId = parent.spanId;
    const traceState = parent?.traceState?.serialize();
    if (traceState) context.traceState = traceState;
    const out: Record<string, string> = {};
    this.propagator.inject(contextOf(context, parentContext), out, defaultTextMapSetter);
    return { headers: out, context };
  }
}

/** An OpenTelemetry context whose current span context is `ids` (our request span). */
function contextOf(ids: RecordTraceContext, base: Context): Context {
  const parent = trace.getSpanContext(base);
  return trace.setSpanContext(base, {
    traceId: ids.traceId,
    spanId: ids.spanId,
    traceFlags: ids.sampled ? TraceFlags.SAMPLED : TraceFlags.NONE,
    ...(parent?.traceState ? { traceState: parent.traceState } : {}),
  });
}
