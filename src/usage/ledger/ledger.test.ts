import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { parseConfigText } from '../../config/load.js';
import { publishRequestSettled, recordsDurable } from '../../core/request-record.js';
import { ledgerRow } from '../../store/ledger.contract.js';
import { openRecordStore } from '../../store/open-store.js';
import { startLedger } from './ledger.js';
import { Outbox } from './outbox.js';
import { sampleRecord } from './test-fixtures.js';

const dir = mkdtempSync(join(tmpdir(), 'bb-ledger-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const silent = { info: () => undefined, warn: () => undefined, error: () => undefined };
const config = (yaml: string) => parseConfigText(`auth: { disabled: true }\nproviders: {}\nmodels: {}\nstore: { path: ':memory:' }\n${yaml}`, 'test.yaml');

describe('ledger writer', () => {
  it('writes a group at the end of the turn, or at once for a request alone in flight', async () => {
    const store = await openRecordStore({ driver: 'sqlite', path: ':memory:' });
    const ledger = startLedger(config('ledger: { flush_ms: 60000 }'), store, silent);
    try {
      let written = false;
      publishRequestSettled(sampleRecord('grouped-1'));
      const turn = recordsDurable();
      assert.ok(turn instanceof Promise, 'a settled record waits for its group');
      void turn.then(() => (written = true));
      await Promise.resolve();
      assert.equal(written, false, 'the group is not written within the turn');
      // Alone in flight: what is pending is written before the barrier returns, the group
      // above included, without waiting for the event loop.
      publishRequestSettled(sampleRecord('alone-1'));
      assert.equal(recordsDurable(true), undefined);
      await Promise.resolve();
      assert.equal(written, true, "the earlier record's group was written with it");
      assert.equal(recordsDurable(), undefined, 'nothing is left pending');
      await ledger.flush();
      assert.equal(await store.ledger.countRequests(), 2);
    } finally {
      await ledger.close();
      await store.close();
    }
  });

  it('records settled requests from the channel, skips excluded endpoints, and ships on flush', async () => {
    const store = await openRecordStore({ driver: 'sqlite', path: ':memory:' });
    const ledger = startLedger(config('ledger: { flush_ms: 60000, exclude_endpoints: [health] }'), store, silent);
    try {
      publishRequestSettled(sampleRecord('chat-1', { templateId: 'tpl-a', conversationId: 'conv-1' }));
      publishRequestSettled(sampleRecord('probe-1', { endpoint: 'health', path: '/healthz' }));
      publishRequestSettled(sampleRecord('models-1', { endpoint: 'models', path: '/v1/models' }));
      assert.equal(ledger.queueDepth(), 2, 'the excluded endpoint is not recorded');
      await ledger.flush();
      assert.equal(ledger.queueDepth(), 0);
      assert.equal(await store.ledger.countRequests(), 2);
      const row = await store.ledger.getRequest('chat-1');
      assert.equal(row?.template_id, 'tpl-a');
      assert.equal(row?.conversation_id, 'conv-1');
      assert.equal(await store.ledger.countRequestId('probe-1'), 0);
    } finally {
      await ledger.close();
      await store.close();
    }
  });

  it('close ships what waits and stops listening', async () => {
    const store = await openRecordStore({ driver: 'sqlite', path: ':memory:' });
    const ledger = startLedger(config('ledger: { flush_ms: 60000 }'), store, silent);
    publishRequestSettled(sampleRecord('last-1'));
    await ledger.close();
    publishRequestSettled(sampleRecord('after-close'));
    try {
      assert.equal(await store.ledger.countRequestId('last-1'), 1);
      assert.equal(await store.ledger.countRequestId('after-close'), 0);
    } finally {
      await store.close();
    }
  });

  it('a file outbox keeps what the store did not get until the next start', async () => {
    const outboxPath = join(dir, 'kept.db');
    const storePath = join(dir, 'kept-store.db');
    const settings = config(`ledger: { flush_ms: 60000, close_timeout_ms: 100, outbox_path: ${JSON.stringify(outboxPath)} }`);
    const first = await openRecordStore({ driver: 'sqlite', path: storePath });
    const ledger = startLedger(settings, first, silent);
    publishRequestSettled(sampleRecord('kept-1'));
    // The store goes away before the ledger could ship: the record must stay in the outbox.
    await first.close();
    await ledger.close();
    const outbox = Outbox.open(outboxPath);
    assert.equal(outbox.depth(), 1);
    outbox.close();
    const store = await openRecordStore({ driver: 'sqlite', path: storePath });
    const again = startLedger(settings, store, silent);
    try {
      await again.flush();
      assert.equal(await store.ledger.countRequestId('kept-1'), 1);
    } finally {
      await again.close();
      await store.close();
    }
  });

  it('retention deletes rows older than retention_days at start; 0 keeps them', async () => {
    const store = await openRecordStore({ driver: 'sqlite', path: ':memory:' });
    const day = 86_400_000;
    await store.ledger.insertRequests([
      ledgerRow('ancient', { started_at_ms: Date.now() - 400 * day }),
      ledgerRow('old', { started_at_ms: Date.now() - 31 * day }),
      ledgerRow('recent', { started_at_ms: Date.now() - 29 * day }),
    ]);
    const keepAll = startLedger(config('ledger: { retention_days: 0 }'), store, silent);
    await keepAll.close();
    assert.equal(await store.ledger.countRequests(), 3);
    const ledger = startLedger(config('ledger: { retention_days: 30 }'), store, silent);
    try {
      const deadline = Date.now() + 5_000;
      while ((await store.ledger.countRequests()) !== 1 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
      assert.equal(await store.ledger.countRequestId('recent'), 1);
      assert.equal(await store.ledger.countRequests(), 1);
    } finally {
      await ledger.close();
      await store.close();
    }
  });

  it('disabled: nothing is recorded', async () => {
    const store = await openRecordStore({ driver: 'sqlite', path: ':memory:' });
    const ledger = startLedger(config('ledger: { enabled: false }'), store, silent);
    publishRequestSettled(sampleRecord('off-1'));
    await ledger.flush();
    await ledger.close();
    try {
      assert.equal(await store.ledger.countRequests(), 0);
    } finally {
      await store.close();
    }
  });
});
