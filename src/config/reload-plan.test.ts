import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseConfigText } from './load.js';
import { planReload } from './reload-plan.js';

const base = `
server: { port: 8080 }
auth: { api_keys: [{ name: k, key: bb-0123456789 }] }
providers: { mock: { type: mock } }
models: { demo: { targets: [{ provider: mock, model: m }] } }
`;

const parse = (extra: string) => parseConfigText(`${base}${extra}`, 'test.yaml', {});

describe('planReload', () => {
  it('keeps restart-only settings at their running values and names them', () => {
    const running = parse("store: { path: a.db }\nlimits: { backend: memory, time_zone: UTC }\n");
    const next = parse("store: { path: b.db }\nlimits: { backend: redis, redis_url: 'redis://secret@h', time_zone: Europe/Berlin }\n");
    const plan = planReload(running, next);
    assert.deepEqual(plan.needsRestart, ['store', 'limits.backend', 'limits.redis_url']);
    assert.equal(plan.config.store.path, 'a.db');
    assert.equal(plan.config.limits.backend, 'memory');
    assert.equal(plan.config.limits.redis_url, undefined);
    assert.equal(plan.config.limits.time_zone, 'Europe/Berlin');
    assert.deepEqual(plan.changed, ['limits.time_zone']);
    // The parsed new config itself is left as it was.
    assert.equal(next.store.path, 'b.db');
  });

  it('lists changed key paths two levels deep, never values', () => {
    const running = parse('');
    const next = parseConfigText(base.replace('demo:', 'other:').replace('port: 8080', 'port: 8080, max_in_flight: 10'), 'test.yaml', {});
    const plan = planReload(running, next);
    assert.deepEqual(plan.changed.sort(), ['models.demo', 'models.other', 'server.max_in_flight']);
    assert.deepEqual(plan.needsRestart, []);
  });
});
