import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { SignJWT } from 'jose';
import { request } from 'undici';
import { parseConfigText } from '../src/config/load.js';
import { startGateway, type RunningGateway } from '../src/gateway.js';
import { adminCall, chatStatus } from './helpers/admin.js';

const ADMIN_KEY = 'bb-admin-test-key-0123456789';
const JWT_SECRET = 'a-shared-secret-for-hs256-tests-0123456789';

const CONFIG = `
server: { host: 127.0.0.1, port: 0, shutdown_grace_ms: 200 }
logging: { level: silent }
store: { path: ':memory:' }
admin: { api_key: ${ADMIN_KEY} }
providers: { mock: { type: mock, reply: { mode: fixed, text: ok } } }
models:
  demo: { targets: [{ provider: mock, model: m1 }] }
  premium: { targets: [{ provider: mock, model: m2 }] }
plans:
  free: { models: [demo] }
  paid: {}
  enterprise: {}
teams:
  red: { plan: free }
  blue: { plan: paid }
auth:
  api_keys: [{ name: static, key: bb-static-key-0123456789, team: blue }]
  jwt:
    keys: [{ secret: ${JWT_SECRET} }]
    algorithms: [HS256]
    issuer: https://idp.test
    audience: breakerbox
`;

type Json = Record<string, unknown> & { id: string; key: string; data: Array<Record<string, unknown> & { id: string; name: string }> };

async function token(claims: Record<string, unknown>, subject: string): Promise<string> {
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'HS256' })
    .setIssuer('https://idp.test')
    .setAudience('breakerbox')
    .setSubject(subject)
    .setExpirationTime('5m')
    .sign(new TextEncoder().encode(JWT_SECRET));
}

describe('admin API', () => {
  let gateway: RunningGateway;
  const call = (credential: string | undefined, method: string, path: string, body?: unknown) => adminCall<Json>(gateway.url, credential, method, path, body);
  const teamId = async (name: string) => (await call(ADMIN_KEY, 'GET', '/teams')).body.data.find((team) => team.name === name)?.id as string;
  /** A user with a role in a team, and a key of theirs. */
  async function member(name: string, role: string, team: string): Promise<{ userId: string; key: string }> {
    const user = await call(ADMIN_KEY, 'POST', '/users', { name, role, team_id: await teamId(team) });
    assert.equal(user.status, 201, user.text);
    const key = await call(ADMIN_KEY, 'POST', '/keys', { name: `${name}-key`, owner: { type: 'user', id: user.body.id } });
    assert.equal(key.status, 201, key.text);
    return { userId: user.body.id, key: key.body.key };
  }

  before(async () => {
    gateway = await startGateway(parseConfigText(CONFIG, 'admin.yaml'));
  });
  after(() => gateway.close());

  it('needs a credential with an admin role', async () => {
    assert.equal((await call(undefined, 'GET', '/teams')).status, 401);
    assert.equal((await call('bb-not-a-key-000000000', 'GET', '/teams')).status, 401);
    const memberCall = await call('bb-static-key-0123456789', 'GET', '/teams');
    assert.equal(memberCall.status, 403);
    assert.equal((memberCall.body.error as { bb_code: string }).bb_code, 'BB_ADMIN_FORBIDDEN');
  });

  it('creates, reads, updates and deletes organizations, teams, users, keys and plans', async () => {
    const org = await call(ADMIN_KEY, 'POST', '/organizations', { name: 'acme', metadata: { tier: 'gold' } });
    assert.equal(org.status, 201);
    assert.deepEqual((await call(ADMIN_KEY, 'GET', `/organizations/${org.body.id}`)).body.metadata, { tier: 'gold' });
    const team = await call(ADMIN_KEY, 'POST', '/teams', { name: 'green', org_id: org.body.id, plan: 'paid', models: ['demo'] });
    assert.equal(team.status, 201, team.text);
    assert.equal((await call(ADMIN_KEY, 'PATCH', `/teams/${team.body.id}`, { models: null })).body.models, null);
    const plan = await call(ADMIN_KEY, 'POST', '/plans', { name: 'trial', spec: { models: ['demo'], limits: { requests_per_minute: 5 } } });
    assert.equal(plan.status, 201, plan.text);
    const user = await call(ADMIN_KEY, 'POST', '/users', { name: 'gina', team_id: team.body.id, plan: 'trial' });
    assert.equal(user.body.org_id, org.body.id);
    const key = await call(ADMIN_KEY, 'POST', '/keys', { name: 'gina-key', owner: { type: 'user', id: user.body.id }, tags: ['batch'] });
    assert.match(key.body.key, /^bb-[A-Za-z0-9]{32}$/);
    assert.equal(key.body.display_prefix, `${key.body.key.slice(0, 7)}…`);
    assert.equal((await chatStatus(gateway.url, key.body.key, 'demo')).status, 200);
    // The trial plan made through the API applies at once: premium is outside it.
    assert.equal((await chatStatus(gateway.url, key.body.key, 'premium')).status, 403);
    const read = await call(ADMIN_KEY, 'GET', `/keys/${key.body.id}`);
    assert.equal(read.body.key, undefined);
    assert.ok(!read.text.includes(key.body.key));
    // In use: the team has a user, the user has a key, the plan is named by the user.
    assert.equal((await call(ADMIN_KEY, 'DELETE', `/teams/${team.body.id}`)).status, 409);
    assert.equal((await call(ADMIN_KEY, 'DELETE', `/users/${user.body.id}`)).status, 409);
    assert.equal((await call(ADMIN_KEY, 'DELETE', '/plans/trial')).status, 409);
    assert.equal((await call(ADMIN_KEY, 'DELETE', `/keys/${key.body.id}`)).status, 204);
    assert.equal((await chatStatus(gateway.url, key.body.key, 'demo')).status, 401);
    assert.equal((await call(ADMIN_KEY, 'DELETE', `/users/${user.body.id}`)).status, 204);
    assert.equal((await call(ADMIN_KEY, 'DELETE', '/plans/trial')).status, 204);
    assert.equal((await call(ADMIN_KEY, 'DELETE', `/teams/${team.body.id}`)).status, 204);
    assert.equal((await call(ADMIN_KEY, 'DELETE', `/organizations/${org.body.id}`)).status, 204);
    assert.equal((await call(ADMIN_KEY, 'GET', `/organizations/${org.body.id}`)).status, 404);
  });

  it('refuses bad input with 400 naming the field, and duplicates with 409', async () => {
    const unknownField = await call(ADMIN_KEY, 'POST', '/teams', { name: 'x1', colour: 'red' });
    assert.equal(unknownField.status, 400);
    const unknownPlan = await call(ADMIN_KEY, 'POST', '/teams', { name: 'x2', plan: 'platinum' });
    assert.equal(unknownPlan.status, 400);
    assert.match(unknownPlan.text, /Unknown plan 'platinum'/);
    const unknownModel = await call(ADMIN_KEY, 'POST', '/plans', { name: 'p1', spec: { models: ['gpt-9'] } });
    assert.equal(unknownModel.status, 400);
    const badLimit = await call(ADMIN_KEY, 'POST', '/plans', { name: 'p2', spec: { limits: { requests_per_minute: -1 } } });
    assert.equal(badLimit.status, 400);
    assert.equal((await call(ADMIN_KEY, 'POST', '/teams', { name: 'dup' })).status, 201);
    const duplicate = await call(ADMIN_KEY, 'POST', '/teams', { name: 'dup' });
    assert.equal(duplicate.status, 409);
    assert.doesNotMatch(duplicate.text, /sqlite|constraint|unique/i);
    assert.equal((await call(ADMIN_KEY, 'POST', '/teams', { name: 'red' })).status, 409, 'config teams are taken');
    assert.equal((await call(ADMIN_KEY, 'PATCH', `/teams/${await teamId('red')}`, { plan: 'paid' })).status, 409, 'config teams are read-only');
    assert.equal((await call(ADMIN_KEY, 'POST', '/plans', { name: 'free', spec: {} })).status, 409, 'config plans are taken');
    assert.equal((await adminCall(gateway.url, ADMIN_KEY, 'POST', '/teams')).status, 415, 'no JSON body');
    const broken = await request(`${gateway.url}/admin/v1/teams`, { method: 'POST', headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' }, body: '{"name":' });
    assert.equal(broken.statusCode, 400);
    assert.match(await broken.body.text(), /not valid JSON/);
    assert.equal((await call(ADMIN_KEY, 'PUT', '/teams')).status, 405);
    assert.equal((await call(ADMIN_KEY, 'GET', '/nothing')).status, 404);
  });

  it('scopes a team-admin to its own team: other teams read as 404', async () => {
    const lead = await member('rita', 'team-admin', 'red');
    const teams = await call(lead.key, 'GET', '/teams');
    assert.deepEqual(teams.body.data.map((team) => team.name), ['red']);
    assert.equal((await call(lead.key, 'GET', `/teams/${await teamId('blue')}`)).status, 404);
    const other = await member('bob', 'member', 'blue');
    assert.equal((await call(lead.key, 'GET', `/users/${other.userId}`)).status, 404);
    const users = await call(lead.key, 'GET', '/users');
    assert.deepEqual(users.body.data.map((user) => user.name), ['rita']);
    const keys = await call(lead.key, 'GET', '/keys');
    assert.ok(keys.body.data.every((key) => key.name === 'rita-key'));
    // It manages its own team: a user and a key there.
    const created = await call(lead.key, 'POST', '/users', { name: 'ron' });
    assert.equal(created.status, 201, created.text);
    assert.equal(created.body.team_id, await teamId('red'));
    const teamKey = await call(lead.key, 'POST', '/keys', { name: 'red-batch' });
    assert.equal(teamKey.status, 201, teamKey.text);
    assert.equal((await chatStatus(gateway.url, teamKey.body.key, 'demo')).status, 200);
    assert.equal((await call(lead.key, 'POST', '/keys', { name: 'x', owner: { type: 'team', id: await teamId('blue') } })).status, 400);
    assert.equal((await call(lead.key, 'POST', '/teams', { name: 'mine' })).status, 403);
  });

  it('lets nobody grant more than they hold or change their own role', async () => {
    const lead = await member('tess', 'team-admin', 'red');
    const escalate = [
      await call(lead.key, 'POST', '/users', { name: 'boss', role: 'admin' }),
      await call(lead.key, 'POST', '/keys', { name: 'k', plan: 'enterprise' }),
      await call(lead.key, 'POST', '/keys', { name: 'k', models: ['premium'] }),
      await call(lead.key, 'PATCH', `/users/${lead.userId}`, { role: 'admin' }),
    ];
    assert.deepEqual(escalate.map((response) => response.status), [403, 403, 403, 403]);
    assert.match(escalate[3]?.text ?? '', /own role/);
    // Within its own rights it may grant: its team's plan and a model it can use.
    assert.equal((await call(lead.key, 'POST', '/keys', { name: 'k2', plan: 'free', models: ['demo'] })).status, 201);
    // A team-admin may not act on a stronger user in its team.
    const chief = await member('chief', 'admin', 'red');
    assert.equal((await call(lead.key, 'PATCH', `/users/${chief.userId}`, { plan: 'free' })).status, 403);
    assert.equal((await call(lead.key, 'POST', '/keys', { name: 'k3', owner: { type: 'user', id: chief.userId } })).status, 403);
    // Even an admin may not change its own role.
    assert.equal((await call(chief.key, 'PATCH', `/users/${chief.userId}`, { role: 'member' })).status, 403);
    assert.equal((await call(chief.key, 'GET', `/teams/${await teamId('blue')}`)).status, 200, 'admins see every team');
  });

  it('viewers read but never write', async () => {
    const viewer = await member('vic', 'viewer', 'blue');
    assert.equal((await call(viewer.key, 'GET', '/keys')).status, 200);
    assert.equal((await call(viewer.key, 'POST', '/keys', { name: 'v' })).status, 403);
    assert.equal((await call(viewer.key, 'GET', `/teams/${await teamId('red')}`)).status, 404);
  });

  it('rotates with a grace period and revokes at once', async () => {
    const created = await call(ADMIN_KEY, 'POST', '/keys', { name: 'rot', owner: { type: 'team', id: await teamId('blue') } });
    const rotated = await call(ADMIN_KEY, 'POST', `/keys/${created.body.id}/rotate`, { grace_s: 60 });
    assert.equal(rotated.status, 201);
    assert.notEqual(rotated.body.key, created.body.key);
    assert.equal(rotated.body.rotated_from, created.body.id);
    assert.equal((await chatStatus(gateway.url, created.body.key, 'demo')).status, 200, 'old key works in its grace period');
    assert.equal((await chatStatus(gateway.url, rotated.body.key, 'demo')).status, 200);
    const old = await call(ADMIN_KEY, 'GET', `/keys/${created.body.id}`);
    assert.ok(Date.parse(old.body.expires_at as string) <= Date.now() + 61_000);
    const again = await call(ADMIN_KEY, 'POST', `/keys/${rotated.body.id}/rotate`, { grace_s: 0 });
    assert.equal((await chatStatus(gateway.url, rotated.body.key, 'demo')).status, 401, 'no grace: refused at once');
    assert.equal((await call(ADMIN_KEY, 'POST', `/keys/${again.body.id}/revoke`)).status, 200);
    const revoked = await chatStatus(gateway.url, again.body.key, 'demo');
    assert.equal(revoked.status, 401);
    assert.match(revoked.text, /revoked/);
    assert.equal((await call(ADMIN_KEY, 'PATCH', `/keys/${again.body.id}`, { status: 'enabled' })).status, 409, 'a revoked key stays revoked');
  });

  it('accepts admin-role JWTs and maps token claims onto model access', async () => {
    const adminToken = await token({ roles: ['admin'] }, 'ops@example.com');
    assert.equal((await call(adminToken, 'GET', '/keys')).status, 200);
    const memberToken = await token({ roles: ['member'], team: 'red' }, 'dev@example.com');
    assert.equal((await call(memberToken, 'GET', '/keys')).status, 403);
    assert.equal((await chatStatus(gateway.url, memberToken, 'demo')).status, 200);
    assert.equal((await chatStatus(gateway.url, memberToken, 'premium')).status, 403, "the red team's free plan has no premium");
    const unknownPlan = await token({ plan: 'platinum' }, 'x@example.com');
    assert.equal((await chatStatus(gateway.url, unknownPlan, 'demo')).status, 401);
    const expired = await new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setIssuer('https://idp.test').setAudience('breakerbox').setSubject('late').setExpirationTime(Math.floor(Date.now() / 1000) - 3600).sign(new TextEncoder().encode(JWT_SECRET));
    const refused = await chatStatus(gateway.url, expired, 'demo');
    assert.equal(refused.status, 401);
    assert.match(refused.text, /expired/);
  });

  it('serves an OpenAPI document covering every route', async () => {
    const document = await call(undefined, 'GET', '/openapi.json');
    assert.equal(document.status, 200);
    const paths = document.body.paths as Record<string, Record<string, { requestBody?: unknown; responses: Record<string, unknown> }>>;
    for (const path of ['/admin/v1/keys', '/admin/v1/keys/{id}/rotate', '/admin/v1/keys/{id}/revoke', '/admin/v1/teams/{id}', '/admin/v1/users', '/admin/v1/organizations', '/admin/v1/plans/{name}', '/admin/v1/customers']) {
      assert.ok(paths[path], `missing ${path}`);
    }
    assert.ok(paths['/admin/v1/keys']?.post?.requestBody);
    assert.ok(paths['/admin/v1/keys']?.post?.responses['201']);
    assert.equal(document.body.openapi, '3.1.0');
  });
});
