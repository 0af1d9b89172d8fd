import assert from 'node:assert/strict';
import { test } from 'node:test';
import { modulesLoadedBy } from './helpers/modules-loaded.js';

/** Which database drivers a fresh process loads when it opens a record store and limit counters. */
function driversLoaded(store: 'sqlite' | 'postgres', state: 'memory' | 'redis'): string[] {
  // Nothing listens on port 9: the PostgreSQL store fails to open (after loading its driver) and
  // the Redis counters start degraded (after loading theirs).
  return modulesLoadedBy(
    '^(pg|ioredis)$',
    `const { openRecordStore } = await import('./src/store/open-store.ts');
    const { openStateStore } = await import('./src/state/index.ts');
    const store = await openRecordStore(${store === 'sqlite' ? "{ driver: 'sqlite', path: ':memory:' }" : "{ driver: 'postgres', url: 'postgres://127.0.0.1:9/none', schema: 'x', poolSize: 1 }"}).catch(() => undefined);
    await store?.close();
    const state = await openStateStore(${state === 'memory' ? "{ backend: 'memory' }" : "{ backend: 'redis', url: 'redis://127.0.0.1:9', commandTimeoutMs: 200 }"});
    await state.close();`,
  );
}

test('an embedded gateway (SQLite records, memory counters) never loads the PostgreSQL or Redis driver', () => {
  assert.deepEqual(driversLoaded('sqlite', 'memory'), []);
});

test('configured, each driver is loaded (the check above can see them)', () => {
  assert.deepEqual(driversLoaded('postgres', 'redis').sort(), ['ioredis', 'pg']);
});

/** Whether building a gateway's providers from this YAML loads smithy (Bedrock's signer and codec). */
function smithyLoaded(providersYaml: string): boolean {
  const loaded = modulesLoadedBy(
    '^@smithy/',
    `const { parseConfigText } = await import('./src/config/load.ts');
    const { loadProviderModules, createProvider } = await import('./src/providers/registry.ts');
    const config = parseConfigText(${JSON.stringify(`auth: { disabled: true }\nmodels: {}\n${providersYaml}`)}, 'lazy.yaml');
    await loadProviderModules(config.providers);
    for (const [name, provider] of Object.entries(config.providers)) await createProvider(name, provider).close();`,
  );
  return loaded.length > 0;
}

test("Bedrock's module (smithy) loads only when a Bedrock provider is configured", () => {
  assert.equal(smithyLoaded('providers: { mock: { type: mock }, openai: { type: openai, api_key: sk-x } }'), false);
  assert.equal(smithyLoaded('providers: { aws: { type: bedrock, region: us-east-1, access_key_id: AKIAEXAMPLE, secret_access_key: secret-example } }'), true);
});
