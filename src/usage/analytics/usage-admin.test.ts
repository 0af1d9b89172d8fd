import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { request } from 'undici';
import { parseConfigText } from '../../config/load.js';
import { startGateway, type RunningGateway } from '../../gateway.js';
import { knownRows, T0 } from './usage-analytics.contract.js';

const ADMIN_KEY = 'bb-admin-usage-key-0123456789';

const CONFIG = `
server: { host: 127.0.0.1, port: 0, shutdown_grace_ms: 200 }
logging: { level: silent }
store: { path: ':memory:' }
ledger: { enabled: false }
analytics: { rollup_interval_ms: 100 }
admin: { api_key: ${ADMIN_KEY} }
providers: { mock: { type: mock } }
models: { demo: { targets: [{ provider: mock, model: m1 }] } }
teams: { red: {}, blue: {} }
`;

type Json = Record<string, unknown> & { id: string; key: string; data: Array<{ id: string; name: string }> };

async function call(base: string, credential: string, path: string, method = 'GET', body?: unknown): Promise<{ status: number; body: Json }> {
  const response = await request(`${base}/admin/v1${path}`, {
    method: method as 'GET',
    headers: { authorization: `Bearer ${credential}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.body.text();
  return { status: response.statusCode, body: (text ? JSON.parse(text) : {}) as Json };
}

const RANGE = `from=${new Date(T0).toISOString()}&to=${new Date(T0 + 2 * 86_400_000).toISOString()}`;

describe('GET /admin/v1/usage', () => {
  let gateway: RunningGateway;
  const keys: Record<string, string> = {};

  before(async () => {
    gateway = await startGateway(parseConfigText(CONFIG, 'usage.yaml'));
    await gateway.store.ledger.insertRequests(knownRows());
    const teams = (await call(gateway.url, ADMIN_KEY, '/teams')).body.data;
    for (const [name, role, team] of [['tina', 'team-admin', 'blue'], ['vera', 'viewer', 'blue'], ['mo', 'member', 'blue']] as const) {
      const user = await call(gateway.url, ADMIN_KEY, '/users', 'POST', { name, role, team_id: teams.find((entry) => entry.name === team)?.id });
      assert.equal(user.status, 201);
      const key = await call(gateway.url, ADMIN_KEY, '/keys', 'POST', { name: `${name}-key`, owner: { type: 'user', id: user.body.id } });
      keys[role] = key.body.key;
    }
  });
  after(() => gateway?.close());

  it('answers an admin with every team', async () => {
    const answer = await call(gateway.url, ADMIN_KEY, `/usage?group_by=model&${RANGE}&measures=requests,cost_usd`);
    assert.equal(answer.status, 200);
    assert.deepEqual(answer.body.rows, [
      { group: { model: 'alpha' }, values: { requests: 7, cost_usd: 3.5 } },
      { group: { model: 'beta' }, values: { requests: 5, cost_usd: 3.75 } },
    ]);
    assert.equal(answer.body.team, null);
  });

  it("gives a team-admin its own team's rows only, and refuses another team", async () => {
    const answer = await call(gateway.url, keys['team-admin'] as string, `/usage?group_by=model&${RANGE}&measures=requests`);
    assert.equal(answer.status, 200);
    assert.deepEqual(answer.body.rows, [{ group: { model: 'beta' }, values: { requests: 5 } }]);
    assert.equal(answer.body.team, 'blue');
    const other = await call(gateway.url, keys['team-admin'] as string, `/usage?group_by=model&${RANGE}&team=red`);
    assert.equal(other.status, 403);
  });

  it('refuses viewers and members', async () => {
    assert.equal((await call(gateway.url, keys.viewer as string, `/usage?${RANGE}`)).status, 403);
    assert.equal((await call(gateway.url, keys.member as string, `/usage?${RANGE}`)).status, 403);
  });

  it('answers a bad parameter with 400 naming it', async () => {
    const answer = await call(gateway.url, ADMIN_KEY, '/usage?group_by=colour');
    assert.equal(answer.status, 400);
    const error = answer.body.error as { param: string; message: string; bb_code: string };
    assert.equal(error.param, 'group_by');
    assert.equal(error.bb_code, 'BB_INVALID_REQUEST');
    assert.match(error.message, /Unknown dimension 'colour'/);
  });

  it('folds new ledger rows into the rollups in the background', async () => {
    const deadline = Date.now() + 10_000;
    let rollups = { watermark: 0, unfolded_rows: -1 };
    while (Date.now() < deadline) {
      rollups = (await call(gateway.url, ADMIN_KEY, `/usage?${RANGE}`)).body.rollups as typeof rollups;
      if (rollups.unfolded_rows === 0) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    assert.deepEqual(rollups, { watermark: 12, unfolded_rows: 0, unfolded_included: true });
    const answer = await call(gateway.url, ADMIN_KEY, `/usage?group_by=team&${RANGE}&measures=requests`);
    assert.deepEqual(answer.body.sources, ['rollups:team/day']);
  });

  it('is in the OpenAPI document', async () => {
    const response = await request(`${gateway.url}/admin/v1/openapi.json`);
    const doc = (await response.body.json()) as { paths: Record<string, unknown> };
    assert.ok(doc.paths['/admin/v1/usage']);
  });
});
