import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { publishRequestSettled, type RequestRecord } from '../core/request-record.js';
import { sampleRequestRecord } from '../core/request-record-sample.js';
import type { AuditEntryInput } from '../store/audit-records.js';
import type { RecordStore } from '../store/record-store.js';
import { openRecordStore } from '../store/open-store.js';
import { describeAdminAction } from './admin-actions.js';
import { startAudit } from './audit-writer.js';
import { recordGuardAction } from './guard-actions.js';

let ids = 0;
function record(overrides: Partial<RequestRecord>): RequestRecord {
  ids += 1;
  return sampleRequestRecord({
    requestId: `req-${ids}`,
    startedAt: 1_700_000_000_000 + ids,
    keyName: 'ci',
    principal: { source: 'virtual-key', keyId: 'key_1', displayPrefix: 'bb-abcd…', user: 'ada', team: 'finance', plan: 'free' },
    ...overrides,
  });
}

const denied = (rule = "access rule 'x'") => record({ status: 403, errorCode: 'BB_ACCESS_DENIED', access: { decision: 'deny', rule }, requestedModel: 'premium' });
const limited = (overrides: Partial<RequestRecord> = {}) => record({ status: 429, errorCode: 'BB_RATE_LIMITED', ...overrides });

/** A store whose audit.append records batches (and fails while `failing` is set). */
function fakeStore() {
  const batches: AuditEntryInput[][] = [];
  const state = { failing: false };
  const store = {
    audit: {
      async append(entries: readonly AuditEntryInput[]) {
        if (state.failing) throw new Error('database is down');
        batches.push([...entries]);
        return [];
      },
    },
  } as unknown as RecordStore;
  return { store, batches, state };
}

const config = { denials: true, flush_ms: 60_000, max_pending: 100 };

describe('audit writer', () => {
  it('turns denials into entries, folding repeats of the same refusal into one with a count', async () => {
    const { store, batches } = fakeStore();
    const audit = startAudit({ store, config });
    try {
      publishRequestSettled(record({}));
      publishRequestSettled(denied());
      for (let i = 0; i < 3; i += 1) publishRequestSettled(limited());
      publishRequestSettled(limited({ requestedModel: 'other' }));
      publishRequestSettled(record({ status: 200, errorCode: 'BB_BUDGET_EXCEEDED', servedModel: 'mock-1' }));
      assert.equal(audit.pending(), 4);
      await audit.flush();
      const [batch] = batches;
      assert.deepEqual(batch?.map((e) => [e.action, e.targetId, e.details.count]), [
        ['access.deny', 'premium', 1],
        ['limits.refuse', 'demo', 3],
        ['limits.refuse', 'other', 1],
        ['limits.cut', 'demo', 1],
      ]);
      const refusal = batch?.[1] as AuditEntryInput;
      assert.deepEqual(refusal.actor, { key_id: 'key_1', source: 'virtual-key', display_prefix: 'bb-abcd…', key_name: 'ci', user: 'ada', team: 'finance' });
      assert.equal(refusal.kind, 'denial');
      assert.equal((refusal.details.request_ids as string[]).length, 3);
      assert.equal(refusal.details.error_code, 'BB_RATE_LIMITED');
      assert.equal(refusal.details.plan, 'free');
      assert.equal(typeof refusal.details.last_at_ms, 'number');
      assert.equal(batch?.[0]?.details.rule, "access rule 'x'");
      assert.equal(audit.pending(), 0);
    } finally {
      await audit.close();
    }
  });

  it('is bounded: past max_pending it counts and logs an overflow entry', async () => {
    const { store, batches } = fakeStore();
    const audit = startAudit({ store, config: { ...config, max_pending: 2 } });
    try {
      for (const model of ['a', 'b', 'c', 'd', 'c']) publishRequestSettled(limited({ requestedModel: model }));
      await audit.flush();
      assert.deepEqual(batches[0]?.map((e) => e.action), ['limits.refuse', 'limits.refuse', 'audit.overflow']);
      assert.deepEqual(batches[0]?.[2]?.details, { dropped_events: 3, max_pending: 2 });
    } finally {
      await audit.close();
    }
  });

  it('keeps a batch the store refused and appends it on a later flush, warning once', async () => {
    const { store, batches, state } = fakeStore();
    const logged: string[] = [];
    const audit = startAudit({ store, config, log: { warn: (m) => logged.push(`warn ${m}`), info: (m) => logged.push(`info ${m}`) } });
    try {
      state.failing = true;
      publishRequestSettled(denied('r1'));
      await audit.flush();
      publishRequestSettled(denied('r2'));
      await audit.flush();
      assert.equal(audit.pending(), 2);
      state.failing = false;
      await audit.flush();
      assert.deepEqual(batches[0]?.map((e) => e.details.rule), ['r1', 'r2']);
      assert.equal(logged.length, 2);
      assert.match(logged[0] as string, /^warn audit log: cannot append 1 entries \(database is down\)/);
      assert.match(logged[1] as string, /^info audit log: appending again/);
    } finally {
      await audit.close();
    }
  });

  it('records guard actions through recordGuardAction, and appends what is left on close', async () => {
    const { store, batches } = fakeStore();
    const audit = startAudit({ store, config });
    recordGuardAction({ guard: 'pii', action: 'redact', requestId: 'req-g', model: 'demo', entity: 'email', details: { found: 2 }, principal: { source: 'static-key', keyId: 'static:ci', displayPrefix: 'bb-ci…' } });
    await audit.close();
    assert.deepEqual(batches[0]?.[0], {
      atMs: batches[0]?.[0]?.atMs,
      kind: 'guardrail',
      actor: { key_id: 'static:ci', source: 'static-key', display_prefix: 'bb-ci…' },
      action: 'guard.redact',
      targetType: 'model',
      targetId: 'demo',
      details: { found: 2, entity: 'email', guard: 'pii', count: 1, request_ids: ['req-g'] },
    });
    // Closed: no longer listening.
    publishRequestSettled(denied());
    assert.equal(audit.pending(), 0);
  });

  it('records the guardrail decisions a settled request carries', async () => {
    const { store, batches } = fakeStore();
    const audit = startAudit({ store, config });
    const guards = [
      { guard: 'pii', entity: 'email', action: 'mask', where: 'input', trust: 'external' },
      { guard: 'injection', action: 'block', where: 'input' },
    ];
    const guarded = record({ status: 400, errorCode: 'BB_GUARDRAIL_BLOCKED', guards } as Partial<RequestRecord>);
    publishRequestSettled(guarded);
    publishRequestSettled(record({ guards: [] } as Partial<RequestRecord>));
    await audit.close();
    assert.deepEqual(batches[0]?.map((e) => [e.kind, e.action, e.targetId, e.details]), [
      ['guardrail', 'guard.mask', 'demo', { guard: 'pii', endpoint: 'chat', entity: 'email', where: 'input', trust: 'external', error_code: 'BB_GUARDRAIL_BLOCKED', count: 1, request_ids: [guarded.requestId] }],
      ['guardrail', 'guard.block', 'demo', { guard: 'injection', endpoint: 'chat', where: 'input', error_code: 'BB_GUARDRAIL_BLOCKED', count: 1, request_ids: [guarded.requestId] }],
    ]);
  });

  it('with denials off, listens to nothing', async () => {
    const { store, batches } = fakeStore();
    const audit = startAudit({ store, config: { ...config, denials: false } });
    publishRequestSettled(denied());
    await audit.close();
    assert.equal(batches.length, 0);
  });

  it('appends through a real store into one verifiable chain', async () => {
    const store = await openRecordStore({ driver: 'sqlite', path: ':memory:' });
    const audit = startAudit({ store, config: { ...config, flush_ms: 10 } });
    try {
      publishRequestSettled(denied());
      publishRequestSettled(limited());
      const deadline = Date.now() + 5_000;
      while ((await store.audit.head()).seq < 2 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 5));
      const result = await store.audit.verify();
      assert.equal(result.ok, true);
      assert.equal(result.checked, 2);
    } finally {
      await audit.close();
      await store.close();
    }
  });
});

describe('admin action descriptions', () => {
  it('names the action and target and keeps entitlement values, never free text or a secret', () => {
    const created = describeAdminAction({
      method: 'POST',
      path: '/keys',
      params: {},
      body: { name: 'ci', owner: { type: 'team', id: 'team_1' }, metadata: { password: 'hunter2' }, tags: ['t'], plan: undefined },
      result: { id: 'key_9', display_prefix: 'bb-Xy12…', key: 'bb-Xy12SECRETSECRET' },
    });
    assert.deepEqual(created, {
      action: 'keys.create',
      targetType: 'key',
      targetId: 'key_9',
      details: { fields: ['metadata', 'name', 'owner', 'tags'], values: { name: 'ci', owner: { id: 'team_1', type: 'team' } }, display_prefix: 'bb-Xy12…' },
    });
    assert.ok(!JSON.stringify(created).includes('SECRET') && !JSON.stringify(created).includes('hunter2'));
    const rotated = describeAdminAction({ method: 'POST', path: '/keys/{id}/rotate', params: { id: 'key_1' }, body: { grace_s: 60 }, result: { id: 'key_2', display_prefix: 'bb-new…', key: 'bb-newSECRET' } });
    assert.deepEqual(rotated, { action: 'keys.rotate', targetType: 'key', targetId: 'key_1', details: { fields: ['grace_s'], values: { grace_s: 60 }, new_id: 'key_2', display_prefix: 'bb-new…' } });
    assert.deepEqual(describeAdminAction({ method: 'DELETE', path: '/plans/{name}', params: { name: 'gold' }, body: undefined }), { action: 'plans.delete', targetType: 'plan', targetId: 'gold', details: {} });
    assert.equal(describeAdminAction({ method: 'PATCH', path: '/customers/{id}', params: { id: 'c1' }, body: { blocked: true } }).action, 'customers.update');
    assert.equal(describeAdminAction({ method: 'POST', path: '/keys/{id}/revoke', params: { id: 'k' }, body: undefined }).action, 'keys.revoke');
  });
});
