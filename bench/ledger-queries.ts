/**
 * `npm run bench:ledger [-- --rows 5000000] [-- --fresh] [-- --runs 5]`: usage analytics over a
 * large ledger. Seeds (or reuses) the rows on SQLite (data/bench/ledger-<rows>.db) and on
 * PostgreSQL (DATABASE_URL, schema bench_ledger_<rows>; skipped when unset), runs the rollup job to
 * the end, then times each query kind and writes bench/results/ledger.md. See docs/analytics.md.
 */
import { existsSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import BetterSqlite3 from 'better-sqlite3';
import pg from 'pg';
import { seedLedger } from '../scripts/seed-ledger.js';
import { openRecordStore } from '../src/store/open-store.js';
import type { RecordStore, StoreOptions } from '../src/store/record-store.js';
import { parseUsageQuery } from '../src/usage/analytics/query-spec.js';
import { runUsageQuery, type UsageAnswer } from '../src/usage/analytics/run-query.js';

const ROOT = new URL('..', import.meta.url).pathname;
const HOUR = 3_600_000;

const { values: args } = parseArgs({
  options: {
    rows: { type: 'string', default: '5000000' },
    days: { type: 'string', default: '30' },
    runs: { type: 'string', default: '5' },
    fresh: { type: 'boolean', default: false },
  },
});
const ROWS = Number(args.rows);
const DAYS = Number(args.days);
const RUNS = Number(args.runs);

function log(message: string): void {
  process.stderr.write(`[bench:ledger] ${message}\n`);
}

interface QueryKind {
  name: string;
  /** The admin API query string (relative times count back from the newest row). */
  query: string;
  summary(answer: UsageAnswer): string;
}

const first = (answer: UsageAnswer) => answer.rows[0];
const QUERIES: QueryKind[] = [
  { name: 'group by model, 30 days', query: 'group_by=model&from=30d', summary: (a) => `${a.rows.length} models; top ${first(a)?.group.model} ${first(a)?.values?.requests} requests` },
  { name: 'by team, 1h buckets, 7 days', query: 'group_by=team&from=7d&bucket=1h&measures=requests,total_tokens,cost_usd,p95_latency_ms', summary: (a) => `${a.rows.length} rows` },
  {
    name: 'template compare (7d vs the 7d before)',
    query: 'group_by=template&from=7d&compare_from=14d&compare_to=7d&order=output_tokens_per_request&measures=requests&top=10',
    summary: (a) => `top ${first(a)?.group.template}: ${first(a)?.baseline?.output_tokens_per_request} -> ${first(a)?.current?.output_tokens_per_request} tokens/request (x${first(a)?.change?.ratio})`,
  },
  {
    name: 'top 10 customers by prompt size, 30 days',
    query: 'group_by=customer&from=30d&measures=requests,max_input_tokens,p95_input_tokens&order=p95_input_tokens&top=10',
    summary: (a) => `top ${first(a)?.group.customer}: p95 ${first(a)?.values?.p95_input_tokens}, max ${first(a)?.values?.max_input_tokens}`,
  },
  { name: 'by key, p99 latency, 30 days', query: 'group_by=key&from=30d&measures=requests,cost_usd,p99_latency_ms&order=cost_usd&top=20', summary: (a) => `${a.rows.length} keys` },
  {
    name: 'top 20 conversations by tokens, 24 hours (raw)',
    query: 'group_by=conversation&from=24h&measures=requests,total_tokens,cost_usd,p95_input_tokens&order=total_tokens&top=20',
    summary: (a) => {
      const top = a.rows.find((row) => row.group.conversation !== null);
      return `${a.rows.length} rows (one is "no conversation"); top conversation ${top?.values?.requests} requests, ${top?.values?.total_tokens} tokens`;
    },
  },
  { name: 'one conversation, 30 days (raw, by index)', query: 'group_by=conversation&from=30d&conversation=@CONVERSATION', summary: (a) => `${first(a)?.values?.requests} requests` },
];

interface Timing {
  kind: string;
  medianMs: number;
  maxMs: number;
  sources: string;
  summary: string;
}

interface BackendResult {
  backend: string;
  rows: number;
  seeded: string;
  fold: string;
  timings: Timing[];
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] as number;
}

/** PostgreSQL statistics, as autovacuum keeps them: without them a bulk-loaded table gets poor plans. */
async function analyze(options: StoreOptions & { driver: 'postgres' }): Promise<void> {
  const client = new pg.Client({ connectionString: options.url, ...(options.schema ? { options: `-c search_path="${options.schema}"` } : {}) });
  await client.connect();
  try {
    await client.query('analyze requests');
    await client.query('analyze usage_rollups');
  } finally {
    await client.end();
  }
}

/** The newest row's time and a recent conversation, read with the plain driver. */
async function newestRow(options: StoreOptions): Promise<{ startedMs: number; conversation: string }> {
  const newestSql = 'select max(started_at_ms) as ms from requests';
  const conversationSql = 'select conversation_id as id from requests where conversation_id is not null order by seq desc limit 1';
  if (options.driver === 'sqlite') {
    const file = new BetterSqlite3(options.path, { readonly: true });
    try {
      const newest = file.prepare(newestSql).get() as { ms: number };
      const conversation = file.prepare(conversationSql).get() as { id: string } | undefined;
      return { startedMs: Number(newest.ms), conversation: conversation?.id ?? 'none' };
    } finally {
      file.close();
    }
  }
  const client = new pg.Client({ connectionString: options.url, ...(options.schema ? { options: `-c search_path="${options.schema}"` } : {}) });
  await client.connect();
  try {
    const newest = await client.query<{ ms: string }>(newestSql);
    const conversation = await client.query<{ id: string }>(conversationSql);
    return { startedMs: Number(newest.rows[0]?.ms), conversation: conversation.rows[0]?.id ?? 'none' };
  } finally {
    await client.end();
  }
}

async function runBackend(backend: string, options: StoreOptions, reset: () => Promise<void>): Promise<BackendResult> {
  let store = await openRecordStore(options);
  let count = await store.ledger.countRequests();
  let seeded = `reused ${count.toLocaleString('en-US')} rows`;
  if (args.fresh || count !== ROWS) {
    await store.close();
    await reset();
    log(`${backend}: seeding ${ROWS.toLocaleString('en-US')} rows over ${DAYS} days`);
    const result = await seedLedger({ rows: ROWS, days: DAYS, endMs: Math.floor(Date.now() / HOUR) * HOUR, seed: 7, batch: 10_000, store: options, log });
    seeded = `seeded in ${result.seconds.toFixed(0)} s (${Math.round(result.rows / result.seconds).toLocaleString('en-US')} rows/s)`;
    store = await openRecordStore(options);
    count = await store.ledger.countRequests();
  }
  try {
    log(`${backend}: rollup job`);
    const foldStart = performance.now();
    let folded = 0;
    for (let result = await store.usage.fold({ settleMs: 0 }); ; result = await store.usage.fold({ settleMs: 0 })) {
      folded += result.folded;
      if (!result.pending) break;
    }
    const foldSeconds = (performance.now() - foldStart) / 1000;
    if (options.driver === 'postgres') await analyze(options);
    const fold = folded === 0 ? 'already folded' : `${folded.toLocaleString('en-US')} rows in ${foldSeconds.toFixed(0)} s (${Math.round(folded / foldSeconds).toLocaleString('en-US')} rows/s)`;
    const newest = await newestRow(options);
    // "Now" a little after the newest row, off the hour, as a real clock would be: ranges get raw edges.
    const now = newest.startedMs + 17 * 60_000 + 23_000;
    const timings: Timing[] = [];
    for (const kind of QUERIES) {
      const params = new URLSearchParams(kind.query.replace('@CONVERSATION', encodeURIComponent(newest.conversation)));
      const query = parseUsageQuery(params, { now });
      let answer = await runUsageQuery(store.usage, query);
      const times: number[] = [];
      for (let run = 0; run < RUNS; run += 1) {
        const started = performance.now();
        answer = await runUsageQuery(store.usage, query);
        times.push(performance.now() - started);
      }
      const timing = { kind: kind.name, medianMs: median(times), maxMs: Math.max(...times), sources: answer.sources.join(', '), summary: kind.summary(answer) };
      log(`${backend}: ${timing.kind}: median ${timing.medianMs.toFixed(1)} ms, max ${timing.maxMs.toFixed(1)} ms (${timing.summary})`);
      timings.push(timing);
    }
    return { backend, rows: count, seeded, fold, timings };
  } finally {
    await store.close();
  }
}

function render(results: BackendResult[], seconds: number): string {
  const cpu = cpus();
  const lines = [
    '# Ledger analytics benchmark',
    '',
    `${new Date().toISOString()}, ${seconds.toFixed(0)} s. ${cpu.length} x ${cpu[0]?.model.trim() ?? 'CPU'}, ${Math.round(totalmem() / 2 ** 30)} GB, Node ${process.version}, load average at the end ${loadavg()[0]?.toFixed(1)}.`,
    `Each query: one warm-up, then ${RUNS} timed runs in one process (median and slowest). "Now" is 17 min after the newest row, so ranges have partial hours at both ends. Produced by \`npm run bench:ledger\` (bench/ledger-queries.ts); see docs/analytics.md.`,
    '',
  ];
  for (const result of results) {
    lines.push(`## ${result.backend}: ${result.rows.toLocaleString('en-US')} rows`, '', `Ledger ${result.seeded}; rollup job: ${result.fold}.`, '');
    lines.push('| query | median ms | max ms | answered from | answer |', '|---|---|---|---|---|');
    for (const timing of result.timings) lines.push(`| ${timing.kind} | ${timing.medianMs.toFixed(1)} | ${timing.maxMs.toFixed(1)} | ${timing.sources} | ${timing.summary} |`);
    lines.push('');
  }
  return `${lines.join('\n')}\n`;
}

async function main(): Promise<void> {
  const started = performance.now();
  const results: BackendResult[] = [];
  const dir = join(ROOT, 'data/bench');
  await mkdir(dir, { recursive: true });
  const file = join(dir, `ledger-${ROWS}.db`);
  results.push(
    await runBackend('SQLite', { driver: 'sqlite', path: file }, async () => {
      for (const suffix of ['', '-wal', '-shm']) if (existsSync(`${file}${suffix}`)) await rm(`${file}${suffix}`);
    }),
  );
  const url = process.env.DATABASE_URL;
  if (url) {
    const schema = `bench_ledger_${ROWS}`;
    results.push(
      await runBackend('PostgreSQL', { driver: 'postgres', url, schema }, async () => {
        const client = new pg.Client({ connectionString: url });
        await client.connect();
        await client.query(`drop schema if exists "${schema}" cascade`);
        await client.end();
      }),
    );
  } else {
    log('DATABASE_URL is not set: PostgreSQL skipped');
  }
  const markdown = render(results, (performance.now() - started) / 1000);
  await writeFile(join(ROOT, 'bench/results/ledger.md'), markdown);
  process.stdout.write(markdown);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
