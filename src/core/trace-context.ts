/**
 * The W3C trace context of one request, fixed before the upstream call so the upstream's
 * `traceparent` names our request span as its parent; the span itself is built at settle with
 * exactly these ids. Carried on the record as `record.trace`.
 */
export interface RecordTraceContext {
  /** 32 lowercase hex digits. */
  traceId: string;
  /** Our request span (16 hex digits). */
  spanId: string;
  /** The client's span, when its `traceparent` was valid. */
  parentSpanId?: string;
  sampled: boolean;
  /** The client's `tracestate`, passed on unchanged. */
  traceState?: string;
}


/** Request headers as node:http gives them. */
export type HeaderBag = Record<string, string | string[] | undefined>;

export interface TraceHeaders {
  /** Headers for the upstream request: `traceparent` and `tracestate`, never anything else. */
  headers: Record<string, string>;
  /** For `record.trace`; undefined when tracing is off. */
  context: RecordTraceContext | undefined;
}

/** Decides the trace context of each request: the pipeline calls `headersFor` before the upstream call. */
export interface TraceHeaderSource {
  headersFor(headers: HeaderBag): TraceHeaders;
}
