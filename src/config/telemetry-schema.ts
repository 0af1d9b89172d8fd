import { z } from 'zod';

/** Paths the gateway already serves: the metrics endpoint may not shadow them. */
const TAKEN_PATH = /^\/(?:v1|admin)(?:\/|$)|^\/(?:healthz|readyz)$/;

const metricsSchema = z
  .strictObject({
    enabled: z.boolean().default(true).describe('Serve Prometheus metrics and count settled requests. Changes need a restart.'),
    path: z
      .string()
      .regex(/^\/[\w./-]*$/, 'expected a path such as /metrics')
      .refine((path) => !TAKEN_PATH.test(path), 'may not be under /v1 or /admin, nor /healthz or /readyz')
      .default('/metrics')
      .describe('Where the Prometheus text format is served (GET). Never load shed.'),
    auth: z
      .enum(['none', 'admin'])
      .default('none')
      .describe('none: anyone who reaches the listener may scrape. admin: the admin key (or an admin-role credential) is required, as a bearer token.'),
    process_metrics: z
      .boolean()
      .default(true)
      .describe('Also export Node.js process metrics (CPU, memory, event loop lag, GC), prefixed breakerbox_.'),
  })
  .prefault({})
  .describe('Prometheus metrics (docs/observability.md lists every series). Labels are bounded: unknown model names are counted as `other`.');

const tracingSchema = z
  .strictObject({
    enabled: z.boolean().default(false).describe('Export one OpenTelemetry span per chat or embeddings request (GenAI semantic conventions), with a child span per upstream attempt.'),
    otlp_endpoint: z
      .url()
      .default('http://127.0.0.1:4318/v1/traces')
      .describe('OTLP/HTTP traces endpoint (JSON), including the /v1/traces path.'),
    service_name: z.string().min(1).default('breakerbox').describe('The `service.name` resource attribute.'),
    sample_ratio: z
      .number()
      .min(0)
      .max(1)
      .default(1)
      .describe('Share of new traces recorded (0 to 1). A client `traceparent` decides for its own trace (parent-based sampling).'),
    headers: z
      .record(z.string(), z.string())
      .default({})
      .describe('Headers sent with every export, e.g. { authorization: "Bearer ${env:OTLP_TOKEN}" }.'),
    export_timeout_ms: z.number().int().positive().default(10_000).describe('Longest wait for one export request.'),
  })
  .prefault({})
  .describe('OpenTelemetry traces over OTLP/HTTP. The whole block changes only on restart.');

/** `metrics:` and `tracing:`, spread into the top-level config schema. */
export const telemetryConfigFields = {
  metrics: metricsSchema,
  tracing: tracingSchema,
};

export type MetricsConfig = z.output<typeof metricsSchema>;
export type TracingConfig = z.output<typeof tracingSchema>;
