import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import BetterSqlite3 from 'better-sqlite3';
import OpenAI from 'openai';
import { parseConfigText } from '../src/config/load.js';
import { startGateway, type RunningGateway } from '../src/gateway.js';
import { adminCall } from './helpers/admin.js';
import { runCliToEnd } from './helpers/cli.js';

const ADMIN_KEY = 'bb-admin-audit-test-0123456789';
const LIMITED_KEY = 'bb-limited-audit-test-0123456789';

const cli = runCliToEnd;

function configYaml(dbPath: string): string {
  return `
server: { host: 127.0.0.1, port: 0, shutdown_grace_ms: 200 }
logging: { level: silent }
store: { path: ${JSON.stringify(dbPath)}, refresh_ms: 50 }
admin: { api_key: ${ADMIN_KEY} }
audit: { flush_ms: 20 }
providers: { mock: { type: mock, reply: { mode: lorem, tokens: 5 } } }
models:
  demo: { targets: [{ provider: mock, model: mock-1 }] }
  secret: { targets: [{ provider: mock, model: mock-2 }] }
plans:
  tiny: { limits: { requests_per_minute: 1 } }
auth:
  api_keys:
    - { name: limited, key: ${LIMITED_KEY}, plan: tiny, models: [demo] }
`;
}

interface Entry {
  seq: number;
  kind: string;
  action: string;
  actor: Record<string, unknown>;
  target_type: string | null;
  target_id: string | null;
  details: Record<string, unknown>;
  hash: string;
}

async function listAudit(url: string, query = ''): Promise<Entry[]> {
  const response = await adminCall<{ data: Entry[] }>(url, ADMIN_KEY, 'GET', `/audit?limit=1000&order=asc${query}`);
  assert.equal(response.status, 200, response.text);
  return response.body.data;
}

/** Denials are appended in batches: wait (bounded) until the log holds what `done` looks for. */
async function waitForDenials(url: string, done: (denials: Entry[]) => boolean): Promise<Entry[]> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const denials = await listAudit(url, '&kind=denial');
    if (done(denials) || Date.now() > deadline) return denials;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** How many refused requests the `limits.refuse` entries stand for (folded entries carry a count). */
function refusedCount(denials: Entry[]): number {
  return denials.filter((e) => e.action === 'limits.refuse').reduce((sum, e) => sum + (e.details.count as number), 0);
}

describe('audit log through a running gateway', () => {
  let dir = '';
  let dbPath = '';
  let configPath = '';
  let gateway: RunningGateway | undefined;
  const secrets: string[] = [];

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'bb-audit-e2e-'));
    dbPath = join(dir, 'records.db');
    configPath = join(dir, 'breakerbox.yaml');
    await writeFile(configPath, configYaml(dbPath));
    gateway = await startGateway(parseConfigText(configYaml(dbPath), configPath));
  });
  after(async () => {
    await gateway?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('records admin actions with their actor, and never a secret', async () => {
    const url = (gateway as RunningGateway).url;
    const team = await adminCall<{ id: string }>(url, ADMIN_KEY, 'POST', '/teams', { name: 'finance', metadata: { note: 'free text stays out' } });
    assert.equal(team.status, 201, team.text);
    const user = await adminCall<{ id: string }>(url, ADMIN_KEY, 'POST', '/users', { name: 'ada', team_id: team.body.id, role: 'admin' });
    assert.equal(user.status, 201, user.text);
    const adaKey = await adminCall<{ id: string; key: string; display_prefix: string }>(url, ADMIN_KEY, 'POST', '/keys', { name: 'ada-admin', owner: { type: 'user', id: user.body.id } });
    assert.equal(adaKey.status, 201, adaKey.text);
    secrets.push(adaKey.body.key);
    // Ada, with her own admin-role key, makes a team key and revokes it.
    const teamKey = await adminCall<{ id: string; key: string }>(url, adaKey.body.key, 'POST', '/keys', { name: 'ci', owner: { type: 'team', id: team.body.id }, tags: ['x'] });
    assert.equal(teamKey.status, 201, teamKey.text);
    secrets.push(teamKey.body.key);
    assert.equal((await adminCall(url, adaKey.body.key, 'POST', `/keys/${teamKey.body.id}/revoke`)).status, 200);
    // A failed action (unknown plan) appends nothing.
    assert.equal((await adminCall(url, ADMIN_KEY, 'POST', '/teams', { name: 'other', plan: 'nope' })).status, 400);

    const admin = await listAudit(url, '&kind=admin');
    assert.deepEqual(admin.map((e) => e.action), ['teams.create', 'users.create', 'keys.create', 'keys.create', 'keys.revoke']);
    const [teamCreate, , adaCreate, ciCreate, revoke] = admin as [Entry, Entry, Entry, Entry, Entry];
    assert.deepEqual(teamCreate.actor, { key_id: 'admin-key', source: 'admin-key', role: 'admin' });
    assert.equal(teamCreate.target_type, 'team');
    assert.equal(teamCreate.target_id, team.body.id);
    assert.deepEqual(teamCreate.details, { fields: ['metadata', 'name'], values: { name: 'finance' } });
    assert.equal(adaCreate.details.display_prefix, adaKey.body.display_prefix);
    for (const entry of [ciCreate, revoke]) {
      assert.equal(entry.actor.key_id, adaKey.body.id);
      assert.equal(entry.actor.display_prefix, adaKey.body.display_prefix);
      assert.equal(entry.actor.key_name, 'ada-admin');
      assert.equal(entry.actor.user, 'ada');
      assert.equal(entry.actor.role, 'admin');
    }
    assert.equal(revoke.target_id, teamKey.body.id);
    assert.deepEqual(ciCreate.details.fields, ['name', 'owner', 'tags']);
  });

  it('records a denied model and a refused rate limit as denials', async () => {
    const url = (gateway as RunningGateway).url;
    const client = new OpenAI({ apiKey: LIMITED_KEY, baseURL: `${url}/v1`, maxRetries: 0, timeout: 10_000 });
    const chat = (model: string) => client.chat.completions.create({ model, messages: [{ role: 'user', content: 'a prompt that must stay out of the log' }], max_tokens: 5 });
    await assert.rejects(chat('secret'), (error: unknown) => error instanceof OpenAI.APIError && error.status === 403);
    await chat('demo');
    for (let i = 0; i < 3; i += 1) await assert.rejects(chat('demo'), (error: unknown) => error instanceof OpenAI.APIError && error.status === 429);

    const denials = await waitForDenials(url, (found) => found.some((e) => e.action === 'access.deny') && refusedCount(found) >= 3);
    const deny = denials.find((e) => e.action === 'access.deny');
    assert.ok(deny, JSON.stringify(denials));
    assert.equal(deny.target_type, 'model');
    assert.equal(deny.target_id, 'secret');
    assert.equal(deny.actor.key_name, 'limited');
    assert.equal(deny.actor.display_prefix, 'bb-limi…');
    assert.equal(deny.details.error_code, 'BB_ACCESS_DENIED');
    assert.equal(typeof deny.details.rule, 'string');
    const refused = denials.filter((e) => e.action === 'limits.refuse');
    // The three 429s from the same caller fold into entries with a count (one per flush they span).
    assert.equal(refusedCount(denials), 3);
    for (const entry of refused) {
      assert.equal(entry.details.error_code, 'BB_RATE_LIMITED');
      assert.equal(entry.details.plan, 'tiny');
      assert.equal(entry.target_id, 'demo');
      assert.ok((entry.details.request_ids as string[]).length >= 1);
    }
  });

  it('verifies through the CLI, remotely and locally, and finds an edited entry by seq', { timeout: 60_000 }, async () => {
    const url = (gateway as RunningGateway).url;
    const remote = await cli(['audit', 'verify', '--url', url], { BB_ADMIN_KEY: ADMIN_KEY });
    assert.equal(remote.code, 0, remote.stderr + remote.stdout);
    assert.match(remote.stdout, /Audit log intact: \d+ entries checked/);
    const listed = await cli(['audit', 'list', '--url', url, '--kind', 'admin', '--limit', '2'], { BB_ADMIN_KEY: ADMIN_KEY });
    assert.equal(listed.code, 0, listed.stderr);
    assert.match(listed.stdout, /keys\.revoke/);
    assert.equal(listed.stdout.trim().split('\n').length, 3, listed.stdout);

    const entries = await listAudit(url);
    await (gateway as RunningGateway).close();
    gateway = undefined;

    // Nothing secret anywhere: not in the table, and not in the database files at all.
    const raw = new BetterSqlite3(dbPath, { readonly: true });
    const table = JSON.stringify(raw.prepare('select * from audit_log').all());
    raw.close();
    for (const secret of [...secrets, LIMITED_KEY, ADMIN_KEY, 'a prompt that must stay out']) {
      assert.ok(!table.includes(secret), 'a secret or prompt text is in audit_log');
      for (const file of await readdir(dir)) {
        if (file.startsWith('records.db')) assert.ok(!(await readFile(join(dir, file))).includes(secret), `a secret is in ${file}`);
      }
    }

    const intact = await cli(['audit', 'verify', '--config', configPath]);
    assert.equal(intact.code, 0, intact.stderr + intact.stdout);
    assert.match(intact.stdout, new RegExp(`Audit log intact: ${entries.length} entries checked`));
    const head = /Head: seq \d+ ([0-9a-f]{64})/.exec(intact.stdout)?.[1];
    assert.ok(head, intact.stdout);

    // An admin command on the local store is recorded too, with the `cli` actor.
    assert.equal((await cli(['teams', 'create', '--config', configPath, '--name', 'ops'])).code, 0);
    const local = await cli(['audit', 'list', '--config', configPath, '--kind', 'admin', '--limit', '1', '--json']);
    assert.equal(local.code, 0, local.stderr);
    const [newest] = (JSON.parse(local.stdout) as { data: Entry[] }).data;
    assert.equal(newest?.action, 'teams.create');
    assert.equal(newest?.actor.key_id, 'cli');
    assert.equal(newest?.actor.source, 'cli');
    assert.equal(newest?.seq, entries.length + 1);

    const revoke = entries.find((e) => e.action === 'keys.revoke') as Entry;
    const db = new BetterSqlite3(dbPath);
    db.prepare('update audit_log set details = ? where seq = ?').run('{"fields":[]}', revoke.seq);
    db.close();
    const tampered = await cli(['audit', 'verify', '--config', configPath, '--expect-head', head]);
    assert.equal(tampered.code, 1, tampered.stdout);
    assert.match(tampered.stdout, /Audit log NOT intact/);
    assert.match(tampered.stdout, new RegExp(`seq ${revoke.seq}: altered`));
    assert.match(tampered.stdout, /Expected head found at seq/);
  });
});
