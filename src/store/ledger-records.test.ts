import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ledgerRow } from './ledger.contract.js';
import { LEDGER_COLUMNS, OBJECT_ROW_TEXT_START, parseRowTexts, ROW_TEXT_START, rowFromText, rowToText, UNREADABLE_ROW_CODE, type LedgerRow } from './ledger-records.js';

/** Every column set, with text that JSON must escape, so a round trip shows what it loses. */
function fullRow(): LedgerRow {
  return ledgerRow('req-full', {
    metadata: '{"team":"a \\"b\\""}',
    cost_usd: 0.000125,
    ttft_ms: 12.5,
    rejected_limit: 'tokens_per_minute',
    max_tokens: 256,
    finish_reasons: '["stop"]',
    trace_id: '0af7651916cd43dd8448eb211c80319c',
    request_body: 'héllo \u2028 "quoted" \n',
    response_body: '',
  });
}

describe('ledger row texts', () => {
  it('a row survives its positional text unchanged, and the text holds no keys', () => {
    const row = fullRow();
    const text = rowToText(row);
    assert.ok(text.startsWith(`${ROW_TEXT_START}"req-full"`), text.slice(0, 30));
    assert.deepEqual(rowFromText(text), row);
    assert.equal(JSON.parse(text).length, LEDGER_COLUMNS.length + 1);
    assert.ok(!text.includes('"request_id"'));
    assert.ok(text.length < JSON.stringify(row).length * 0.75, `${text.length} against ${JSON.stringify(row).length}`);
  });

  it('a missing optional field is written as null and read back as null', () => {
    const row = ledgerRow('req-sparse');
    delete row.guards;
    delete row.trace_id;
    const back = rowFromText(rowToText(row));
    assert.equal(back?.guards, null);
    assert.equal(back?.trace_id, null);
    assert.equal(back?.request_id, 'req-sparse');
  });

  it('reads rows written as JSON objects, the format before the positional one', () => {
    const row = fullRow();
    const text = JSON.stringify(row);
    assert.ok(text.startsWith(OBJECT_ROW_TEXT_START));
    assert.deepEqual(rowFromText(text), row);
  });

  it('reads a shorter positional text (columns are only added at the end) with the missing columns absent, for their defaults', () => {
    const values = JSON.parse(rowToText(fullRow())) as unknown[];
    const row = rowFromText(JSON.stringify(values.slice(0, -2)));
    assert.equal(row?.request_id, 'req-full');
    assert.equal(row?.request_body, fullRow().request_body);
    assert.equal('response_body' in (row ?? {}), false);
    assert.equal('cache_hit' in (row ?? {}), false);
  });

  it('refuses what is not a row: wrong tag, no request id, a record, broken JSON', () => {
    for (const bad of ['[]', '["r2","req"]', '["r1",7]', '["r1"]', 'null', '7', '"text"', '{"requestId":"a record"}', '{"request_id":7}', '["r1","cut', 'not json']) {
      assert.equal(rowFromText(bad), undefined, bad);
    }
  });

  it('a batch of texts with one that is not a row fails whole, with the unreadable-row code', () => {
    assert.deepEqual(
      parseRowTexts([rowToText(ledgerRow('a')), JSON.stringify(ledgerRow('b'))]).map((row) => row.request_id),
      ['a', 'b'],
    );
    assert.throws(
      () => parseRowTexts([rowToText(ledgerRow('a')), '["r1",7]']),
      (error: Error & { code?: string }) => error.code === UNREADABLE_ROW_CODE && /row 2 of 2/.test(error.message),
    );
  });
});
