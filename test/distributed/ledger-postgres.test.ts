import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { after, describe, it } from 'node:test';
import pg from 'pg';
import { startTestGateway, TEST_KEY, type TestGateway } from '../helpers/gateway.js';
import { TcpProxy } from '../helpers/tcp-proxy.js';

const url = process.env.DATABASE_URL;
const skip = url ? false : 'DATABASE_URL is not set (e.g. postgres://postgres@127.0.0.1:5432/test); skipping the ledger PostgreSQL outage test';

const CONNECTIONS = 10;
const BEFORE_MS = 1_000;
const CUT_MS = 2_000;
const AFTER_MS = 1_000;

/** Log lines the gateway writes, parsed. */
function logCapture(): { stream: Writable; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  let buffered = '';
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      buffered += chunk.toString();
      let newline = buffered.indexOf('\n');
      while (newline !== -1) {
        const line = buffered.slice(0, newline);
        buffered = buffered.slice(newline + 1);
        if (line.startsWith('{')) lines.push(JSON.parse(line) as Record<string, unknown>);
        newline = buffered.indexOf('\n');
      }
      done();
    },
  });
  return { stream, lines };
}

describe('ledger: PostgreSQL unreachable under load', { skip }, () => {
  const schema = `bb_ledger_${randomBytes(6).toString('hex')}`;
  const dir = mkdtempSync(join(tmpdir(), 'bb-ledger-pg-'));
  let proxy: TcpProxy | undefined;
  let gateway: TestGateway | undefined;
  after(async () => {
    await gateway?.close();
    await proxy?.stop();
    rmSync(dir, { recursive: true, force: true });
    if (!url) return;
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      await client.query(`drop schema if exists "${schema}" cascade`);
    } finally {
      await client.end();
    }
  });

  it('requests keep flowing while the store is cut; afterwards rows equal completed requests, no duplicates', async () => {
    const target = new URL(url ?? '');
    proxy = TcpProxy.to(target, 5432);
    await proxy.start();
    const proxied = new URL(target.href);
    proxied.hostname = '127.0.0.1';
    proxied.port = String(proxy.port);
    const logs = logCapture();
    gateway = await startTestGateway(
      `
store: { driver: postgres, url: ${JSON.stringify(proxied.href)}, schema: ${schema}, refresh_ms: 500 }
logging: { level: info, requests: false }
ledger: { flush_ms: 50, retry_max_ms: 400, outbox_path: ${JSON.stringify(join(dir, 'outbox.db'))} }
providers:
  mock: { type: mock, reply: { mode: lorem, tokens: 8 } }
models:
  demo: { targets: [{ provider: mock, model: mock-1 }] }
`,
      {},
      { logDestination: logs.stream },
    );
    const running = gateway;

    const completed = new Set<string>();
    const duringCut = { completed: 0, failed: 0 };
    const failures: string[] = [];
    let cut = false;
    const stopAt = Date.now() + BEFORE_MS + CUT_MS + AFTER_MS;
    const worker = async (w: number) => {
      for (let i = 0; Date.now() < stopAt; i += 1) {
        const id = `pg-${w}-${i}`;
        const inCut = cut;
        try {
          await running.client.chat.completions.create({ model: 'demo', messages: [{ role: 'user', content: 'hi' }] }, { headers: { 'x-request-id': id } });
          completed.add(id);
          if (inCut) duringCut.completed += 1;
        } catch (error) {
          failures.push(`${id}: ${String(error)}`);
          if (inCut) duringCut.failed += 1;
        }
      }
    };
    const load = Promise.all(Array.from({ length: CONNECTIONS }, (_, w) => worker(w)));
    await new Promise((resolve) => setTimeout(resolve, BEFORE_MS));
    cut = true;
    await proxy.stop();
    await new Promise((resolve) => setTimeout(resolve, CUT_MS));
    const waitingAtRestore = running.ledger.queueDepth();
    await proxy.start();
    cut = false;
    await load;

    assert.deepEqual(failures, [], 'no request failed because of the record store');
    assert.ok(duringCut.completed > 20, `requests kept flowing during the cut (${duringCut.completed} completed)`);
    assert.ok(waitingAtRestore > 0, 'records waited in the outbox during the cut');

    // After recovery the shipper catches up on its own.
    const deadline = Date.now() + 15_000;
    while (running.ledger.queueDepth() > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(running.ledger.queueDepth(), 0, 'the outbox drained after recovery');

    const client = new pg.Client({ connectionString: url });
    await client.connect();
    let rows: Array<{ request_id: string; n: string }>;
    try {
      rows = (await client.query(`select request_id, count(*) as n from "${schema}".requests group by request_id`)).rows;
    } finally {
      await client.end();
    }
    const stored = new Set(rows.map((row) => row.request_id));
    assert.deepEqual(rows.filter((row) => Number(row.n) !== 1), [], 'no duplicates');
    assert.deepEqual([...completed].filter((id) => !stored.has(id)), [], 'every completed request is recorded');
    assert.deepEqual([...stored].filter((id) => !completed.has(id)), [], 'no row for a request that did not complete');
    assert.equal(stored.size, completed.size);

    const warnings = logs.lines.filter((line) => line.msg === 'ledger: record store unreachable; records wait in the outbox and are retried');
    assert.equal(warnings.length, 1, 'one warning for the outage');
    assert.ok(logs.lines.some((line) => line.msg === 'ledger: record store reachable again; outbox shipped'));
    console.log(`ledger postgres outage: ${completed.size} completed, ${duringCut.completed} during the ${CUT_MS} ms cut, ${waitingAtRestore} waiting in the outbox at restore`);
  });
});
