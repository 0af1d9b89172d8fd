import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { request } from 'undici';
import type { CounterUse } from '../../src/state/state-store.js';
import { windowAt } from '../../src/policies/limits/windows.js';

/** Gateway instances sharing one limit store, started from one config. */
export interface LimitCluster {
  urls: string[];
  /** Reads counters straight from the shared store. */
  read(keys: string[]): Promise<CounterUse[]>;
  /** kill -9 of instance `index` (multi-process clusters only). */
  kill?(index: number): Promise<void>;
  stop(): Promise<void>;
}

export const RPM_LIMIT = 20;
/** $500 per million output tokens: 100 output tokens cost $0.05. */
export const OUTPUT_PER_MTOK = 500;

/** The config every accuracy test runs on; `limitsBlock` picks the backend. */
export function accuracyConfig(limitsBlock: string): string {
  return `
server: { host: 127.0.0.1, port: 0, shutdown_grace_ms: 200 }
logging: { level: silent }
store: { path: ':memory:' }
${limitsBlock}
pricing:
  overrides:
    mock/mock-large: { input_per_mtok: 0, output_per_mtok: ${OUTPUT_PER_MTOK} }
    mock/mock-small: { input_per_mtok: 0, output_per_mtok: 50 }
providers:
  mock: { type: mock, reply: { mode: lorem, tokens: 60 } }
  slow: { type: mock, reply: { mode: lorem, tokens: 50 }, tokens_per_second: 10 }
models:
  demo: { targets: [{ provider: mock, model: mock-large }] }
  demo-lite: { targets: [{ provider: mock, model: mock-small }] }
  slow: { targets: [{ provider: slow, model: mock-slow }] }
plans:
  rpm: { limits: { requests_per_minute: ${RPM_LIMIT} } }
  dollar: { limits: { spend_per_day_usd: 1 } }
  chatty: { degrade_to: demo-lite, limits: { conversation_output_tokens: 1000 } }
  single: { limits: { concurrent_requests: 1 } }
auth:
  api_keys:
    - { name: rpm-key, key: bb-rpm-key-000000, plan: rpm }
    - { name: dollar-key, key: bb-dollar-key-000000, plan: dollar }
    - { name: chatty-key, key: bb-chatty-key-000000, plan: chatty }
    - { name: single-key, key: bb-single-key-000000, plan: single }
`;
}

/** The limits block shared by every backend: small answers so a conversation walks its ladder fast. */
export const LIMIT_TUNING = 'default_max_output_tokens: 100, reservation_ttl_s: 3, ladder: { shorter_below: 0.5, shorter_max_tokens: 50, cheaper_below: 0.2 }';

interface ChatResult {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: { usage?: { completion_tokens: number }; error?: { message: string } };
}

export async function chat(url: string, key: string, body: Record<string, unknown>, headers: Record<string, string> = {}): Promise<ChatResult> {
  const response = await request(`${url}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ messages: [{ role: 'user', content: 'hi' }], ...body }),
  });
  return { status: response.statusCode, headers: response.headers, body: (await response.body.json()) as ChatResult['body'] };
}

/** Waits until at least `needMs` remain in the current minute, so a burst stays in one window. */
async function roomInMinute(needMs: number): Promise<void> {
  const left = 60_000 - (Date.now() % 60_000);
  if (left < needMs) await new Promise((resolve) => setTimeout(resolve, left + 50));
}

/**
 * The accuracy suite: the same assertions for every backend and instance count. Requests are
 * released together and spread over the instances round robin.
 */
export function describeLimitAccuracy(name: string, start: () => Promise<LimitCluster>): void {
  describe(name, () => {
    let cluster: LimitCluster;
    const pick = (index: number) => cluster.urls[index % cluster.urls.length] as string;
    before(async () => {
      cluster = await start();
    });
    after(() => cluster?.stop());

    it(`an RPM limit of ${RPM_LIMIT} under ${RPM_LIMIT * 10} concurrent requests admits exactly ${RPM_LIMIT}`, async () => {
      await roomInMinute(8000);
      const results = await Promise.all(Array.from({ length: RPM_LIMIT * 10 }, (_, i) => chat(pick(i), 'bb-rpm-key-000000', { model: 'demo', max_tokens: 5 })));
      const statuses = results.map((result) => result.status);
      assert.equal(statuses.filter((status) => status === 200).length, RPM_LIMIT);
      assert.equal(statuses.filter((status) => status === 429).length, RPM_LIMIT * 9);
      const refused = results.find((result) => result.status === 429);
      assert.ok(Number(refused?.headers['retry-after']) >= 1);
      assert.match(refused?.body.error?.message ?? '', /requests_per_minute of plan 'rpm' \(20 requests per minute\)/);
    });

    it('a $1 daily budget under 200 concurrent requests of up to $0.05 never spends more than $1, and settles exactly', async () => {
      const results = await Promise.all(Array.from({ length: 200 }, (_, i) => chat(pick(i), 'bb-dollar-key-000000', { model: 'demo', max_tokens: 100 })));
      const ok = results.filter((result) => result.status === 200);
      // Each request reserves its worst case ($0.05) and books $0.03: at least 20 fit, settled
      // requests free room for more, and the last may be shortened to fit what is left (cut mode).
      assert.ok(ok.length >= 20, `${ok.length} admitted`);
      assert.ok(results.every((result) => result.status === 200 || result.status === 429));
      const actualCost = ok.reduce((sum, result) => sum + ((result.body.usage?.completion_tokens ?? 0) * OUTPUT_PER_MTOK) / 1e6, 0);
      assert.ok(actualCost <= 1 + 1e-9);
      const key = `usdd:key:static:dollar-key:${windowAt('day', Date.now(), 'UTC').id}`;
      let use: CounterUse | undefined;
      for (let i = 0; i < 50; i += 1) {
        [use] = await cluster.read([key]);
        if (use?.reserved === 0) break;
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      assert.equal(use?.reserved, 0, 'every reservation settled');
      assert.ok(Math.abs((use?.spent ?? 0) - actualCost) < 1e-6, `spent ${use?.spent} = sum of actual costs ${actualCost}`);
    });

    it('a conversation walks the degrade ladder in order: full answers, shorter, a cheaper model, then 429', async () => {
      const steps: string[] = [];
      for (let turn = 0; turn < 40; turn += 1) {
        const result = await chat(pick(turn), 'bb-chatty-key-000000', { model: 'demo' }, { 'x-bb-conversation-id': `conv-${name}` });
        if (result.status === 429) {
          steps.push('refused');
          assert.match(result.body.error?.message ?? '', /conversation_output_tokens/);
          break;
        }
        assert.equal(result.status, 200);
        const served = result.headers['x-breakerbox-model'];
        steps.push(served === 'mock-small' ? 'cheaper' : (result.body.usage?.completion_tokens ?? 0) <= 50 ? 'shorter' : 'full');
      }
      const order = steps.filter((step, index) => step !== steps[index - 1]);
      assert.deepEqual(order, ['full', 'shorter', 'cheaper', 'refused'], steps.join(','));
    });
  });
}
