import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import OpenAI from 'openai';
import type { Runtime } from '../src/pipeline/runtime.js';
import { apiError, bbCode } from './helpers/api-error.js';
import { parseTestConfig, startTestGateway, TEST_KEY, type TestGateway } from './helpers/gateway.js';
import { waitFor } from './helpers/wait.js';

const OTHER_KEY = 'bb-other-key-0123456789';

function configYaml(reply: string, opts: { model?: string; port?: number; keys?: string[]; maxBody?: string } = {}): string {
  const keys = (opts.keys ?? [TEST_KEY]).map((key, index) => `{ name: k${index}, key: ${key} }`).join(', ');
  return `
server: { host: 127.0.0.1, port: ${opts.port ?? 0}, shutdown_grace_ms: 500, max_body_bytes: ${opts.maxBody ?? '1mb'} }
logging: { level: info, requests: false }
auth: { api_keys: [${keys}] }
providers:
  mock: { type: mock, reply: { mode: fixed, text: "${reply}" }, tokens_per_second: 40 }
models:
  ${opts.model ?? 'demo'}: { targets: [{ provider: mock, model: m }] }
`;
}

/** Collects the gateway's JSON log lines. */
function logSink(): { stream: Writable; lines: () => Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n')) if (line.trim() !== '') lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return { stream, lines: () => lines };
}

async function streamText(client: OpenAI, model: string): Promise<string> {
  const stream = await client.chat.completions.create({ model, messages: [{ role: 'user', content: 'hi' }], stream: true });
  let text = '';
  for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
  return text;
}

describe('config reload (gateway.reload)', () => {
  let gateway: TestGateway;
  let logs: ReturnType<typeof logSink>;
  before(async () => {
    logs = logSink();
    gateway = await startTestGateway(configYaml('alpha one two three four five six seven eight nine ten'), {}, { logDestination: logs.stream });
  });
  after(() => gateway.close());

  it('swaps the config for new requests while an open stream finishes on the old one, then closes the old runtime', async () => {
    const oldRuntime = gateway.runtime;
    let oldClosedAt = 0;
    const close = oldRuntime.close.bind(oldRuntime);
    (oldRuntime as { close: Runtime['close'] }).close = () => {
      oldClosedAt = Date.now();
      return close();
    };
    const stream = await gateway.client.chat.completions.create({ model: 'demo', messages: [{ role: 'user', content: 'hi' }], stream: true });
    const iterator = stream[Symbol.asyncIterator]();
    const first = await iterator.next();
    assert.equal(first.done, false);

    const result = await gateway.reload(parseTestConfig(configYaml('beta reply', { model: 'fresh' })));
    assert.equal(result.applied, true);
    assert.deepEqual(result.changed.sort(), ['models.demo', 'models.fresh', 'providers.mock']);
    assert.notEqual(gateway.runtime, oldRuntime);
    // New requests see the new config at once.
    const fresh = await gateway.client.chat.completions.create({ model: 'fresh', messages: [{ role: 'user', content: 'hi' }] });
    assert.equal(fresh.choices[0]?.message.content, 'beta reply');
    assert.equal(bbCode(await apiError(gateway.client.chat.completions.create({ model: 'demo', messages: [{ role: 'user', content: 'hi' }] }))), 'BB_MODEL_NOT_FOUND');
    assert.equal(oldClosedAt, 0, 'the old runtime stays open while its stream runs');

    let text = first.value.choices[0]?.delta.content ?? '';
    for (let next = await iterator.next(); !next.done; next = await iterator.next()) text += next.value.choices[0]?.delta.content ?? '';
    assert.equal(text, 'alpha one two three four five six seven eight nine ten');
    await waitFor(() => oldClosedAt !== 0);
    const line = logs.lines().find((entry) => entry.msg === 'config reloaded');
    assert.deepEqual((line?.changed as string[]).sort(), ['models.demo', 'models.fresh', 'providers.mock']);
  });

  it('applies added and removed static keys', async () => {
    await gateway.reload(parseTestConfig(configYaml('gamma', { keys: [OTHER_KEY] })));
    const other = new OpenAI({ apiKey: OTHER_KEY, baseURL: `${gateway.url}/v1`, maxRetries: 0 });
    const answer = await other.chat.completions.create({ model: 'demo', messages: [{ role: 'user', content: 'hi' }] });
    assert.equal(answer.choices[0]?.message.content, 'gamma');
    assert.equal(bbCode(await apiError(gateway.client.models.list())), 'BB_INVALID_API_KEY');
    await gateway.reload(parseTestConfig(configYaml('gamma')));
    assert.equal(bbCode(await apiError(other.models.list())), 'BB_INVALID_API_KEY');
    assert.equal((await streamText(gateway.client, 'demo')), 'gamma');
  });

  it('keeps restart-only settings, warns naming them, and applies the reloadable ones', async () => {
    const port = gateway.port;
    const result = await gateway.reload(parseTestConfig(configYaml('gamma', { port: port + 1, maxBody: '200b' })));
    assert.deepEqual(result.needsRestart, ['server.port']);
    assert.deepEqual(result.changed, ['server.max_body_bytes']);
    assert.equal(gateway.config.server.port, 0, 'kept as started');
    const warning = logs.lines().find((entry) => entry.level === 40 && Array.isArray(entry.settings));
    assert.deepEqual(warning?.settings, ['server.port']);
    const tooLarge = await apiError(gateway.client.chat.completions.create({ model: 'demo', messages: [{ role: 'user', content: 'x'.repeat(400) }] }));
    assert.equal(bbCode(tooLarge), 'BB_BODY_TOO_LARGE');
  });

  it('does nothing for a config that changes nothing', async () => {
    const runtime = gateway.runtime;
    const result = await gateway.reload(parseTestConfig(configYaml('gamma', { maxBody: '200b' })));
    assert.equal(result.applied, false);
    assert.equal(gateway.runtime, runtime);
  });
});
