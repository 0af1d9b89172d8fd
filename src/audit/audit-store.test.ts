import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import BetterSqlite3 from 'better-sqlite3';
import { openRecordStore } from '../store/open-store.js';
import { describeAuditStoreContract } from './audit-store.contract.js';

const execFileAsync = promisify(execFile);
const dirs: string[] = [];
let files = 0;

async function freshPath(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'bb-audit-'));
  dirs.push(dir);
  files += 1;
  return join(dir, `records-${files}.db`);
}

/** Edits the file through its own connection while the store is idle: nothing of the store is bypassed but SQL. */
function rawSql(path: string) {
  return async (statement: string): Promise<void> => {
    const db = new BetterSqlite3(path);
    try {
      db.exec(statement);
    } finally {
      db.close();
    }
  };
}

describeAuditStoreContract(
  'sqlite',
  async () => {
    const path = await freshPath();
    // No second in-process handle: better-sqlite3 waits for locks synchronously, so two handles in
    // one process would block each other; separate processes are tested below.
    return { store: await openRecordStore({ driver: 'sqlite', path }), raw: rawSql(path) };
  },
  async () => {
    await Promise.all(dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
  },
);

const STORE_MODULE = pathToFileURL(new URL('../store/open-store.ts', import.meta.url).pathname).href;

/** One writer process: `rounds` appends of `size` entries, as fast as it can. */
function writerScript(path: string, name: string, rounds: number, size: number): string {
  return `
const { openRecordStore } = await import(${JSON.stringify(STORE_MODULE)});
const store = await openRecordStore({ driver: 'sqlite', path: ${JSON.stringify(path)} });
// Barrier: announce readiness in the log itself and wait for the other writer's, so both really append at once.
await store.audit.append([{ kind: 'admin', actor: { key_id: ${JSON.stringify(name)} }, action: 'test.ready', details: {} }]);
const deadline = Date.now() + 60000;
while ((await store.audit.list({ action: 'test.ready' }, { limit: 10 })).entries.length < 2) {
  if (Date.now() > deadline) throw new Error('the other writer never started');
  await new Promise((resolve) => setTimeout(resolve, 5));
}
for (let round = 0; round < ${rounds}; round += 1) {
  const batch = Array.from({ length: ${size} }, (_, i) => ({ kind: 'denial', actor: { key_id: ${JSON.stringify(name)} }, action: 'limits.refuse', details: { round, i } }));
  await store.audit.append(batch);
}
await store.close();
`;
}

describe('audit log on sqlite, several processes', () => {
  after(async () => {
    await Promise.all(dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
  });

  /** Two writer processes on a fresh file; the chain's check and the writers' order in it. */
  async function race(): Promise<{ problems: unknown[]; checked: number; switches: number }> {
    const path = await freshPath();
    // Migrate once up front, so the writers race on appends rather than on the schema.
    await (await openRecordStore({ driver: 'sqlite', path })).close();
    const run = (name: string) =>
      execFileAsync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', writerScript(path, name, 200, 5)], { timeout: 100_000 }).catch((error: { stderr?: string; message: string }) => {
        throw new Error(`writer ${name} failed: ${error.stderr || error.message}`);
      });
    await Promise.all([run('writer-a'), run('writer-b')]);
    const store = await openRecordStore({ driver: 'sqlite', path });
    try {
      const result = await store.audit.verify();
      const order = (await store.audit.list({ action: 'limits.refuse' }, { limit: 5000, order: 'asc' })).entries.map((e) => (e.actor as { key_id: string }).key_id);
      const switches = order.filter((writer, index) => index > 0 && writer !== order[index - 1]).length;
      return { problems: result.problems, checked: result.checked, switches };
    } finally {
      await store.close();
    }
  }

  it('keeps one valid chain when two processes append at once', { timeout: 300_000 }, async () => {
    // Every race must leave a valid chain. The writers' batches must also interleave in at least
    // one race, or nothing ran at the same time: on a loaded 2-core machine the scheduler can run
    // one writer's 200 appends before the other's, so up to three races are run to see that.
    let switches = 0;
    for (let attempt = 0; attempt < 3 && switches < 2; attempt += 1) {
      const result = await race();
      assert.deepEqual(result.problems, []);
      assert.equal(result.checked, 2 + 2 * 200 * 5);
      switches = result.switches;
    }
    assert.ok(switches >= 2, `the two writers' appends did not interleave in three races (${switches} switches in the last)`);
  });
});
