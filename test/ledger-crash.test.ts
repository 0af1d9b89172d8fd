import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import BetterSqlite3 from 'better-sqlite3';
import type { CliRun } from './helpers/cli.js';
import { crashUnderLoad } from './helpers/ledger-crash.js';

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

// The same with a PostgreSQL store: test/distributed/ledger-crash-postgres.test.ts.
describe('ledger: kill -9 under load (SQLite store)', () => {
  let dir: string;
  const runs: CliRun[] = [];
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'bb-ledger-crash-'));
  });
  after(async () => {
    for (const run of runs) if (run.child.exitCode === null && run.child.signalCode === null) run.child.kill('SIGKILL');
    await rm(dir, { recursive: true, force: true });
  });

  /** A gateway killed under load from `connections` clients, then restarted: nothing lost, nothing twice. */
  async function crashAndRestart(name: string, connections?: number): Promise<void> {
    const runDir = join(dir, name);
    await mkdir(runDir);
    const storePath = join(runDir, 'records.db');
    const outcome = await crashUnderLoad(runDir, `store: { path: ${JSON.stringify(storePath)} }`, async () => rowsById(storePath), runs, connections);
    console.log(`ledger crash test (SQLite, ${name}): ${outcome.summary}`);
    assert.ok(outcome.missingBefore > 0, `the kill should leave records in the outbox (${outcome.summary})`);
    assert.deepEqual(outcome.missing, [], `completed requests missing from the ledger (${outcome.summary})`);
    assert.deepEqual(outcome.duplicated, [], 'a request id appears more than once');
    assert.ok(outcome.replayed >= outcome.missingBefore, 'the restart replayed the outbox');
    assert.equal(outcome.secondExit, 0, outcome.secondStderr);
  }

  it('every request that completed for its client is in the ledger exactly once after a restart', () => crashAndRestart('concurrent'));

  // Each request is then alone in flight, and its record is written at once instead of in a group.
  it('the same with one request at a time', () => crashAndRestart('one-at-a-time', 1));
});
