import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { test } from 'node:test';

/**
 * Which tracing modules a fresh process loads when telemetry starts: a resolve hook notes every
 * module named after OpenTelemetry's SDK or our tracing.ts, then the child starts telemetry.
 */
function modulesLoaded(tracingEnabled: boolean): string[] {
  const hook = `export async function resolve(specifier, context, next) {
    if (/sdk-trace-base|exporter-trace-otlp-http|\\/tracing\\.(js|ts)$/.test(specifier)) process.stdout.write('LOADED ' + specifier + '\\n');
    return next(specifier, context);
  }`;
  const child = `
    import { register } from 'node:module';
    register('data:text/javascript,' + encodeURIComponent(${JSON.stringify(hook)}));
    const { parseConfigText } = await import('./src/config/load.ts');
    const { startTelemetry } = await import('./src/telemetry/metrics-wiring.ts');
    const config = parseConfigText(\`auth: { disabled: true }
metrics: { enabled: false }
tracing: { enabled: ${tracingEnabled}, otlp_endpoint: http://127.0.0.1:9/v1/traces }
providers: { local: { type: mock } }
models: { m: { targets: [{ provider: local, model: m }] } }
\`, 'test.yaml', {});
    const telemetry = await startTelemetry(config, { config: () => config, breakers: () => [], inFlight: () => 0 });
    await telemetry.close();
    process.stdout.write('STARTED\\n');
  `;
  const out = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', child], { cwd: new URL('../..', import.meta.url).pathname, encoding: 'utf8' });
  assert.match(out, /STARTED/);
  return out.split('\n').filter((line) => line.startsWith('LOADED '));
}

test('with tracing off, the OpenTelemetry SDK and exporter are never loaded', () => {
  assert.deepEqual(modulesLoaded(false), []);
});

test('with tracing on, they are (the check above can see them)', () => {
  assert.ok(modulesLoaded(true).length > 0);
});
