import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import BetterSqlite3 from 'better-sqlite3';
import OpenAI from 'openai';
import { runCli, startedAddress, type CliRun } from './helpers/cli.js';

const KEY = 'bb-crash-key-0123456789';
const CONNECTIONS = 20;
/** The kill comes mid-load: after this long and this many completed requests (a busy machine is slow to warm up)... */
const KILL_AFTER_MS = 800;
const KILL_AFTER_COMPLETED = 100;
/** ...or at this bound whatever happened. */
const KILL_BY_MS = 10_000;

/** Ledger rows per request id, read straight from the store file (the gateway may hold it open). */
function rowsById(storePath: string): Map<string, number> {
  const db = new BetterSqlite3(storePath, { readonly: true, fileMustExist: true });
  try {
    const rows = db.prepare('select request_id as id, count(*) as n from requests group by request_id').all() as Array<{ id: string; n: number }>;
    return new Map(rows.map((row) => [row.id, row.n]));
  } finally {
    db.close();
  }
}

describe('ledger: kill -9 under load', () => {
  let dir: string;
  const runs: CliRun[] = [];
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'bb-ledger-crash-'));
  });
  after(async () => {
    for (const run of runs) if (run.child.exitCode === null && run.child.signalCode === null) run.child.kill('SIGKILL');
    await rm(dir, { recursive: true, force: true });
  });

  it('every request that completed for its client is in the ledger exactly once after a restart', async () => {
    const storePath = join(dir, 'records.db');
    const configPath = join(dir, 'gateway.yaml');
    // A slow shipper, so most completed requests exist only in the outbox when the process dies.
    await writeFile(
      configPath,
      `
server: { host: 127.0.0.1, port: 0, shutdown_grace_ms: 2000, watch_config: false }
auth: { api_keys: [{ name: crash, key: ${KEY} }] }
store: { path: ${JSON.stringify(storePath)} }
logging: { level: info, requests: false }
ledger: { flush_ms: 60000, batch_size: 10000 }
providers:
  mock: { type: mock, reply: { mode: lorem, tokens: 16 }, tokens_per_second: 1600 }
models:
  demo: { targets: [{ provider: mock, model: mock-1 }] }
`,
    );
    const first = runCli(['start', '--config', configPath]);
    runs.push(first);
    const address = await startedAddress(first);
    const client = new OpenAI({ apiKey: KEY, baseURL: `${address}/v1`, maxRetries: 0, timeout: 5_000 });

    const completed = new Set<string>();
    let started = 0;
    let failed = 0;
    const loadStarted = Date.now();
    const stopAt = loadStarted + KILL_BY_MS + 1_000;
    const worker = async (w: number) => {
      for (let i = 0; Date.now() < stopAt; i += 1) {
        const id = `crash-${w}-${i}`;
        started += 1;
        try {
          if (i % 2 === 0) {
            await client.chat.completions.create({ model: 'demo', messages: [{ role: 'user', content: 'hi' }] }, { headers: { 'x-request-id': id } });
            completed.add(id);
          } else {
            // A stream counts as completed only when its closing [DONE] arrived.
            const response = await client.chat.completions.create({ model: 'demo', messages: [{ role: 'user', content: 'hi' }], stream: true }, { headers: { 'x-request-id': id } }).asResponse();
            const text = await response.text();
            if (/data: \[DONE\]\s*$/.test(text)) completed.add(id);
            else failed += 1;
          }
        } catch {
          failed += 1;
          // The gateway is gone: stop this connection's loop early.
          if (first.child.exitCode !== null || first.child.signalCode !== null) return;
        }
      }
    };
    const load = Promise.all(Array.from({ length: CONNECTIONS }, (_, w) => worker(w)));
    while (Date.now() - loadStarted < KILL_BY_MS && (Date.now() - loadStarted < KILL_AFTER_MS || completed.size < KILL_AFTER_COMPLETED)) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    first.child.kill('SIGKILL');
    await first.exited;
    await load;
    assert.equal(first.child.signalCode, 'SIGKILL');
    assert.ok(completed.size >= KILL_AFTER_COMPLETED, `only ${completed.size} requests completed before the kill`);
    const beforeRestart = rowsById(storePath);
    const missingBefore = [...completed].filter((id) => !beforeRestart.has(id)).length;

    const second = runCli(['start', '--config', configPath]);
    runs.push(second);
    await startedAddress(second);
    const deadline = Date.now() + 20_000;
    let rows = rowsById(storePath);
    while ([...completed].some((id) => !rows.has(id)) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      rows = rowsById(storePath);
    }
    second.child.kill('SIGTERM');
    assert.equal(await second.exited, 0, second.output().stderr);
    rows = rowsById(storePath);

    const missing = [...completed].filter((id) => !rows.has(id));
    const duplicated = [...rows].filter(([, n]) => n !== 1).map(([id]) => id);
    const extra = [...rows.keys()].filter((id) => !completed.has(id)).length;
    const summary = `${started} started, ${completed.size} completed, ${failed} failed or cut; ${missingBefore} completed ones were only in the outbox at the kill; ${extra} extra rows (settled, not seen complete)`;
    console.log(`ledger crash test: ${summary}`);
    assert.ok(missingBefore > 0, `the kill should leave records in the outbox (${summary})`);
    assert.deepEqual(missing, [], `completed requests missing from the ledger (${summary})`);
    assert.deepEqual(duplicated, [], 'a request id appears more than once');
    const replay = second.logLines().find((line) => line.msg === 'ledger: replaying records left in the outbox');
    assert.ok(replay && Number(replay.waiting) >= missingBefore, 'the restart replayed the outbox');
  });
});
