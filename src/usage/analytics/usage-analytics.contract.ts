import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { LedgerRow } from '../../store/ledger-records.js';
import type { RecordStore } from '../../store/record-store.js';
import { parseUsageQuery } from './query-spec.js';
import { runUsageQuery, type UsageAnswer } from './run-query.js';

/**
 * Known-answer checks of the analytics queries, run against SQLite (src/usage/analytics) and
 * PostgreSQL (test/distributed). The ledger holds a dozen hand-made rows over two days whose
 * answers are easy to work out by hand.
 */

export const T0 = Date.UTC(2025, 2, 3);
const MIN = 60_000;
const DAY = 24 * 60 * MIN;

let counter = 0;

/** A ledger row with plain defaults; `at` is minutes after T0. */
export function ledgerRow(at: number, fields: Partial<LedgerRow> = {}): LedgerRow {
  counter += 1;
  return {
    request_id: `req-${counter}-${Math.random().toString(36).slice(2, 8)}`,
    started_at_ms: T0 + at * MIN,
    endpoint: 'chat',
    dialect: 'openai-chat',
    method: 'POST',
    path: '/v1/chat/completions',
    status: 200,
    error_code: null,
    key_source: 'virtual-key',
    key_id: 'key_1',
    key_prefix: 'bb-red…',
    key_name: 'red-app',
    user_name: 'rita',
    team_name: 'red',
    org_id: 'org_default',
    plan: null,
    customer: null,
    requested_model: 'alpha',
    provider: 'mock',
    served_model: 'mock-alpha',
    template_id: null,
    template_version: null,
    conversation_id: null,
    tags: '[]',
    metadata: null,
    stream: 0,
    input_tokens: 100,
    output_tokens: 10,
    cached_tokens: 0,
    reasoning_tokens: 0,
    cache_creation_tokens: 0,
    usage_estimated: 0,
    usage_incomplete: 0,
    cost_usd: 0.5,
    total_ms: 100,
    ttft_ms: null,
    upstream_ms: 90,
    overhead_ms: 1,
    attempt_count: 1,
    attempts: '[]',
    routing: null,
    access: null,
    limit_actions: '[]',
    cache_hit: 0,
    ...fields,
  };
}

const red = { team_name: 'red', requested_model: 'alpha', cost_usd: 0.5 };
const blue = { team_name: 'blue', requested_model: 'beta', key_prefix: 'bb-blue…', key_name: 'blue-app', user_name: 'bob', served_model: 'mock-beta', cost_usd: 1.25 };

/**
 * Day 0 and day 1. tpl-a doubles its output per request from day 0 to day 1 (100 -> 200), tpl-b
 * grows 10% (100 -> 110), tpl-c shrinks (50 -> 40). cust-big sent the largest prompt (50,000).
 */
export function knownRows(): LedgerRow[] {
  return [
    ledgerRow(60, { ...red, template_id: 'tpl-a', template_version: '1', customer: 'cust-small', output_tokens: 100, total_ms: 100, stream: 1, ttft_ms: 40 }),
    ledgerRow(70, { ...red, template_id: 'tpl-a', template_version: '1', customer: 'cust-small', output_tokens: 100, total_ms: 200, stream: 1, ttft_ms: 60 }),
    ledgerRow(130, { ...red, template_id: 'tpl-b', template_version: '1', customer: 'cust-mid', input_tokens: 8000, output_tokens: 100, total_ms: 300 }),
    ledgerRow(190, { ...blue, template_id: 'tpl-c', template_version: '1', customer: 'cust-big', input_tokens: 50_000, output_tokens: 50, total_ms: 400, status: 502, error_code: 'BB_UPSTREAM_ERROR' }),
    ledgerRow(200, { ...blue, template_id: 'tpl-c', template_version: '1', customer: 'cust-mid', input_tokens: 7000, output_tokens: 50, total_ms: 500 }),
    ledgerRow(1500, { ...red, template_id: 'tpl-a', template_version: '2', customer: 'cust-small', output_tokens: 200 }),
    ledgerRow(1510, { ...red, template_id: 'tpl-a', template_version: '2', customer: 'cust-small', output_tokens: 200 }),
    ledgerRow(1520, { ...red, template_id: 'tpl-b', template_version: '1', customer: 'cust-small', output_tokens: 110 }),
    ledgerRow(1530, { ...blue, template_id: 'tpl-c', template_version: '1', customer: 'cust-mid', input_tokens: 6000, output_tokens: 40 }),
    ledgerRow(1540, { ...blue, conversation_id: 'conv-1', input_tokens: 10, output_tokens: 5, cost_usd: null, total_ms: 50 }),
    ledgerRow(1541, { ...blue, conversation_id: 'conv-1', input_tokens: 20, output_tokens: 5, cost_usd: null, total_ms: 50 }),
    ledgerRow(1542, { ...red, conversation_id: 'conv-2', input_tokens: 30, output_tokens: 5, endpoint: 'embeddings' }),
  ];
}

const iso = (ms: number) => new Date(ms).toISOString();
const DAY0 = `from=${iso(T0)}&to=${iso(T0 + DAY)}`;
const DAY1 = `from=${iso(T0 + DAY)}&to=${iso(T0 + 2 * DAY)}`;
const BOTH = `from=${iso(T0)}&to=${iso(T0 + 2 * DAY)}`;

export function ask(store: RecordStore, query: string, scopeTeam?: string): Promise<UsageAnswer> {
  return runUsageQuery(store.usage, parseUsageQuery(new URLSearchParams(query), { now: T0 + 30 * DAY, scopeTeam }));
}

/** The rows of an answer by their group's first value. */
function byGroup(answer: UsageAnswer): Record<string, Record<string, number | null>> {
  return Object.fromEntries(answer.rows.map((row) => [String(Object.values(row.group)[0]), row.values ?? {}]));
}

/** Answers without where they came from, for comparing a rollup answer with a raw one. */
function numbers(answer: UsageAnswer): unknown {
  return answer.rows;
}

export function describeUsageAnalytics(name: string, open: () => Promise<RecordStore>, cleanup?: () => Promise<void>): void {
  describe(`usage analytics (${name})`, () => {
    let store: RecordStore;
    before(async () => {
      store = await open();
      await store.ledger.insertRequests(knownRows());
    });
    after(async () => {
      await store.close();
      await cleanup?.();
    });

    it('answers from unfolded rows before the rollup job ran, then the same from the rollups', async () => {
      const early = await ask(store, `group_by=model&${BOTH}`);
      assert.ok(early.sources.includes('raw:unfolded'), early.sources.join());
      assert.equal(early.rollups.unfolded_rows, 12);
      // Two folds at once: the watermark lock lets one win each chunk; nothing counts twice.
      const results = await Promise.all([store.usage.fold({ settleMs: 0 }), store.usage.fold({ settleMs: 0 })]);
      assert.equal(results[0].folded + results[1].folded, 12);
      const afterFold = await ask(store, `group_by=model&${BOTH}`);
      assert.deepEqual(afterFold.sources, ['rollups:model/day']);
      assert.deepEqual(afterFold.rollups, { watermark: afterFold.rollups.watermark, unfolded_rows: 0, unfolded_included: true });
      assert.deepEqual(numbers(afterFold), numbers(early));
    });

    it('sums per model over a range', async () => {
      const answer = await ask(store, `group_by=model&${BOTH}&measures=requests,errors,input_tokens,output_tokens,cost_usd,max_input_tokens`);
      assert.deepEqual(answer.rows, [
        { group: { model: 'alpha' }, values: { requests: 7, errors: 0, input_tokens: 8530, output_tokens: 815, cost_usd: 3.5, max_input_tokens: 8000 } },
        { group: { model: 'beta' }, values: { requests: 5, errors: 1, input_tokens: 63_030, output_tokens: 150, cost_usd: 3.75, max_input_tokens: 50_000 } },
      ]);
    });

    it('buckets by hour, one row per team and hour, in time order', async () => {
      const answer = await ask(store, `group_by=team&${DAY0}&bucket=1h&measures=requests,avg_latency_ms`);
      assert.deepEqual(
        answer.rows.map((row) => [row.bucket, row.group.team, row.values?.requests, row.values?.avg_latency_ms]),
        [
          [iso(T0 + 60 * MIN), 'red', 2, 150],
          [iso(T0 + 120 * MIN), 'red', 1, 300],
          [iso(T0 + 180 * MIN), 'blue', 2, 450],
        ],
      );
    });

    it('finds the template whose output tokens per request doubled', async () => {
      const answer = await ask(store, `group_by=template&${DAY1}&compare_from=${iso(T0)}&compare_to=${iso(T0 + DAY)}&order=output_tokens_per_request&measures=requests`);
      assert.deepEqual(
        answer.rows.filter((row) => row.group.template !== null).map((row) => [row.group.template, row.baseline?.output_tokens_per_request, row.current?.output_tokens_per_request, row.change?.ratio]),
        [
          ['tpl-a', 100, 200, 2],
          ['tpl-b', 100, 110, 1.1],
          ['tpl-c', 50, 40, 0.8],
        ],
      );
      assert.equal(answer.rows[0]?.group.template, 'tpl-a');
    });

    it('ranks customers by their largest prompt (top N, max and p95)', async () => {
      const answer = await ask(store, `group_by=customer&${BOTH}&measures=requests,max_input_tokens,p95_input_tokens&order=max_input_tokens&top=2`);
      assert.deepEqual(answer.rows.map((row) => [row.group.customer, row.values?.max_input_tokens]), [['cust-big', 50_000], ['cust-mid', 8000]]);
      const p95 = answer.rows[1]?.values?.p95_input_tokens as number;
      // Exact p95 of {6000, 7000, 8000} is 7900; the histogram estimate is within its ~7% and never above the max.
      assert.ok(p95 > 7900 * 0.93 && p95 <= 8000, `p95 ${p95}`);
    });

    it("limits a team-admin's answer to its own team", async () => {
      const models = await ask(store, `group_by=model&${BOTH}`, 'blue');
      assert.deepEqual(Object.keys(byGroup(models)), ['beta']);
      assert.equal(models.team, 'blue');
      const customers = byGroup(await ask(store, `group_by=customer&${BOTH}&measures=requests`, 'blue'));
      assert.deepEqual(customers, { 'cust-mid': { requests: 2 }, null: { requests: 2 }, 'cust-big': { requests: 1 } });
      const conversations = byGroup(await ask(store, `group_by=conversation&${BOTH}&measures=requests&conversation=conv-2`, 'blue'));
      assert.deepEqual(conversations, {}, 'conv-2 is red');
    });

    it('reads conversations from raw rows', async () => {
      const answer = await ask(store, `group_by=conversation&${BOTH}&measures=requests,input_tokens&conversation=conv-1`);
      assert.deepEqual(answer.sources, ['raw:fallback']);
      assert.deepEqual(answer.rows, [{ group: { conversation: 'conv-1' }, values: { requests: 2, input_tokens: 30 } }]);
    });

    it('gives the same answer from raw rows as from the rollups (aligned and unaligned ranges)', async () => {
      const queries = [
        `group_by=model&${BOTH}&measures=requests,errors,input_tokens,output_tokens,cost_usd,avg_latency_ms,p50_latency_ms,p95_latency_ms,p99_ttft_ms,p95_input_tokens`,
        `group_by=team,route&from=${iso(T0 + 65 * MIN)}&to=${iso(T0 + 1535 * MIN)}&measures=requests,input_tokens,p50_input_tokens`,
        `group_by=key&${BOTH}&bucket=1d&measures=requests,cost_usd,max_latency_ms`,
        `group_by=template_version&${BOTH}&measures=requests,output_tokens_per_request&top=3`,
        `group_by=customer&from=${iso(T0 + 61 * MIN)}&to=${iso(T0 + 2 * DAY - 1)}&measures=requests,p95_input_tokens,max_input_tokens&order=requests&top=2`,
      ];
      for (const query of queries) {
        const rolled = await ask(store, query);
        const raw = await ask(store, `${query}&source=raw`);
        assert.ok(rolled.sources.some((source) => source.startsWith('rollups:')), `${query}: ${rolled.sources.join()}`);
        assert.deepEqual(raw.sources, ['raw:fallback']);
        assert.deepEqual(numbers(rolled), numbers(raw), query);
      }
    });

    it('folds late rows (an older start, a higher seq) into their own hour', async () => {
      const hour1 = `group_by=team&${DAY0}&bucket=1h&measures=requests&team=red`;
      assert.equal((await ask(store, hour1)).rows[0]?.values?.requests, 2);
      await store.ledger.insertRequests([ledgerRow(65, { ...red, template_id: 'tpl-a', template_version: '1', output_tokens: 100 })]);
      const unfolded = await ask(store, hour1);
      assert.ok(unfolded.sources.includes('raw:unfolded'));
      assert.equal(unfolded.rows[0]?.values?.requests, 3);
      const result = await store.usage.fold({ settleMs: 0 });
      assert.equal(result.folded, 1);
      const folded = await ask(store, hour1);
      assert.deepEqual(folded.sources, ['rollups:team/hour']);
      assert.equal(folded.rows[0]?.values?.requests, 3);
      const daily = await ask(store, `group_by=team&${DAY0}&measures=requests&team=red`);
      assert.deepEqual(daily.sources, ['rollups:team/day']);
      assert.equal(daily.rows[0]?.values?.requests, 4);
    });
  });
}
