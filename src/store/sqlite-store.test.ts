import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import BetterSqlite3 from 'better-sqlite3';
import { openRecordStore } from './open-store.js';
import { describeRecordStoreContract } from './record-store.contract.js';

const execFileAsync = promisify(execFile);

describeRecordStoreContract('sqlite :memory:', () => openRecordStore({ driver: 'sqlite', path: ':memory:' }));

const dirs: string[] = [];
let files = 0;
describeRecordStoreContract(
  'sqlite file',
  async () => {
    const dir = await mkdtemp(join(tmpdir(), 'bb-store-'));
    dirs.push(dir);
    files += 1;
    // A missing parent folder is created by the store.
    return openRecordStore({ driver: 'sqlite', path: join(dir, 'nested', `records-${files}.db`) });
  },
  async () => {
    await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
  },
);

describe('sqlite file store', () => {
  let dir = '';
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'bb-store-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('keeps data across reopen and migrates idempotently', async () => {
    const path = join(dir, 'data', 'records.db');
    const first = await openRecordStore({ driver: 'sqlite', path });
    const org = await first.organizations.create({ name: 'acme', metadata: { a: [1] } });
    await first.close();

    const second = await openRecordStore({ driver: 'sqlite', path });
    try {
      assert.deepEqual(await second.organizations.get(org.id), org);
      assert.equal(await second.revision(), 1);
      assert.equal(second.driver, 'sqlite');
    } finally {
      await second.close();
    }
    const raw = new BetterSqlite3(path, { readonly: true });
    try {
      const names = raw.prepare('select name from kysely_migration order by name').all();
      assert.deepEqual(names, [{ name: '001-identity' }, { name: '002-entity-limits' }, { name: '003-ledger' }, { name: '004-usage-rollups' }, { name: '005-audit' }, { name: '006-ledger-bodies' }], 'each migration applied once');
      assert.equal(raw.pragma('journal_mode', { simple: true }), 'wal');
    } finally {
      raw.close();
    }
  });

  it('two processes open a fresh file at once, write, and see each other through the revision', async () => {
    const path = join(dir, 'shared', 'records.db');
    // Separate processes, as in production: better-sqlite3 blocks its thread while it waits for a lock.
    const child = join(dir, 'writer.mjs');
    await writeFile(
      child,
      `const { openRecordStore } = await import(${JSON.stringify(new URL('./open-store.ts', import.meta.url).href)});
      // Start together, so both migrate the fresh file at the same moment.
      await new Promise((resolve) => setTimeout(resolve, Number(process.argv[4]) - Date.now()));
      const store = await openRecordStore({ driver: 'sqlite', path: process.argv[2] });
      for (let i = 0; i < 20; i++) await store.organizations.create({ name: process.argv[3] + i, metadata: {} });
      await store.close();`,
    );
    const startAt = String(Date.now() + 2_000);
    const run = (prefix: string) => execFileAsync(process.execPath, ['--import', 'tsx', child, path, prefix, startAt], { cwd: fileURLToPath(new URL('../..', import.meta.url)) });
    await Promise.all([run('a'), run('b')]);
    const store = await openRecordStore({ driver: 'sqlite', path });
    try {
      const snapshot = await store.snapshot();
      assert.equal(snapshot.revision, 40);
      assert.equal(snapshot.organizations.length, 40);
    } finally {
      await store.close();
    }
  });
});
