import { ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, TraceFlags, type Tracer } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { AlwaysOnSampler, BasicTracerProvider, BatchSpanProcessor, RandomIdGenerator, SimpleSpanProcessor, type IdGenerator, type SpanExporter } from '@opentelemetry/sdk-trace-base';
import type { Config } from '../config/schema.js';
import type { TracingConfig } from '../config/telemetry-schema.js';
import { requestSettledChannel, type RequestRecord } from '../core/request-record.js';
import type { ObservedAttempt, ObservedRecord } from './metrics-record-fields.js';
import { TraceContextSource } from './tracing-context.js';
import { attemptAttributes, operationOf, providerNameLookup, requestAttributes, spanName } from './tracing-spans.js';

/** Longest a shutdown waits for the last export: an unreachable collector must not hold up the gateway's exit. */
const SHUTDOWN_WAIT_MS = 3000;

export interface TracingOptions {
  /** The running config (provider types name `gen_ai.provider.name`); a getter, so reloads are seen. */
  config: () => Pick<Config, 'providers'>;
  /** Tests: spans go here (synchronously) instead of OTLP. */
  exporter?: SpanExporter;
}

/**
 * Returns the span and trace ids decided before the upstream call for the next span built, so a
 * span made after the fact keeps the ids its `traceparent` already announced; random otherwise.
 */
class PresetIdGenerator implements IdGenerator {
  private readonly random = new RandomIdGenerator();
  traceId: string | undefined;
  spanId: string | undefined;

  generateTraceId(): string {
    const id = this.traceId ?? this.random.generateTraceId();
    this.traceId = undefined;
    return id;
  }

  generateSpanId(): string {
    const id = this.spanId ?? this.random.generateSpanId();
    this.spanId = undefined;
    return id;
  }
}

/**
 * OpenTelemetry traces for one gateway: one SERVER span per chat or embeddings request and one
 * CLIENT span per upstream attempt, built from the settled record (start = record.startedAt, end
 * = start + totalMs) and exported over OTLP/HTTP in batches. The settle handler only queues the
 * record; spans are built on the next turn of the event loop.
 */
export class GatewayTracing {
  /** What the pipeline calls before the upstream call (`traceparent` for the upstream, ids for the record). */
  readonly context: TraceContextSource;
  private readonly provider: BasicTracerProvider;
  private readonly tracer: Tracer;
  private readonly ids = new PresetIdGenerator();
  private readonly providerName: (provider: string) => string | undefined;
  private queue: ObservedRecord[] = [];
  private scheduled: NodeJS.Immediate | undefined;
  private readonly onSettled = (message: unknown) => this.enqueue(message as RequestRecord);
  private subscribed = false;

  constructor(settings: TracingConfig, options: TracingOptions) {
    this.context = new TraceContextSource(settings.sample_ratio);
    this.providerName = providerNameLookup(options.config);
    const processor = options.exporter
      ? new SimpleSpanProcessor(options.exporter)
      : new BatchSpanProcessor(new OTLPTraceExporter({ url: settings.otlp_endpoint, headers: settings.headers, timeoutMillis: settings.export_timeout_ms }));
    this.provider = new BasicTracerProvider({
      resource: resourceFromAttributes({ 'service.name': settings.service_name }),
      // The sampling decision was made with the trace context; every record that reaches here is kept.
      sampler: new AlwaysOnSampler(),
      idGenerator: this.ids,
      spanProcessors: [processor],
    });
    this.tracer = this.provider.getTracer('breakerbox');
  }

  start(): () => void {
    if (!this.subscribed) {
      this.subscribed = true;
      requestSettledChannel.subscribe(this.onSettled);
    }
    return () => this.stopListening();
  }

  /** Builds what is queued, then flushes and closes the exporter (waiting at most SHUTDOWN_WAIT_MS for a slow collector). */
  async shutdown(): Promise<void> {
    this.stopListening();
    this.flushQueue();
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<void>((resolve) => (timer = setTimeout(resolve, SHUTDOWN_WAIT_MS).unref()));
    await Promise.race([this.provider.shutdown().catch(() => undefined), late]);
    clearTimeout(timer);
  }

  /** Builds the spans of one settled record now (the channel handler defers to this). */
  record(input: RequestRecord): void {
    const record = input as ObservedRecord;
    const operation = operationOf(record);
    if (operation === undefined) return;
    // Records settled without a context (tracing wired after the fact) start their own trace.
    const ids = record.trace ?? this.context.headersFor({}).context;
    if (!ids?.sampled) return;
    const start = record.startedAt;
    const parent = ids.parentSpanId === undefined ? ROOT_CONTEXT : trace.setSpanContext(ROOT_CONTEXT, { traceId: ids.traceId, spanId: ids.parentSpanId, traceFlags: TraceFlags.SAMPLED, isRemote: true });
    this.ids.traceId = ids.traceId;
    this.ids.spanId = ids.spanId;
    const span = this.tracer.startSpan(spanName(operation, record.requestedModel), { kind: SpanKind.SERVER, startTime: start, attributes: requestAttributes(record, operation, this.providerName) }, parent);
    this.ids.traceId = undefined;
    this.ids.spanId = undefined;
    if (record.errorCode !== undefined) span.setStatus({ code: SpanStatusCode.ERROR, message: record.errorCode });
    const inside = trace.setSpan(ROOT_CONTEXT, span);
    // Without recorded start offsets, attempts are laid end to end from the request's start.
    let cursor = 0;
    for (const attempt of record.attempts as ObservedAttempt[]) {
      const attemptStart = start + (attempt.startMs ?? cursor);
      const child = this.tracer.startSpan(spanName(operation, attempt.model), { kind: SpanKind.CLIENT, startTime: attemptStart, attributes: attemptAttributes(attempt, operation, this.providerName) }, inside);
      if (attempt.outcome !== 'ok') child.setStatus({ code: SpanStatusCode.ERROR, message: attempt.outcome });
      child.end(attemptStart + attempt.durationMs);
      cursor = (attempt.startMs ?? cursor) + attempt.durationMs;
    }
    span.end(start + record.totalMs);
  }

  private enqueue(record: RequestRecord): void {
    if (operationOf(record) === undefined) return;
    this.queue.push(record);
    this.scheduled ??= setImmediate(() => this.flushQueue());
  }

  private flushQueue(): void {
    if (this.scheduled) clearImmediate(this.scheduled);
    this.scheduled = undefined;
    const records = this.queue;
    this.queue = [];
    for (const record of records) {
      try {
        this.record(record);
      } catch {
        // This runs outside any request: a throw would be an uncaught exception. The span is dropped.
      }
    }
  }

  private stopListening(): void {
    if (!this.subscribed) return;
    this.subscribed = false;
    requestSettledChannel.unsubscribe(this.onSettled);
  }
}
