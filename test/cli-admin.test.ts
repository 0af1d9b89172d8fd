import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { request } from 'undici';
import { parseConfigText } from '../src/config/load.js';
import { startGateway, type RunningGateway } from '../src/gateway.js';
import { runCliToEnd, type CliResult } from './helpers/cli.js';

const ADMIN_KEY = 'bb-admin-test-key-0123456789';
const STATIC_KEY = 'bb-static-test-key-0123456789';

const cli = runCliToEnd;

function configYaml(dbPath: string): string {
  return `
server: { host: 127.0.0.1, port: 0, shutdown_grace_ms: 200 }
logging: { level: silent }
store: { path: ${JSON.stringify(dbPath)}, refresh_ms: 50 }
auth: { api_keys: [{ name: static, key: ${STATIC_KEY} }] }
admin: { api_key: ${ADMIN_KEY} }
providers: { mock: { type: mock, reply: { mode: lorem, tokens: 5 } } }
models: { demo: { targets: [{ provider: mock, model: mock-1 }] } }
teams: { finance: {} }
`;
}

function secretOf(run: CliResult): string {
  const match = /\bbb-[A-Za-z0-9]{32}\b/.exec(run.stdout);
  assert.ok(match, `no secret in: ${run.stdout}`);
  return match[0];
}

function keyIdOf(run: CliResult): string {
  const match = /id:\s+(key_\w+)/.exec(run.stdout);
  assert.ok(match, `no key id in: ${run.stdout}`);
  return match[1] as string;
}

function count(text: string, needle: string): number {
  return text.split(needle).length - 1;
}

async function chat(url: string, key: string): Promise<number> {
  const response = await request(`${url}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'demo', messages: [{ role: 'user', content: 'hi' }] }),
  });
  await response.body.dump();
  return response.statusCode;
}

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'breakerbox-cli-admin-'));
});
after(() => rm(dir, { recursive: true, force: true }));

describe('breakerbox admin commands against the local store (--config)', () => {
  let config: string;
  before(async () => {
    config = join(dir, 'local.yaml');
    await writeFile(config, configYaml(join(dir, 'local.db')));
  });

  it('keys create prints the secret once, labelled, with id and prefix', async () => {
    const run = await cli(['keys', 'create', '--config', config, '--name', 'ci', '--team', 'finance']);
    assert.equal(run.code, 0, run.stderr);
    const secret = secretOf(run);
    assert.ok(secret.startsWith('bb-'));
    assert.equal(count(run.stdout, secret), 1);
    assert.match(run.stdout, /shown once; store it now/);
    assert.match(run.stdout, /prefix:\s+bb-\S+…/);
    assert.match(keyIdOf(run), /^key_/);
  });

  it('keys list shows prefixes and owners, never secrets; revoke shows as revoked', async () => {
    const created = await cli(['keys', 'create', '--config', config, '--name', 'to-revoke', '--team', 'finance', '--expires-in', '3600']);
    assert.equal(created.code, 0, created.stderr);
    const secret = secretOf(created);
    const id = keyIdOf(created);
    const prefix = /prefix:\s+(\S+)/.exec(created.stdout)?.[1] as string;

    const listed = await cli(['keys', 'list', '--config', config]);
    assert.equal(listed.code, 0, listed.stderr);
    assert.match(listed.stdout, /^ID\s+NAME\s+PREFIX\s+OWNER\s+PLAN\s+STATUS\s+EXPIRES/);
    const row = listed.stdout.split('\n').find((line) => line.startsWith(id)) ?? '';
    assert.ok(row.includes(prefix) && row.includes('team:finance') && /\benabled\b/.test(row), row);
    assert.ok(!listed.stdout.includes(secret));
    assert.doesNotMatch(listed.stdout, /bb-[A-Za-z0-9]{32}/);

    const revoked = await cli(['keys', 'revoke', id, '--config', config]);
    assert.equal(revoked.code, 0, revoked.stderr);
    assert.match(revoked.stdout, /Revoked key/);
    const after = await cli(['keys', 'list', '--config', config, '--json']);
    const keys = (JSON.parse(after.stdout) as { data: Array<{ id: string; status: string; key?: string }> }).data;
    assert.equal(keys.find((key) => key.id === id)?.status, 'revoked');
    assert.ok(keys.every((key) => key.key === undefined));
  });

  it('keys rotate prints a new secret, different from the old one', async () => {
    const created = await cli(['keys', 'create', '--config', config, '--name', 'to-rotate', '--team', 'finance']);
    const rotated = await cli(['keys', 'rotate', keyIdOf(created), '--grace', '60', '--config', config]);
    assert.equal(rotated.code, 0, rotated.stderr);
    assert.notEqual(secretOf(rotated), secretOf(created));
    assert.match(rotated.stdout, /old key keeps working until/);
    assert.match(rotated.stdout, /shown once; store it now/);
  });

  it('teams create/list, users create, and keys for a user by name', async () => {
    const team = await cli(['teams', 'create', '--config', config, '--name', 'ops', '--models', 'demo']);
    assert.equal(team.code, 0, team.stderr);
    assert.match(team.stdout, /Created team 'ops'/);
    const [teams, user] = await Promise.all([
      cli(['teams', 'list', '--config', config]),
      cli(['users', 'create', '--config', config, '--name', 'alice', '--team', 'ops', '--role', 'team-admin']),
    ]);
    assert.match(teams.stdout, /\bfinance\b.*\bconfig\b/);
    assert.match(teams.stdout, /\bops\b.*\bdemo\b.*\bapi\b/);

    assert.equal(user.code, 0, user.stderr);
    assert.match(user.stdout, /Created user 'alice'.*role team-admin, team ops/);
    const [users, key, plans] = await Promise.all([
      cli(['users', 'list', '--config', config]),
      cli(['keys', 'create', '--config', config, '--name', 'alice-key', '--user', 'alice']),
      cli(['plans', 'list', '--config', config]),
    ]);
    assert.match(users.stdout, /\balice\b\s+ops\s+team-admin/);
    assert.equal(key.code, 0, key.stderr);
    assert.equal(plans.code, 0, plans.stderr);
    const opsKeys = await cli(['keys', 'list', '--config', config, '--team', 'ops']);
    assert.match(opsKeys.stdout, /alice-key.*user:alice/);
    assert.doesNotMatch(opsKeys.stdout, /team:finance/);
  });

  it('errors exit 1 with one line on stderr', async () => {
    const [unknownKey, unknownTeam, noTarget, bothTargets, configTeam] = await Promise.all([
      cli(['keys', 'revoke', 'key_nope', '--config', config]),
      cli(['keys', 'create', '--config', config, '--name', 'x', '--team', 'nope']),
      cli(['keys', 'list']),
      cli(['keys', 'list', '--config', config, '--url', 'http://127.0.0.1:1']),
      cli(['teams', 'delete', 'finance', '--config', config]),
    ]);
    assert.equal(unknownKey.code, 1);
    assert.equal(unknownKey.stderr, "breakerbox keys revoke: No key with id 'key_nope'.\n");
    assert.equal(unknownTeam.code, 1);
    assert.equal(unknownTeam.stderr, "breakerbox keys create: No team with name or id 'nope'.\n");
    assert.equal(unknownTeam.stdout, '');
    assert.equal(noTarget.code, 1);
    assert.match(noTarget.stderr, /exactly one of --config <file> .* or --url/);
    assert.equal(bothTargets.code, 1);
    assert.match(bothTargets.stderr, /exactly one of/);
    assert.equal(configTeam.code, 1);
    assert.match(configTeam.stderr, /defined in the config file/);
  });
});

describe('breakerbox admin commands against a running gateway (--url)', () => {
  let gateway: RunningGateway;
  const outputs: string[] = [];
  const remote = async (args: string[], env: NodeJS.ProcessEnv = { BB_ADMIN_KEY: ADMIN_KEY }) => {
    const run = await cli([...args, '--url', gateway.url], env);
    outputs.push(run.stdout, run.stderr);
    return run;
  };

  before(async () => {
    gateway = await startGateway(parseConfigText(configYaml(join(dir, 'remote.db')), 'remote.yaml'));
  });
  after(() => gateway.close());

  it('a key made through the CLI works until the CLI revokes it', async () => {
    const created = await remote(['keys', 'create', '--name', 'remote-ci', '--team', 'finance', '--models', 'demo']);
    assert.equal(created.code, 0, created.stderr);
    const secret = secretOf(created);
    const id = keyIdOf(created);
    assert.equal(await chat(gateway.url, secret), 200);

    const listed = await remote(['keys', 'list']);
    assert.equal(listed.code, 0, listed.stderr);
    assert.match(listed.stdout, new RegExp(`${id}\\s+remote-ci\\s+bb-\\S+…\\s+team:finance\\s+-\\s+enabled\\s+never`));
    assert.ok(!listed.stdout.includes(secret));

    const revoked = await remote(['keys', 'revoke', id]);
    assert.equal(revoked.code, 0, revoked.stderr);
    assert.equal(await chat(gateway.url, secret), 401);
    assert.match((await remote(['keys', 'list'])).stdout, new RegExp(`${id}.*\\brevoked\\b`));
  });

  it('server errors are shown with their message', async () => {
    const run = await remote(['keys', 'revoke', 'key_missing']);
    assert.equal(run.code, 1);
    assert.equal(run.stderr, "breakerbox keys revoke: No key with id 'key_missing'.\n");
  });

  it('--admin-key works too, and a wrong admin key exits 1 without echoing it', async () => {
    const withFlag = await remote(['teams', 'list', '--admin-key', ADMIN_KEY], {});
    assert.equal(withFlag.code, 0, withFlag.stderr);
    assert.match(withFlag.stdout, /finance/);

    const wrong = 'bb-wrong-admin-key-000000000';
    const run = await remote(['keys', 'list'], { BB_ADMIN_KEY: wrong });
    assert.equal(run.code, 1);
    assert.match(run.stderr, /^breakerbox keys list: The admin credential is not valid\. Check BB_ADMIN_KEY/);
    assert.ok(!run.stderr.includes(wrong) && !run.stdout.includes(wrong));

    const missing = await remote(['keys', 'list'], {});
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /set BB_ADMIN_KEY/);
  });

  it('local changes reach the running gateway through the shared store', async () => {
    const shared = join(dir, 'remote.yaml');
    await writeFile(shared, configYaml(join(dir, 'remote.db')));
    const created = await cli(['keys', 'create', '--config', shared, '--name', 'local-made', '--team', 'finance']);
    assert.equal(created.code, 0, created.stderr);
    const secret = secretOf(created);
    const deadline = Date.now() + 5_000;
    let status = await chat(gateway.url, secret);
    while (status !== 200 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      status = await chat(gateway.url, secret);
    }
    assert.equal(status, 200);
  });

  it('never prints the admin key', () => {
    assert.ok(outputs.length > 0);
    for (const text of outputs) assert.ok(!text.includes(ADMIN_KEY), 'admin key leaked into CLI output');
  });
});
