import assert from 'node:assert/strict';
import { test } from 'node:test';
import { modulesLoadedBy } from '../../test/helpers/modules-loaded.js';

/** Which tracing modules (OpenTelemetry's SDK and exporter, our tracing.ts) a fresh process loads when telemetry starts. */
function modulesLoaded(tracingEnabled: boolean): string[] {
  return modulesLoadedBy(
    'sdk-trace-base|exporter-trace-otlp-http|\\/tracing\\.(js|ts)$',
    `const { parseConfigText } = await import('./src/config/load.ts');
    const { startTelemetry } = await import('./src/telemetry/metrics-wiring.ts');
    const config = parseConfigText(\`auth: { disabled: true }
metrics: { enabled: false }
tracing: { enabled: ${tracingEnabled}, otlp_endpoint: http://127.0.0.1:9/v1/traces }
providers: { local: { type: mock } }
models: { m: { targets: [{ provider: local, model: m }] } }
\`, 'test.yaml', {});
    const telemetry = await startTelemetry(config, { config: () => config, breakers: () => [], inFlight: () => 0 });
    await telemetry.close();`,
  );
}

test('with tracing off, the OpenTelemetry SDK and exporter are never loaded', () => {
  assert.deepEqual(modulesLoaded(false), []);
});

test('with tracing on, they are (the check above can see them)', () => {
  assert.ok(modulesLoaded(true).length > 0);
});
