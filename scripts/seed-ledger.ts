/**
 * Fills the ledger's `requests` table with realistic made-up traffic, for the analytics benchmark
 * and for trying `breakerbox usage` on a large ledger (docs/analytics.md).
 *
 *   npm run seed:ledger -- --rows 5000000 --sqlite data/ledger-bench.db
 *   npm run seed:ledger -- --rows 5000000 --postgres postgres://postgres@127.0.0.1:5432/test [--schema bench]
 *   npm run seed:ledger -- --rows 100000 --config examples/quickstart.yaml
 *
 * Options: --days (default 30) of traffic ending --end (ISO, default the current hour), --seed for
 * the random generator, --batch rows per statement group. Rows are appended; request ids carry a
 * per-run prefix so seeding twice never collides.
 */
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import BetterSqlite3 from 'better-sqlite3';
import pg from 'pg';
import type { LedgerRow } from '../src/store/ledger-records.js';
import { openRecordStore } from '../src/store/open-store.js';
import type { StoreOptions } from '../src/store/record-store.js';
import { LedgerGenerator } from './seed-ledger-data.js';

/** PostgreSQL types of the numeric columns (unnest needs typed arrays); every other column is text. */
const PG_TYPES: Partial<Record<keyof LedgerRow, string>> = {
  started_at_ms: 'bigint',
  status: 'integer',
  stream: 'integer',
  input_tokens: 'integer',
  output_tokens: 'integer',
  cached_tokens: 'integer',
  reasoning_tokens: 'integer',
  cache_creation_tokens: 'integer',
  usage_estimated: 'integer',
  usage_incomplete: 'integer',
  attempt_count: 'integer',
  cache_hit: 'integer',
  cost_usd: 'double precision',
  total_ms: 'double precision',
  ttft_ms: 'double precision',
  upstream_ms: 'double precision',
  overhead_ms: 'double precision',
};

export interface SeedOptions {
  rows: number;
  days: number;
  endMs: number;
  seed: number;
  batch: number;
  store: StoreOptions;
  log?: (line: string) => void;
}

/** Appends `rows` generated rows; resolves to the rows per second achieved. */
export async function seedLedger(options: SeedOptions): Promise<{ rows: number; seconds: number }> {
  // Opening the store runs the migrations, so the table exists in the shape the gateway uses.
  const store = await openRecordStore(options.store);
  await store.close();
  const generator = new LedgerGenerator({ rows: options.rows, days: options.days, endMs: options.endMs, seed: options.seed, runId: randomBytes(4).toString('hex') });
  const started = performance.now();
  const insert = options.store.driver === 'sqlite' ? await sqliteInserter(options.store.path) : await postgresInserter(options.store.url, options.store.schema);
  let done = 0;
  let lastLog = started;
  try {
    for (;;) {
      const batch = generator.next(options.batch);
      if (batch.length === 0) break;
      await insert.write(batch);
      done += batch.length;
      if (performance.now() - lastLog > 5_000) {
        lastLog = performance.now();
        options.log?.(`  ${done.toLocaleString('en-US')} rows (${Math.round(done / ((lastLog - started) / 1000)).toLocaleString('en-US')}/s)`);
      }
    }
  } finally {
    await insert.close();
  }
  return { rows: done, seconds: (performance.now() - started) / 1000 };
}

interface Inserter {
  write(rows: LedgerRow[]): Promise<void>;
  close(): Promise<void>;
}

/** Multi-row INSERTs of 200 rows, one transaction per batch, straight through better-sqlite3. */
async function sqliteInserter(path: string): Promise<Inserter> {
  const file = new BetterSqlite3(path);
  file.pragma('busy_timeout = 10000');
  file.pragma('journal_mode = WAL');
  // Bulk load: a crash mid-seed loses only seed rows.
  file.pragma('synchronous = OFF');
  file.pragma('cache_size = -262144');
  const statements = new Map<number, BetterSqlite3.Statement>();
  let columns: string[] | undefined;
  const statement = (count: number) => {
    let found = statements.get(count);
    if (!found) {
      const row = `(${(columns as string[]).map(() => '?').join(',')})`;
      found = file.prepare(`insert into requests (${(columns as string[]).join(',')}) values ${Array.from({ length: count }, () => row).join(',')}`);
      statements.set(count, found);
    }
    return found;
  };
  const PER_STATEMENT = 200;
  const write = file.transaction((rows: LedgerRow[]) => {
    for (let start = 0; start < rows.length; start += PER_STATEMENT) {
      const slice = rows.slice(start, start + PER_STATEMENT);
      const params: unknown[] = [];
      for (const row of slice) for (const column of columns as string[]) params.push(row[column as keyof LedgerRow]);
      statement(slice.length).run(params);
    }
  });
  return {
    async write(rows) {
      columns ??= Object.keys(rows[0] as LedgerRow);
      write(rows);
    },
    async close() {
      file.close();
    },
  };
}

/** One INSERT ... SELECT FROM unnest(typed arrays) per batch: one round trip, no per-row parameters. */
async function postgresInserter(url: string, schema: string | undefined): Promise<Inserter> {
  const client = new pg.Client({ connectionString: url, ...(schema ? { options: `-c search_path="${schema}"` } : {}) });
  await client.connect();
  await client.query('set synchronous_commit = off');
  return {
    async write(rows) {
      const columns = Object.keys(rows[0] as LedgerRow) as Array<keyof LedgerRow>;
      const arrays = columns.map((column) => rows.map((row) => row[column]));
      const casts = columns.map((column, index) => `$${index + 1}::${PG_TYPES[column] ?? 'text'}[]`);
      await client.query(`insert into requests (${columns.join(',')}) select * from unnest(${casts.join(',')})`, arrays);
    },
    async close() {
      // Fresh statistics, as autovacuum would gather soon after a bulk load: plans depend on them.
      await client.query('analyze requests');
      await client.end();
    },
  };
}

async function storeFromConfig(path: string): Promise<StoreOptions> {
  const { loadConfigFile } = await import('../src/config/load.js');
  const config = await loadConfigFile(path);
  const store = config.store;
  if (store.driver === 'postgres') return { driver: 'postgres', url: store.url as string, schema: store.schema };
  if (store.path === ':memory:') throw new Error(`${path}: store.path is ':memory:'; nothing to seed`);
  return { driver: 'sqlite', path: store.path };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      rows: { type: 'string', default: '100000' },
      days: { type: 'string', default: '30' },
      end: { type: 'string' },
      seed: { type: 'string', default: '7' },
      batch: { type: 'string', default: '10000' },
      config: { type: 'string' },
      sqlite: { type: 'string' },
      postgres: { type: 'string' },
      schema: { type: 'string' },
    },
  });
  const targets = [values.config, values.sqlite, values.postgres].filter((value) => value !== undefined);
  if (targets.length !== 1) throw new Error('give exactly one of --config <file>, --sqlite <path>, --postgres <url>');
  const store: StoreOptions = values.config
    ? await storeFromConfig(values.config)
    : values.sqlite
      ? { driver: 'sqlite', path: values.sqlite }
      : { driver: 'postgres', url: values.postgres as string, schema: values.schema };
  const hour = 3_600_000;
  const endMs = values.end ? Date.parse(values.end) : Math.floor(Date.now() / hour) * hour;
  if (!Number.isFinite(endMs)) throw new Error('--end must be an ISO date or time');
  const rows = Number(values.rows);
  console.log(`seeding ${rows.toLocaleString('en-US')} ledger rows over ${values.days} days into ${store.driver}`);
  const result = await seedLedger({ rows, days: Number(values.days), endMs, seed: Number(values.seed), batch: Number(values.batch), store, log: console.log });
  console.log(`done: ${result.rows.toLocaleString('en-US')} rows in ${result.seconds.toFixed(1)} s (${Math.round(result.rows / result.seconds).toLocaleString('en-US')} rows/s)`);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  main().catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exitCode = 1;
  });
}
