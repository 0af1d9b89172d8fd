import assert from 'node:assert/strict';
import { test } from 'node:test';
import { sql } from 'kysely';
import { ledgerRow } from '../ledger.contract.js';
import type { LedgerRow } from '../ledger-records.js';
import { openSqlite } from './open-sqlite.js';
import { SqliteLedgerRepository } from './sqlite-ledger-repository.js';

test('a row from before the optional columns existed stores their defaults', async () => {
  const { db, file } = await openSqlite(':memory:');
  try {
    const ledger = new SqliteLedgerRepository(db, file);
    const { guards, rejected_limit, max_tokens, finish_reasons, trace_id, request_body, response_body, ...old } = ledgerRow('req-old');
    assert.equal(await ledger.insertRequests([old as LedgerRow]), 1);
    const stored = await ledger.getRequest('req-old');
    assert.equal(stored?.guards, '[]');
    assert.equal(stored?.max_tokens, null);
    assert.equal(stored?.trace_id, null);
    assert.equal(stored?.team_name, 'search');
    void [guards, rejected_limit, max_tokens, finish_reasons, trace_id, request_body, response_body];
  } finally {
    await db.destroy();
  }
});

test('an insert issued during a query-builder transaction waits for it and is not rolled back with it', async () => {
  const { db, file } = await openSqlite(':memory:');
  try {
    const ledger = new SqliteLedgerRepository(db, file);
    let releaseTransaction: () => void = () => undefined;
    let inserted: Promise<number> | undefined;
    const transaction = db
      .transaction()
      .execute(async (trx) => {
        await sql`insert into requests (request_id, started_at_ms, endpoint, method, path, status, tags, attempts, limit_actions, total_ms) values ('inside', 1, 'chat', 'POST', '/', 200, '[]', '[]', '[]', 1)`.execute(trx);
        inserted = ledger.insertRequests([ledgerRow('req-a'), ledgerRow('req-b')]);
        await new Promise<void>((resolve) => (releaseTransaction = resolve));
        throw new Error('roll back');
      })
      .catch((error: Error) => error.message);
    await new Promise((resolve) => setImmediate(resolve));
    releaseTransaction();
    assert.equal(await transaction, 'roll back');
    assert.equal(await inserted, 2);
    assert.equal(await ledger.countRequestId('inside'), 0);
    assert.equal(await ledger.countRequests(), 2);
  } finally {
    await db.destroy();
  }
});
