import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import type { CliRun } from '../helpers/cli.js';
import { crashUnderLoad } from '../helpers/ledger-crash.js';

const url = process.env.DATABASE_URL;
const skip = url ? false : 'DATABASE_URL is not set (e.g. postgres://postgres@127.0.0.1:5432/test); skipping the ledger kill -9 test on PostgreSQL';

describe('ledger: kill -9 under load (PostgreSQL store)', { skip }, () => {
  const schema = `bb_crash_${randomBytes(6).toString('hex')}`;
  let dir: string;
  let client: pg.Client;
  const runs: CliRun[] = [];
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'bb-ledger-crash-pg-'));
    client = new pg.Client({ connectionString: url });
    await client.connect();
  });
  after(async () => {
    for (const run of runs) if (run.child.exitCode === null && run.child.signalCode === null) run.child.kill('SIGKILL');
    await client.query(`drop schema if exists "${schema}" cascade`);
    await client.end();
    await rm(dir, { recursive: true, force: true });
  });

  it('completed requests only in the outbox at the kill are replayed at restart: each stored exactly once', async () => {
    const readRows = async () => {
      const result = await client.query<{ id: string; n: string }>(`select request_id as id, count(*) as n from "${schema}".requests group by request_id`);
      return new Map(result.rows.map((row) => [row.id, Number(row.n)]));
    };
    const outcome = await crashUnderLoad(dir, `store: { driver: postgres, url: ${JSON.stringify(url)}, schema: ${schema} }`, readRows, runs);
    console.log(`ledger crash test (PostgreSQL): ${outcome.summary}`);
    assert.ok(outcome.missingBefore > 0, `the kill should leave records in the outbox (${outcome.summary})`);
    assert.deepEqual(outcome.missing, [], `completed requests missing from the ledger (${outcome.summary})`);
    assert.deepEqual(outcome.duplicated, [], 'a request id appears more than once');
    assert.ok(outcome.replayed >= outcome.missingBefore, 'the restart replayed the outbox');
    assert.equal(outcome.secondExit, 0, outcome.secondStderr);
  });
});
