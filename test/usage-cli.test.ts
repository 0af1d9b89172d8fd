import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import OpenAI from 'openai';
import { parseConfigText } from '../src/config/load.js';
import { startGateway, type RunningGateway } from '../src/gateway.js';
import { openRecordStore } from '../src/store/open-store.js';
import { knownRows, T0 } from '../src/usage/analytics/usage-analytics.contract.js';
import { runCliToEnd, type CliResult } from './helpers/cli.js';

const ROOT = new URL('..', import.meta.url).pathname;
const ADMIN_KEY = 'bb-admin-usage-cli-0123456789';
const DAY = 86_400_000;
const iso = (ms: number) => new Date(ms).toISOString();

/** The real CLI's `usage` command in a child process. */
function cli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  return runCliToEnd(['usage', ...args], env);
}

function config(dbPath: string, extra = ''): string {
  return `
server: { host: 127.0.0.1, port: 0, shutdown_grace_ms: 200 }
logging: { level: silent }
store: { path: ${JSON.stringify(dbPath)} }
auth: { api_keys: [{ name: static, key: bb-static-usage-0123456789 }] }
admin: { api_key: ${ADMIN_KEY} }
providers: { mock: { type: mock } }
models: { demo: { targets: [{ provider: mock, model: m1 }] } }
${extra}
`;
}

/** The cells of the table line whose first cell is `first`. */
function line(stdout: string, first: string): string[] | undefined {
  return stdout
    .split('\n')
    .map((text) => text.trim().split(/\s{2,}/))
    .find((cells) => cells[0] === first);
}

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'breakerbox-usage-cli-'));
});
after(() => rm(dir, { recursive: true, force: true }));

describe('breakerbox usage --config (a seeded SQLite ledger)', () => {
  let file: string;
  const range = ['--from', iso(T0), '--to', iso(T0 + 2 * DAY)];

  before(async () => {
    const db = join(dir, 'seeded.db');
    const store = await openRecordStore({ driver: 'sqlite', path: db });
    await store.ledger.insertRequests(knownRows());
    await store.close();
    file = join(dir, 'seeded.yaml');
    await writeFile(file, config(db, 'ledger: { enabled: false }'));
  });

  it('prints a table per model with requests, tokens and cost', async () => {
    const run = await cli(['--config', file, '--by', 'model', ...range]);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /^Usage 2025-03-03 00:00Z to 2025-03-05 00:00Z by model\n/);
    assert.deepEqual(line(run.stdout, 'MODEL'), ['MODEL', 'REQUESTS', 'ERRORS', 'INPUT_TOKENS', 'OUTPUT_TOKENS', 'COST_USD', 'AVG_LATENCY_MS', 'P95_LATENCY_MS']);
    assert.deepEqual(line(run.stdout, 'alpha')?.slice(0, 6), ['alpha', '7', '0', '8,530', '815', '$3.50']);
    assert.deepEqual(line(run.stdout, 'beta')?.slice(0, 6), ['beta', '5', '1', '63,030', '150', '$3.75']);
  });

  it('compares two periods and ranks the template that doubled first', async () => {
    const run = await cli(['--config', file, '--by', 'template', '--from', iso(T0 + DAY), '--to', iso(T0 + 2 * DAY), '--compare', `${iso(T0)}..${iso(T0 + DAY)}`, '--order', 'output_tokens_per_request']);
    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual(line(run.stdout, 'TEMPLATE'), ['TEMPLATE', 'OUTPUT_TOKENS_PER_REQUEST BEFORE', 'OUTPUT_TOKENS_PER_REQUEST NOW', 'CHANGE', 'REQUESTS BEFORE', 'REQUESTS NOW']);
    const rows = run.stdout.split('\n').filter((text) => text.startsWith('tpl-'));
    assert.deepEqual(rows.map((text) => text.split(/\s+/).slice(0, 4)), [
      ['tpl-a', '100', '200', '+100.0%'],
      ['tpl-b', '100', '110', '+10.0%'],
      ['tpl-c', '50', '40', '-20.0%'],
    ]);
  });

  it('prints hourly buckets, top customers, and JSON', async () => {
    const buckets = await cli(['--config', file, '--by', 'team', '--from', iso(T0), '--to', iso(T0 + DAY), '--bucket', '1h', '--measures', 'requests']);
    assert.equal(buckets.code, 0, buckets.stderr);
    assert.deepEqual(line(buckets.stdout, '2025-03-03 01:00Z'), ['2025-03-03 01:00Z', 'red', '2']);
    const top = await cli(['--config', file, '--by', 'customer', ...range, '--measures', 'max_input_tokens,p95_input_tokens', '--top', '1', '--json']);
    assert.equal(top.code, 0, top.stderr);
    const answer = JSON.parse(top.stdout) as { rows: Array<{ group: { customer: string }; values: { max_input_tokens: number } }> };
    assert.deepEqual(answer.rows.map((row) => [row.group.customer, row.values.max_input_tokens]), [['cust-big', 50_000]]);
  });

  it('fails with one line naming the problem', async () => {
    const bad = await cli(['--config', file, '--by', 'colour']);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /^breakerbox usage: Unknown dimension 'colour'; use one of: key, user/);
    const both = await cli(['--by', 'model']);
    assert.equal(both.code, 1);
    assert.match(both.stderr, /give exactly one of --config/);
    const where = await cli(['--config', file, '--where', 'colour=red']);
    assert.match(where.stderr, /--where takes <dimension>=<value>/);
  });
});

describe('breakerbox usage --url (a running gateway)', () => {
  let gateway: RunningGateway;
  before(async () => {
    gateway = await startGateway(parseConfigText(config(join(dir, 'remote.db'), 'ledger: { enabled: false }'), 'remote.yaml'));
    await gateway.store.ledger.insertRequests(knownRows());
  });
  after(() => gateway?.close());

  it('prints the same table through the admin API with BB_ADMIN_KEY', async () => {
    const run = await cli(['--url', gateway.url, '--by', 'model', '--from', iso(T0), '--to', iso(T0 + 2 * DAY), '--measures', 'requests,cost_usd'], { BB_ADMIN_KEY: ADMIN_KEY });
    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual(line(run.stdout, 'alpha'), ['alpha', '7', '$3.50']);
    assert.deepEqual(line(run.stdout, 'beta'), ['beta', '5', '$3.75']);
  });

  it('needs an admin key, and says when the key is wrong', async () => {
    const none = await cli(['--url', gateway.url, '--by', 'model']);
    assert.equal(none.code, 1);
    assert.match(none.stderr, /--url needs an admin key: set BB_ADMIN_KEY/);
    const wrong = await cli(['--url', gateway.url, '--by', 'model'], { BB_ADMIN_KEY: 'bb-not-the-admin-key-000000' });
    assert.equal(wrong.code, 1);
    assert.match(wrong.stderr, /Check BB_ADMIN_KEY/);
  });
});

describe('the quick start example: a few requests, then breakerbox usage --by model', () => {
  let gateway: RunningGateway;
  let file: string;
  before(async () => {
    const db = join(dir, 'quickstart.db');
    const quickstart = await readFile(join(ROOT, 'examples/quickstart.yaml'), 'utf8');
    // The example as shipped, on a free port, recording to a scratch file instead of data/.
    const text = `${quickstart.replace(/port: 8080/, 'port: 0')}\nstore: { path: ${JSON.stringify(db)} }\nlogging: { level: silent }\n`;
    file = join(dir, 'quickstart.yaml');
    await writeFile(file, text);
    gateway = await startGateway(parseConfigText(text, file));
  });
  after(() => gateway?.close());

  it("shows the demo model's requests, tokens and cost", async () => {
    const client = new OpenAI({ apiKey: 'bb-quickstart-key', baseURL: `${gateway.url}/v1`, maxRetries: 0, timeout: 10_000 });
    await Promise.all([1, 2, 3].map(() => client.chat.completions.create({ model: 'demo', messages: [{ role: 'user', content: 'Hello there' }] })));
    await gateway.ledger.flush();
    const run = await cli(['--config', file, '--by', 'model']);
    assert.equal(run.code, 0, run.stderr);
    const demo = line(run.stdout, 'demo');
    assert.ok(demo, run.stdout);
    assert.equal(demo[1], '3', run.stdout);
    const input = Number(demo[3]?.replace(/,/g, ''));
    assert.ok(input > 0 && input % 3 === 0, `three identical prompts: ${demo[3]}`);
    assert.equal(demo[4], '180', 'the mock answers 60 tokens each');
    assert.equal(demo[5], '$0.00');
  });
});
