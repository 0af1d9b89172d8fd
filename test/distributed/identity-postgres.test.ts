import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { parseConfigText } from '../../src/config/load.js';
import { startGateway, type RunningGateway } from '../../src/gateway.js';
import { adminCall, chatStatus } from '../helpers/admin.js';

const DATABASE_URL = process.env.DATABASE_URL;
const ADMIN_KEY = 'bb-admin-distributed-0123456789';
/** The documented bound for a change on one instance to reach the others (docs/identity.md). */
const PROPAGATION_BOUND_MS = 1000;

function config(schema: string): string {
  return `
server: { host: 127.0.0.1, port: 0, shutdown_grace_ms: 200 }
logging: { level: silent }
store: { driver: postgres, url: ${JSON.stringify(DATABASE_URL)}, schema: ${schema}, refresh_ms: 500 }
admin: { api_key: ${ADMIN_KEY} }
providers: { mock: { type: mock, reply: { mode: fixed, text: ok } } }
models: { demo: { targets: [{ provider: mock, model: m1 }] } }
teams: { ops: {} }
`;
}

/** Polls until the key is refused; returns how long that took after `since`. */
async function msUntilRefused(url: string, key: string, since: number): Promise<number> {
  for (;;) {
    const { status } = await chatStatus(url, key, 'demo');
    if (status === 401) return performance.now() - since;
    assert.equal(status, 200);
    if (performance.now() - since > 5000) assert.fail('the key was never refused');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('two gateway instances on one PostgreSQL', { skip: DATABASE_URL === undefined ? 'DATABASE_URL is not set' : false }, () => {
  const schema = `bb_identity_${randomBytes(6).toString('hex')}`;
  let first: RunningGateway;
  let second: RunningGateway;

  before(async () => {
    // Both start at once: migrations and config seeding must not trip over each other.
    [first, second] = await Promise.all([startGateway(parseConfigText(config(schema), 'a.yaml')), startGateway(parseConfigText(config(schema), 'b.yaml'))]);
  });
  after(async () => {
    await Promise.all([first?.close(), second?.close()]);
    const client = new pg.Client({ connectionString: DATABASE_URL });
    await client.connect();
    await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await client.end();
  });

  it('seeds the config team once', async () => {
    const teams = await adminCall<{ data: Array<{ name: string }> }>(first.url, ADMIN_KEY, 'GET', '/teams');
    assert.deepEqual(teams.body.data.map((team) => team.name), ['ops']);
  });

  it('a key made on one instance works on the other within the bound', async () => {
    const teams = await adminCall<{ data: Array<{ id: string }> }>(first.url, ADMIN_KEY, 'GET', '/teams');
    const created = await adminCall<{ key: string }>(first.url, ADMIN_KEY, 'POST', '/keys', { name: 'shared', owner: { type: 'team', id: teams.body.data[0]?.id } });
    assert.equal(created.status, 201);
    assert.equal((await chatStatus(first.url, created.body.key, 'demo')).status, 200);
    const started = performance.now();
    while ((await chatStatus(second.url, created.body.key, 'demo')).status !== 200) {
      assert.ok(performance.now() - started < PROPAGATION_BOUND_MS + 500, 'the new key never reached the second instance');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  });

  it('a revoke is refused at once on the revoking instance and within the bound on the other', async () => {
    const teams = await adminCall<{ data: Array<{ id: string }> }>(first.url, ADMIN_KEY, 'GET', '/teams');
    const created = await adminCall<{ id: string; key: string }>(first.url, ADMIN_KEY, 'POST', '/keys', { name: 'to-revoke', owner: { type: 'team', id: teams.body.data[0]?.id } });
    // Wait until the second instance knows the key.
    await msUntilAccepted(second.url, created.body.key);
    const revoked = await adminCall(first.url, ADMIN_KEY, 'POST', `/keys/${created.body.id}/revoke`);
    assert.equal(revoked.status, 200);
    const since = performance.now();
    assert.equal((await chatStatus(first.url, created.body.key, 'demo')).status, 401, 'refused at once where it was revoked');
    const elapsed = await msUntilRefused(second.url, created.body.key, since);
    assert.ok(elapsed <= PROPAGATION_BOUND_MS, `took ${elapsed.toFixed(0)} ms to reach the other instance`);
  });
});

async function msUntilAccepted(url: string, key: string): Promise<void> {
  const started = performance.now();
  while ((await chatStatus(url, key, 'demo')).status !== 200) {
    assert.ok(performance.now() - started < 3000, 'the key never reached the instance');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
