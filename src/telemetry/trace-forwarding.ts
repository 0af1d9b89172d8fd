import type { TraceHeaderSource } from '../core/trace-context.js';

const FORWARDED = ['traceparent', 'tracestate'] as const;

/**
 * Tracing off: the client's trace headers go upstream as they came (the behaviour before tracing).
 * In a file of its own, free of OpenTelemetry, so a gateway without tracing never loads it.
 */
export const forwardClientTraceHeaders: TraceHeaderSource = {
  headersFor(headers) {
    const out: Record<string, string> = {};
    for (const name of FORWARDED) {
      const value = headers[name];
      if (typeof value === 'string') out[name] = value;
    }
    return { headers: out, context: undefined };
  },
};
