import assert from 'node:assert/strict';
import { mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import OpenAI, { APIError } from 'openai';
import { apiError, bbCode } from './helpers/api-error.js';
import { runCli, startedAddress, type CliRun } from './helpers/cli.js';

const KEY = 'bb-cli-reload-key-0123';
const ALPHA = 'alpha one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen seventeen eighteen nineteen twenty';

function configYaml(options: { text: string; model?: string; watch?: boolean; grace?: number; tokensPerSecond?: number }): string {
  return `
server: { host: 127.0.0.1, port: 0, shutdown_grace_ms: ${options.grace ?? 2000}, watch_config: ${options.watch ?? true} }
logging: { level: debug, requests: false }
store: { path: ':memory:' }
auth: { api_keys: [{ name: k, key: ${KEY} }] }
providers:
  mock: { type: mock, reply: { mode: fixed, text: "${options.text}" }, tokens_per_second: ${options.tokensPerSecond ?? 20} }
models:
  ${options.model ?? 'demo'}: { targets: [{ provider: mock, model: m }] }
`;
}

function clientFor(address: string): OpenAI {
  return new OpenAI({ apiKey: KEY, baseURL: `${address}/v1`, maxRetries: 0, timeout: 15_000 });
}

async function reply(client: OpenAI, model: string): Promise<string | null | undefined> {
  const answer = await client.chat.completions.create({ model, messages: [{ role: 'user', content: 'hi' }] });
  return answer.choices[0]?.message.content;
}

/** Reads a whole stream; its error, if any, is returned with the text so far. */
async function drainStream(stream: AsyncIterable<OpenAI.Chat.Completions.ChatCompletionChunk>): Promise<{ text: string; error: unknown }> {
  let text = '';
  try {
    for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
  } catch (error) {
    return { text, error };
  }
  return { text, error: undefined };
}

const isReloaded = (line: Record<string, unknown>) => line.msg === 'config reloaded';

describe('breakerbox start: reload and shutdown', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'breakerbox-reload-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  async function start(name: string, yaml: string): Promise<{ run: CliRun; path: string; address: string }> {
    const path = join(dir, name);
    await writeFile(path, yaml);
    const run = runCli(['start', '--config', path]);
    try {
      return { run, path, address: await startedAddress(run) };
    } catch (error) {
      run.child.kill('SIGKILL');
      throw error;
    }
  }

  it('SIGHUP reloads during 100 open streams with no failure; an invalid config is rejected and logged', async () => {
    const { run, path, address } = await start('sighup.yaml', configYaml({ text: ALPHA, watch: false, tokensPerSecond: 10 }));
    try {
      const client = clientFor(address);
      const streams = await Promise.all(
        Array.from({ length: 100 }, () => client.chat.completions.create({ model: 'demo', messages: [{ role: 'user', content: 'hi' }], stream: true })),
      );
      let finished = 0;
      const reads = streams.map((stream) => drainStream(stream).finally(() => (finished += 1)));

      await writeFile(path, configYaml({ text: 'beta reply', model: 'fresh', watch: false, tokensPerSecond: 0 }));
      const seen = run.logLines().length;
      run.child.kill('SIGHUP');
      const reloaded = await run.waitForLog(isReloaded, { after: seen });
      assert.deepEqual((reloaded.changed as string[]).sort(), ['models.demo', 'models.fresh', 'providers.mock']);
      assert.equal(finished, 0, 'the reload happened while all 100 streams were open');
      assert.equal(await reply(client, 'fresh'), 'beta reply');
      assert.equal(bbCode(await apiError(reply(client, 'demo'))), 'BB_MODEL_NOT_FOUND');

      const results = await Promise.all(reads);
      assert.equal(results.filter((result) => result.error !== undefined).length, 0, 'no stream failed');
      assert.equal(results.filter((result) => result.text === ALPHA).length, 100, 'every stream got its whole text from the old config');
      await run.waitForLog((line) => typeof line.msg === 'string' && line.msg.startsWith('previous config released'), { after: seen });

      // An invalid config: every error logged in the words of `breakerbox validate`; the old config keeps serving.
      await writeFile(path, `${configYaml({ text: 'gamma', model: 'fresh', watch: false, tokensPerSecond: 0 })}  broken: { targets: [{ provider: nope, model: m }] }\n`);
      const before = run.logLines().length;
      run.child.kill('SIGHUP');
      const rejected = await run.waitForLog((line) => typeof line.msg === 'string' && line.msg.startsWith('config reload rejected'), { after: before });
      assert.equal(rejected.level, 50);
      assert.match(rejected.msg as string, /sighup\.yaml: 1 error$/);
      assert.deepEqual(rejected.errors, ['models.broken.targets[0].provider: unknown provider "nope" (defined providers: mock)']);
      assert.equal(await reply(client, 'fresh'), 'beta reply');
      assert.equal(run.logLines().slice(before).filter(isReloaded).length, 0);
    } finally {
      run.child.kill('SIGTERM');
    }
    assert.equal(await run.exited, 0);
  });

  it('reloads when the file changes, whether replaced by rename or rewritten in place', async () => {
    const { run, path, address } = await start('watched.yaml', configYaml({ text: 'one', tokensPerSecond: 0 }));
    try {
      const client = clientFor(address);
      assert.equal(await reply(client, 'demo'), 'one');
      // As editors save: write a new file, then rename it over the old one.
      let seen = run.logLines().length;
      await writeFile(`${path}.tmp`, configYaml({ text: 'two', tokensPerSecond: 0 }));
      await rename(`${path}.tmp`, path);
      await run.waitForLog(isReloaded, { after: seen });
      assert.equal(await reply(client, 'demo'), 'two');
      // Rewritten in place, after the rename (the watch must survive it).
      seen = run.logLines().length;
      await writeFile(path, configYaml({ text: 'three', tokensPerSecond: 0 }));
      await run.waitForLog(isReloaded, { after: seen });
      assert.equal(await reply(client, 'demo'), 'three');
    } finally {
      run.child.kill('SIGTERM');
    }
    assert.equal(await run.exited, 0);
  });

  it('SIGTERM drains: /readyz is 503, short streams finish, long ones get a terminal error event, exit 0', async () => {
    const grace = 1500;
    const { run, address } = await start('sigterm.yaml', configYaml({ text: ALPHA, grace, tokensPerSecond: 10 }));
    const client = clientFor(address);
    const short = await Promise.all(
      Array.from({ length: 5 }, () =>
        client.chat.completions.create({ model: 'demo', messages: [{ role: 'user', content: 'hi' }], stream: true, max_tokens: 4 }),
      ),
    );
    const long = await Promise.all(
      Array.from({ length: 5 }, () => client.chat.completions.create({ model: 'demo', messages: [{ role: 'user', content: 'hi' }], stream: true })),
    );
    const reads = { short: short.map(drainStream), long: long.map(drainStream) };
    // A probe whose connection is open when the drain starts: its request line is sent before, its end after.
    const { hostname, port } = new URL(address);
    const probe = connect(Number(port), hostname);
    let probeAnswer = '';
    probe.on('data', (chunk: Buffer) => (probeAnswer += chunk.toString()));
    await new Promise<void>((resolve) => probe.write('GET /readyz HTTP/1.1\r\nHost: gateway\r\n', () => resolve()));
    await new Promise((resolve) => setTimeout(resolve, 50));

    const seen = run.logLines().length;
    const started = Date.now();
    run.child.kill('SIGTERM');
    await run.waitForLog((line) => line.msg === 'draining', { after: seen });
    probe.write('\r\n');
    const probeClosed = new Promise<void>((resolve) => probe.on('close', () => resolve()));

    for (const result of await Promise.all(reads.short)) {
      assert.equal(result.error, undefined);
      assert.ok(result.text.length > 0);
    }
    for (const result of await Promise.all(reads.long)) {
      assert.ok(result.error instanceof APIError, `expected an APIError, got ${String(result.error)}`);
      assert.match(result.error.message, /shutting down/);
      assert.ok(ALPHA.startsWith(result.text) && result.text.length > 0, 'the text before the event is kept, not repeated');
    }
    assert.ok(Date.now() - started < grace + 500, 'terminal events come by the deadline');
    assert.equal(await run.exited, 0);
    await probeClosed;
    assert.match(probeAnswer, /^HTTP\/1\.1 503 /);
    assert.match(probeAnswer, /"draining":true/);
    assert.ok(run.logLines().some((line) => line.msg === 'stopped'));
  });
});
