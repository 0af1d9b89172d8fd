import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { request } from 'undici';
import { runCli } from './helpers/cli.js';

describe('breakerbox CLI', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'breakerbox-cli-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('validate accepts the quick start config', async () => {
    const run = runCli(['validate', '--config', 'examples/quickstart.yaml']);
    assert.equal(await run.exited, 0);
    assert.match(run.output().stdout, /OK \(1 provider, 1 model\)/);
  });

  it('validate accepts the providers example with no provider credentials in the environment', async () => {
    const unset = Object.fromEntries(
      ['OPENAI_API_KEY', 'ANTHROPIC_API_KEY', 'GEMINI_API_KEY', 'AZURE_OPENAI_ENDPOINT', 'AZURE_OPENAI_API_KEY', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY'].map(
        (name) => [name, ''],
      ),
    );
    const run = runCli(['validate', '--config', 'examples/providers.yaml'], unset);
    assert.equal(await run.exited, 0, run.output().stderr);
    assert.match(run.output().stdout, /OK \(5 providers, 5 models\)/);
  });

  it('validate prints every error with its key path and exits 1', async () => {
    const path = join(dir, 'bad.yaml');
    await writeFile(
      path,
      `
auth: { api_keys: [{ name: k, key: bb-0123456789 }] }
providers:
  openai: { type: openai, api_key: "\${env:BB_TEST_UNSET_KEY}", colour: blue }
models:
  fast:
    targets: [{ provider: opnai, model: gpt-4o-mini }]
`,
    );
    const run = runCli(['validate', '--config', path], { BB_TEST_UNSET_KEY: '' });
    assert.equal(await run.exited, 1);
    const { stderr } = run.output();
    assert.match(stderr, /3 errors/);
    assert.match(stderr, /models\.fast\.targets\[0\]\.provider: unknown provider "opnai"/);
    assert.match(stderr, /providers\.openai\.colour: unknown key/);
    assert.match(stderr, /providers\.openai\.api_key: environment variable BB_TEST_UNSET_KEY is not set/);
  });

  it('start serves the config, logs one startup line, and drains on SIGTERM', async () => {
    const path = join(dir, 'start.yaml');
    await writeFile(
      path,
      `
server: { host: 127.0.0.1, port: 0, shutdown_grace_ms: 500 }
auth: { api_keys: [{ name: k, key: bb-0123456789 }] }
providers: { mock: { type: mock } }
models: { demo: { targets: [{ provider: mock, model: m }] } }
`,
    );
    const run = runCli(['start', '--config', path]);
    try {
      let startup: { address?: string; providers?: string[]; models?: string[] } = {};
      const deadline = Date.now() + 15_000;
      while (!startup.address) {
        assert.ok(Date.now() < deadline, `no startup line: ${run.output().stderr}`);
        const line = run.output().stdout.split('\n').find((entry) => entry.includes('listening'));
        if (line) startup = JSON.parse(line) as typeof startup;
        else await new Promise((resolve) => setTimeout(resolve, 50));
      }
      assert.match(startup.address, /^http:\/\/127\.0\.0\.1:\d+$/);
      assert.deepEqual(startup.providers, ['mock']);
      assert.deepEqual(startup.models, ['demo']);
      const health = await request(`${startup.address}/healthz`);
      assert.equal(health.statusCode, 200);
      await health.body.dump();
    } finally {
      run.child.kill('SIGTERM');
    }
    assert.equal(await run.exited, 0);
  });

  it('refuses to start on an invalid config', async () => {
    const path = join(dir, 'invalid.yaml');
    await writeFile(path, 'providers: {}\nmodels: {}\n');
    const run = runCli(['start', '--config', path]);
    assert.equal(await run.exited, 1);
    assert.match(run.output().stderr, /auth\.api_keys: no way to call the gateway/);
  });
});
