import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, describe, it } from 'node:test';
import {
  RecordConflictError,
  RecordInUseError,
  RecordReferenceError,
  type ApiKeyInput,
  type RecordStore,
} from './record-store.js';
import type { ApiKeyRecord, OrganizationRecord, TeamRecord, UserRecord } from './records.js';
import { describeLedgerContract } from './ledger.contract.js';

/*
 * The behaviour every RecordStore backend must show. Each test opens its own fresh store, so
 * tests are independent and any one can run alone.
 */

interface Seed {
  org: OrganizationRecord;
  team: TeamRecord;
  user: UserRecord;
}

async function seed(store: RecordStore): Promise<Seed> {
  const org = await store.organizations.create({ name: 'acme', metadata: {} });
  const team = await store.teams.create({ orgId: org.id, name: 'search', metadata: {} });
  const user = await store.users.create({ orgId: org.id, teamId: team.id, name: 'ada', role: 'member', metadata: {} });
  return { org, team, user };
}

let hashes = 0;
function keyInput(owner: { ownerType: 'user' | 'team'; ownerId: string }, extra: Partial<ApiKeyInput> = {}): ApiKeyInput {
  hashes += 1;
  return {
    name: `key ${hashes}`,
    keyHash: `hash-${hashes}-${Math.random().toString(16).slice(2)}`,
    displayPrefix: 'bb-test…',
    tags: [],
    metadata: {},
    status: 'enabled',
    ...owner,
    ...extra,
  };
}

function isError(type: new (...args: never[]) => Error, entity: string, detail: string) {
  return (err: unknown): boolean => {
    assert.ok(err instanceof type, `expected ${type.name}, got ${String(err)}`);
    const fields = err as unknown as { entity: string; field?: string; usedBy?: string };
    assert.equal(fields.entity, entity);
    assert.equal(fields.field ?? fields.usedBy, detail);
    // Driver wording must never leak through.
    assert.doesNotMatch(err.message, /constraint|sqlite|duplicate key|violates/i);
    return true;
  };
}
const conflict = (entity: string, field: string) => isError(RecordConflictError, entity, field);
const dangling = (entity: string, field: string) => isError(RecordReferenceError, entity, field);
const inUse = (entity: string, usedBy: string) => isError(RecordInUseError, entity, usedBy);

/** Asserts `action` fails as `check` says and leaves the revision where it was. */
async function rejectsUnchanged(store: RecordStore, action: () => Promise<unknown>, check: (err: unknown) => boolean): Promise<void> {
  const before = await store.revision();
  await assert.rejects(action(), check);
  assert.equal(await store.revision(), before, 'a failed change must not bump the revision');
}

/**
 * Registers the shared suite every backend must pass, so SQLite and PostgreSQL are held to one
 * behaviour. `open` is called once per test and must return a fresh, empty store (the suite
 * closes it); `cleanup` runs once after the suite for what the stores leave behind (files, schemas).
 */
export function describeRecordStoreContract(name: string, open: () => Promise<RecordStore>, cleanup?: () => Promise<void>): void {
  /** A test with its own store, closed afterwards whatever happens. */
  function test(title: string, body: (store: RecordStore) => Promise<void>): void {
    it(title, async () => {
      const store = await open();
      try {
        await body(store);
      } finally {
        await store.close();
      }
    });
  }

  describe(`RecordStore contract: ${name}`, () => {
    if (cleanup) after(cleanup);

    describe('organizations', () => {
      test('create fills id and timestamps; get and list return the same record', async (store) => {
        const org = await store.organizations.create({ name: 'acme', metadata: { tier: 'gold' } });
        assert.match(org.id, /^org_[0-9a-zA-Z]{24}$/);
        assert.equal(org.createdAt, org.updatedAt);
        assert.ok(!Number.isNaN(Date.parse(org.createdAt)));
        assert.deepEqual(await store.organizations.get(org.id), org);
        assert.deepEqual(await store.organizations.list(), [org]);
        assert.equal(await store.organizations.get('org_missing'), undefined);
      });

      test('a given id is kept; list is ordered by creation', async (store) => {
        const first = await store.organizations.create({ id: 'org_first', name: 'one', metadata: {} });
        await sleep(3);
        const second = await store.organizations.create({ id: 'org_a', name: 'two', metadata: {} });
        assert.equal(first.id, 'org_first');
        assert.deepEqual((await store.organizations.list()).map((o) => o.id), ['org_first', 'org_a']);
        assert.deepEqual(second.id, 'org_a');
      });

      test('update changes given fields and bumps updatedAt; unknown id gives undefined', async (store) => {
        const org = await store.organizations.create({ name: 'acme', metadata: { a: 1 } });
        await sleep(3);
        const updated = await store.organizations.update(org.id, { name: 'acme2' });
        assert.equal(updated?.name, 'acme2');
        assert.deepEqual(updated?.metadata, { a: 1 });
        assert.equal(updated?.createdAt, org.createdAt);
        assert.ok(updated !== undefined && updated.updatedAt > org.updatedAt);
        assert.deepEqual(await store.organizations.get(org.id), updated);
        const before = await store.revision();
        assert.equal(await store.organizations.update('org_missing', { name: 'x' }), undefined);
        assert.equal(await store.revision(), before);
      });

      test('delete removes the row once; in use by teams or users it is refused', async (store) => {
        const { org, team, user } = await seed(store);
        await rejectsUnchanged(store, () => store.organizations.delete(org.id), inUse('organization', 'teams'));
        await store.users.update(user.id, { teamId: null });
        assert.equal(await store.teams.delete(team.id), true);
        await rejectsUnchanged(store, () => store.organizations.delete(org.id), inUse('organization', 'users'));
        assert.equal(await store.users.delete(user.id), true);
        assert.equal(await store.organizations.delete(org.id), true);
        assert.equal(await store.organizations.get(org.id), undefined);
        const before = await store.revision();
        assert.equal(await store.organizations.delete(org.id), false);
        assert.equal(await store.revision(), before);
      });
    });

    describe('teams', () => {
      test('create, get, list, update, delete', async (store) => {
        const org = await store.organizations.create({ name: 'acme', metadata: {} });
        const team = await store.teams.create({ orgId: org.id, name: 'search', plan: 'pro', models: ['gpt-4o'], metadata: {} });
        assert.match(team.id, /^team_[0-9a-zA-Z]{24}$/);
        assert.deepEqual(await store.teams.get(team.id), team);
        assert.deepEqual(await store.teams.list(), [team]);
        const updated = await store.teams.update(team.id, { endpoints: ['chat'] });
        assert.deepEqual(updated?.endpoints, ['chat']);
        assert.deepEqual(updated?.models, ['gpt-4o']);
        assert.equal(await store.teams.delete(team.id), true);
        assert.deepEqual(await store.teams.list(), []);
      });

      test('patch: undefined leaves a field, null clears it', async (store) => {
        const org = await store.organizations.create({ name: 'acme', metadata: {} });
        const team = await store.teams.create({ orgId: org.id, name: 't', plan: 'pro', models: ['a'], endpoints: ['chat'], metadata: { k: 'v' } });
        const updated = await store.teams.update(team.id, { plan: null, models: undefined, endpoints: null });
        const stored = await store.teams.get(team.id);
        assert.deepEqual(stored, updated);
        assert.equal(stored?.plan, undefined);
        assert.ok(stored !== undefined && !('plan' in stored) && !('endpoints' in stored), 'cleared fields are absent, not null');
        assert.deepEqual(stored?.models, ['a']);
        assert.deepEqual(stored?.metadata, { k: 'v' });
      });

      test('the organization must exist, on create and on update', async (store) => {
        const { team } = await seed(store);
        await rejectsUnchanged(store, () => store.teams.create({ orgId: 'org_missing', name: 'x', metadata: {} }), dangling('team', 'orgId'));
        await rejectsUnchanged(store, () => store.teams.update(team.id, { orgId: 'org_missing' }), dangling('team', 'orgId'));
        assert.equal((await store.teams.list()).length, 1);
      });

      test('delete is refused while users or keys belong to the team', async (store) => {
        const { team, user } = await seed(store);
        await rejectsUnchanged(store, () => store.teams.delete(team.id), inUse('team', 'users'));
        await store.users.update(user.id, { teamId: null });
        const key = await store.apiKeys.create(keyInput({ ownerType: 'team', ownerId: team.id }));
        await rejectsUnchanged(store, () => store.teams.delete(team.id), inUse('team', 'api keys'));
        await store.apiKeys.delete(key.id);
        assert.equal(await store.teams.delete(team.id), true);
      });
    });

    describe('users', () => {
      test('create, get, list, update, delete', async (store) => {
        const { org, team, user } = await seed(store);
        assert.match(user.id, /^user_[0-9a-zA-Z]{24}$/);
        assert.equal(user.teamId, team.id);
        assert.deepEqual(await store.users.get(user.id), user);
        const loner = await store.users.create({ orgId: org.id, name: 'bob', role: 'viewer', models: [], metadata: {} });
        assert.equal(loner.teamId, undefined);
        assert.deepEqual((await store.users.list()).map((u) => u.id).sort(), [user.id, loner.id].sort());
        const updated = await store.users.update(user.id, { role: 'admin', teamId: null, plan: 'pro' });
        assert.equal(updated?.role, 'admin');
        assert.equal(updated?.teamId, undefined);
        assert.equal(updated?.plan, 'pro');
        assert.equal(await store.users.delete(loner.id), true);
        assert.equal(await store.users.get(loner.id), undefined);
      });

      test('organization and team must exist', async (store) => {
        const { org, user } = await seed(store);
        await rejectsUnchanged(store, () => store.users.create({ orgId: 'org_x', name: 'x', role: 'member', metadata: {} }), dangling('user', 'orgId'));
        await rejectsUnchanged(store, () => store.users.create({ orgId: org.id, teamId: 'team_x', name: 'x', role: 'member', metadata: {} }), dangling('user', 'teamId'));
        await rejectsUnchanged(store, () => store.users.update(user.id, { teamId: 'team_x' }), dangling('user', 'teamId'));
        await rejectsUnchanged(store, () => store.users.update(user.id, { orgId: 'org_x' }), dangling('user', 'orgId'));
      });

      test('delete is refused while the user owns keys', async (store) => {
        const { user } = await seed(store);
        const key = await store.apiKeys.create(keyInput({ ownerType: 'user', ownerId: user.id }));
        await rejectsUnchanged(store, () => store.users.delete(user.id), inUse('user', 'api keys'));
        assert.equal(await store.apiKeys.delete(key.id), true);
        assert.equal(await store.users.delete(user.id), true);
      });
    });

    describe('plans', () => {
      test('create, get, list, update, delete by name', async (store) => {
        const plan = await store.plans.create({ name: 'pro', spec: { limits: { rpm: 60 }, degradeTo: 'mini' } });
        assert.deepEqual(await store.plans.get('pro'), plan);
        assert.deepEqual(await store.plans.list(), [plan]);
        const updated = await store.plans.update('pro', { spec: { limits: { rpm: 120 } } });
        assert.deepEqual(updated?.spec, { limits: { rpm: 120 } });
        assert.equal(await store.plans.update('nope', { spec: {} }), undefined);
        assert.equal(await store.plans.delete('pro'), true);
        assert.equal(await store.plans.delete('pro'), false);
      });

      test('delete or rename is refused while a team, user, key or customer names the plan', async (store) => {
        const { team, user } = await seed(store);
        await store.plans.create({ name: 'pro', spec: {} });
        await store.teams.update(team.id, { plan: 'pro' });
        await rejectsUnchanged(store, () => store.plans.delete('pro'), inUse('plan', 'teams'));
        await rejectsUnchanged(store, () => store.plans.update('pro', { name: 'pro2' }), inUse('plan', 'teams'));
        await store.teams.update(team.id, { plan: null });
        await store.users.update(user.id, { plan: 'pro' });
        await rejectsUnchanged(store, () => store.plans.delete('pro'), inUse('plan', 'users'));
        await store.users.update(user.id, { plan: null });
        const key = await store.apiKeys.create(keyInput({ ownerType: 'user', ownerId: user.id }, { plan: 'pro' }));
        await rejectsUnchanged(store, () => store.plans.delete('pro'), inUse('plan', 'api keys'));
        await store.apiKeys.delete(key.id);
        await store.customers.create({ id: 'cus_1', plan: 'pro', blocked: false, metadata: {} });
        await rejectsUnchanged(store, () => store.plans.delete('pro'), inUse('plan', 'customers'));
        await store.customers.delete('cus_1');
        assert.equal((await store.plans.update('pro', { name: 'pro2' }))?.name, 'pro2');
        assert.equal(await store.plans.delete('pro2'), true);
      });
    });

    describe('customers', () => {
      test('create, get, list, update (boolean round trip), delete', async (store) => {
        const customer = await store.customers.create({ id: 'cus_42', blocked: false, metadata: { email: 'a@b.c' } });
        assert.equal(customer.blocked, false);
        assert.deepEqual(await store.customers.get('cus_42'), customer);
        assert.deepEqual(await store.customers.list(), [customer]);
        const updated = await store.customers.update('cus_42', { blocked: true, plan: 'free' });
        assert.equal(updated?.blocked, true);
        assert.deepEqual(await store.customers.get('cus_42'), updated);
        assert.equal((await store.customers.update('cus_42', { plan: null }))?.plan, undefined);
        assert.equal(await store.customers.delete('cus_42'), true);
        assert.equal(await store.customers.get('cus_42'), undefined);
      });
    });

    describe('api keys', () => {
      test('create, get, findByHash, list, update, delete', async (store) => {
        const { team, user } = await seed(store);
        const key = await store.apiKeys.create(keyInput({ ownerType: 'user', ownerId: user.id }, { createdBy: 'admin-key' }));
        assert.match(key.id, /^key_[0-9a-zA-Z]{24}$/);
        assert.deepEqual(await store.apiKeys.get(key.id), key);
        assert.deepEqual(await store.apiKeys.findByHash(key.keyHash), key);
        assert.equal(await store.apiKeys.findByHash('no-such-hash'), undefined);
        const teamKey = await store.apiKeys.create(keyInput({ ownerType: 'team', ownerId: team.id }));
        assert.equal((await store.apiKeys.list()).length, 2);
        const revokedAt = new Date().toISOString();
        const revoked = await store.apiKeys.update(key.id, { status: 'revoked', revokedAt });
        assert.equal(revoked?.status, 'revoked');
        assert.equal(revoked?.revokedAt, revokedAt);
        assert.equal(await store.apiKeys.delete(teamKey.id), true);
        assert.deepEqual(await store.apiKeys.list(), [revoked]);
      });

      test('the owner must exist, on create and on update', async (store) => {
        const { team, user } = await seed(store);
        await rejectsUnchanged(store, () => store.apiKeys.create(keyInput({ ownerType: 'user', ownerId: 'user_x' })), dangling('api key', 'ownerId'));
        // A team id is not a user id: the type picks the table.
        await rejectsUnchanged(store, () => store.apiKeys.create(keyInput({ ownerType: 'user', ownerId: team.id })), dangling('api key', 'ownerId'));
        const key = await store.apiKeys.create(keyInput({ ownerType: 'user', ownerId: user.id }));
        await rejectsUnchanged(store, () => store.apiKeys.update(key.id, { ownerType: 'team' }), dangling('api key', 'ownerId'));
        assert.equal((await store.apiKeys.update(key.id, { ownerType: 'team', ownerId: team.id }))?.ownerType, 'team');
        assert.equal(await store.apiKeys.update('key_missing', { ownerId: user.id }), undefined);
      });

      test('rotate inserts the replacement and shortens, never lengthens, the old expiry', async (store) => {
        const { user } = await seed(store);
        const owner = { ownerType: 'user', ownerId: user.id } as const;
        const soon = '2030-01-01T00:00:00.000Z';
        const later = '2031-01-01T00:00:00.000Z';
        const open = await store.apiKeys.create(keyInput(owner));
        const before = await store.revision();
        const next = await store.apiKeys.rotate(open.id, keyInput(owner, { rotatedFrom: 'ignored' }), soon);
        assert.equal(await store.revision(), before + 1);
        assert.ok(next !== undefined);
        assert.equal(next.rotatedFrom, open.id);
        assert.deepEqual(await store.apiKeys.get(next.id), next);
        assert.equal((await store.apiKeys.get(open.id))?.expiresAt, soon);
        await store.apiKeys.rotate(open.id, keyInput(owner), later);
        assert.equal((await store.apiKeys.get(open.id))?.expiresAt, soon, 'a later expiry must not lengthen the old key');
        const bounded = await store.apiKeys.create(keyInput(owner, { expiresAt: later }));
        await store.apiKeys.rotate(bounded.id, keyInput(owner), soon);
        assert.equal((await store.apiKeys.get(bounded.id))?.expiresAt, soon);
      });

      test('rotate of an unknown key inserts nothing; a failed rotate leaves the old key alone', async (store) => {
        const { user } = await seed(store);
        const owner = { ownerType: 'user', ownerId: user.id } as const;
        const before = await store.revision();
        assert.equal(await store.apiKeys.rotate('key_missing', keyInput(owner), '2030-01-01T00:00:00.000Z'), undefined);
        assert.equal(await store.revision(), before);
        assert.deepEqual(await store.apiKeys.list(), []);
        const old = await store.apiKeys.create(keyInput(owner));
        await rejectsUnchanged(store, () => store.apiKeys.rotate(old.id, keyInput(owner, { keyHash: old.keyHash }), '2030-01-01T00:00:00.000Z'), conflict('api key', 'keyHash'));
        assert.deepEqual(await store.apiKeys.list(), [old]);
      });
    });

    describe('conflicts', () => {
      test('duplicate names, hashes and ids are RecordConflictError and change nothing', async (store) => {
        const { org, team, user } = await seed(store);
        await rejectsUnchanged(store, () => store.organizations.create({ name: org.name, metadata: {} }), conflict('organization', 'name'));
        await rejectsUnchanged(store, () => store.organizations.create({ id: org.id, name: 'other', metadata: {} }), conflict('organization', 'id'));
        await rejectsUnchanged(store, () => store.teams.create({ orgId: org.id, name: team.name, metadata: {} }), conflict('team', 'name'));
        await rejectsUnchanged(store, () => store.users.create({ orgId: org.id, name: user.name, role: 'member', metadata: {} }), conflict('user', 'name'));
        const key = await store.apiKeys.create(keyInput({ ownerType: 'user', ownerId: user.id }));
        await rejectsUnchanged(store, () => store.apiKeys.create(keyInput({ ownerType: 'user', ownerId: user.id }, { keyHash: key.keyHash })), conflict('api key', 'keyHash'));
        await store.plans.create({ name: 'pro', spec: {} });
        await rejectsUnchanged(store, () => store.plans.create({ name: 'pro', spec: { other: true } }), conflict('plan', 'name'));
        await store.customers.create({ id: 'cus_1', blocked: false, metadata: {} });
        await rejectsUnchanged(store, () => store.customers.create({ id: 'cus_1', blocked: true, metadata: {} }), conflict('customer', 'id'));
        const snapshot = await store.snapshot();
        assert.deepEqual(
          [snapshot.organizations, snapshot.teams, snapshot.users, snapshot.apiKeys, snapshot.plans, snapshot.customers].map((rows) => rows.length),
          [1, 1, 1, 1, 1, 1],
        );
        assert.deepEqual((await store.plans.get('pro'))?.spec, {});
      });

      test('an update into a taken name is a conflict and leaves the row as it was', async (store) => {
        const { org, team } = await seed(store);
        const other = await store.teams.create({ orgId: org.id, name: 'other', metadata: {} });
        await rejectsUnchanged(store, () => store.teams.update(other.id, { name: team.name }), conflict('team', 'name'));
        assert.deepEqual(await store.teams.get(other.id), other);
      });
    });

    describe('JSON fields', () => {
      test('nested metadata and lists round-trip; empty lists differ from absent ones', async (store) => {
        const metadata = { nested: { deep: [1, 'two', { three: null }], flag: true }, unicode: 'héllo ✓', n: 1.5 };
        const org = await store.organizations.create({ name: 'acme', metadata });
        const team = await store.teams.create({ orgId: org.id, name: 't', models: [], metadata: {} });
        const user = await store.users.create({ orgId: org.id, name: 'u', role: 'member', metadata: {} });
        const key = await store.apiKeys.create(keyInput({ ownerType: 'team', ownerId: team.id }, { tags: ['a', 'b'], endpoints: [] }));
        const snapshot = await store.snapshot();
        for (const read of [await store.organizations.get(org.id), snapshot.organizations[0]]) assert.deepEqual(read?.metadata, metadata);
        const storedTeam = await store.teams.get(team.id);
        assert.deepEqual(storedTeam?.models, []);
        assert.ok(storedTeam !== undefined && !('endpoints' in storedTeam));
        assert.ok(!('models' in ((await store.users.get(user.id)) ?? {})));
        const storedKey = await store.apiKeys.get(key.id);
        assert.deepEqual(storedKey?.tags, ['a', 'b']);
        assert.deepEqual(storedKey?.endpoints, []);
        assert.ok(storedKey !== undefined && !('models' in storedKey) && !('expiresAt' in storedKey));
      });
    });

    describe('revision and snapshot', () => {
      test('every successful change bumps the revision by exactly one', async (store) => {
        let expected = await store.revision();
        const step = async (change: () => Promise<unknown>) => {
          await change();
          expected += 1;
          assert.equal(await store.revision(), expected);
        };
        let org: OrganizationRecord | undefined;
        let key: ApiKeyRecord | undefined;
        await step(async () => (org = await store.organizations.create({ name: 'o', metadata: {} })));
        const orgId = org?.id ?? '';
        await step(() => store.organizations.update(orgId, { metadata: { x: 1 } }));
        await step(() => store.teams.create({ id: 'team_r', orgId, name: 't', metadata: {} }));
        await step(() => store.users.create({ id: 'user_r', orgId, name: 'u', role: 'member', metadata: {} }));
        await step(() => store.plans.create({ name: 'p', spec: {} }));
        await step(() => store.customers.create({ id: 'c', blocked: false, metadata: {} }));
        await step(async () => (key = await store.apiKeys.create(keyInput({ ownerType: 'user', ownerId: 'user_r' }))));
        await step(() => store.apiKeys.rotate(key?.id ?? '', keyInput({ ownerType: 'user', ownerId: 'user_r' }), '2030-01-01T00:00:00.000Z'));
        await step(() => store.customers.delete('c'));
        await step(() => store.plans.delete('p'));
      });

      test('snapshot returns every record with the matching revision', async (store) => {
        const { org, team, user } = await seed(store);
        const plan = await store.plans.create({ name: 'pro', spec: { a: 1 } });
        const customer = await store.customers.create({ id: 'cus_1', blocked: true, metadata: {} });
        const key = await store.apiKeys.create(keyInput({ ownerType: 'user', ownerId: user.id }));
        const snapshot = await store.snapshot();
        assert.deepEqual(snapshot, {
          revision: await store.revision(),
          organizations: [org],
          teams: [team],
          users: [user],
          plans: [plan],
          customers: [customer],
          apiKeys: [key],
        });
        assert.equal(snapshot.revision, 6);
      });

      test('a fresh store is empty at revision 0', async (store) => {
        assert.deepEqual(await store.snapshot(), {
          revision: 0,
          organizations: [],
          teams: [],
          users: [],
          plans: [],
          customers: [],
          apiKeys: [],
        });
      });
    });

    describeLedgerContract(test);
  });
}
