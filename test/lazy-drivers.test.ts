import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { test } from 'node:test';

/**
 * Which database drivers a fresh process loads when it opens a record store and limit counters: a
 * resolve hook notes every import of `pg` or `ioredis`, then the child opens what it is told to.
 */
function driversLoaded(store: 'sqlite' | 'postgres', state: 'memory' | 'redis'): string[] {
  const hook = `export async function resolve(specifier, context, next) {
    if (specifier === 'pg' || specifier === 'ioredis') process.stdout.write('LOADED ' + specifier + '\\n');
    return next(specifier, context);
  }`;
  // Nothing listens on port 9: the PostgreSQL store fails to open (after loading its driver) and
  // the Redis counters start degraded (after loading theirs).
  const child = `
    import { register } from 'node:module';
    register('data:text/javascript,' + encodeURIComponent(${JSON.stringify(hook)}));
    const { openRecordStore } = await import('./src/store/open-store.ts');
    const { openStateStore } = await import('./src/state/index.ts');
    const store = await openRecordStore(${store === 'sqlite' ? "{ driver: 'sqlite', path: ':memory:' }" : "{ driver: 'postgres', url: 'postgres://127.0.0.1:9/none', schema: 'x', poolSize: 1 }"}).catch(() => undefined);
    await store?.close();
    const state = await openStateStore(${state === 'memory' ? "{ backend: 'memory' }" : "{ backend: 'redis', url: 'redis://127.0.0.1:9', commandTimeoutMs: 200 }"});
    await state.close();
    process.stdout.write('OPENED\\n');
  `;
  const out = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', child], { cwd: new URL('..', import.meta.url).pathname, encoding: 'utf8', timeout: 30_000 });
  assert.match(out, /OPENED/);
  return out.split('\n').filter((line) => line.startsWith('LOADED '));
}

test('an embedded gateway (SQLite records, memory counters) never loads the PostgreSQL or Redis driver', () => {
  assert.deepEqual(driversLoaded('sqlite', 'memory'), []);
});

test('configured, each driver is loaded (the check above can see them)', () => {
  assert.deepEqual(driversLoaded('postgres', 'redis').sort(), ['LOADED ioredis', 'LOADED pg']);
});

/** Whether building a gateway's providers from this YAML loads smithy (Bedrock's signer and codec). */
function smithyLoaded(providersYaml: string): boolean {
  const hook = `export async function resolve(specifier, context, next) {
    if (specifier.startsWith('@smithy/')) process.stdout.write('LOADED smithy\\n');
    return next(specifier, context);
  }`;
  const child = `
    import { register } from 'node:module';
    register('data:text/javascript,' + encodeURIComponent(${JSON.stringify(hook)}));
    const { parseConfigText } = await import('./src/config/load.ts');
    const { loadProviderModules, createProvider } = await import('./src/providers/registry.ts');
    const config = parseConfigText(${JSON.stringify(`auth: { disabled: true }\nmodels: {}\n${providersYaml}`)}, 'lazy.yaml');
    await loadProviderModules(config.providers);
    for (const [name, provider] of Object.entries(config.providers)) await createProvider(name, provider).close();
    process.stdout.write('BUILT\\n');
  `;
  const out = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', child], { cwd: new URL('..', import.meta.url).pathname, encoding: 'utf8', timeout: 30_000 });
  assert.match(out, /BUILT/);
  return out.includes('LOADED smithy');
}

test('Bedrock\'s module (smithy) loads only when a Bedrock provider is configured', () => {
  assert.equal(smithyLoaded('providers: { mock: { type: mock }, openai: { type: openai, api_key: sk-x } }'), false);
  assert.equal(smithyLoaded('providers: { aws: { type: bedrock, region: us-east-1, access_key_id: AKIAEXAMPLE, secret_access_key: secret-example } }'), true);
});
