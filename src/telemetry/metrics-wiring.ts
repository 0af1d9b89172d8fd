import type { Config } from '../config/schema.js';
import type { BreakerReport } from '../routing/breakers.js';
import { configuredNames, GatewayMetrics } from './metrics.js';
import type { TraceHeaderSource } from '../core/trace-context.js';
import { forwardClientTraceHeaders } from './trace-forwarding.js';
import type { GatewayTracing } from './tracing.js';

/** What the telemetry reads from the running gateway (getters: reloads and late starters are seen). */
export interface TelemetrySources {
  /** The config in force (model and provider names bound labels; provider types name spans). */
  config(): Config;
  breakers(): readonly BreakerReport[];
  inFlight(): number;
  /** The ledger's outbox depth (`ledger.queueDepth()`), read at each scrape. */
  ledgerQueueDepth?: () => number;
}

export interface Telemetry {
  /** Undefined when `metrics.enabled` is false. */
  metrics: GatewayMetrics | undefined;
  /** Undefined when `tracing.enabled` is false. */
  tracing: GatewayTracing | undefined;
  /** For the pipeline, before the upstream call: today's forwarding when tracing is off. */
  traceHeaders: TraceHeaderSource;
  /** Unsubscribes, builds the spans still queued and flushes the exporter. */
  close(): Promise<void>;
}

/**
 * Starts metrics and tracing as the config says; both subscribe to the settle channel. Tracing's
 * module (the OpenTelemetry SDK and OTLP exporter, about 3.5 MB of RSS) is imported only when
 * `tracing.enabled`: a restart-only setting, so this is the one place that decides.
 */
export async function startTelemetry(config: Config, sources: TelemetrySources): Promise<Telemetry> {
  const metrics = config.metrics.enabled
    ? new GatewayMetrics(
        { names: configuredNames(() => sources.config()), breakers: () => sources.breakers(), inFlight: () => sources.inFlight(), ledgerQueueDepth: sources.ledgerQueueDepth },
        { processMetrics: config.metrics.process_metrics },
      )
    : undefined;
  const tracing = config.tracing.enabled ? new (await import('./tracing.js')).GatewayTracing(config.tracing, { config: () => sources.config() }) : undefined;
  metrics?.start();
  tracing?.start();
  return {
    metrics,
    tracing,
    traceHeaders: tracing?.context ?? forwardClientTraceHeaders,
    async close() {
      metrics?.stop();
      await tracing?.shutdown();
    },
  };
}
