import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import OpenAI from 'openai';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { TcpProxy } from '../helpers/tcp-proxy.js';

const url = process.env.REDIS_URL;
const skip = url ? false : 'REDIS_URL is not set; skipping the gateway-level Redis outage test';

const REDIS_TIMEOUT_MS = 200;
/** Scheduling slack on a shared 2-core machine; a hang would take seconds. */
const SLACK_MS = 400;

interface Outcome {
  status: number;
  code: string | undefined;
  ms: number;
}

describe('limits through a gateway while Redis is unreachable', { skip }, () => {
  let proxy: TcpProxy;
  let gateway: TestGateway;
  const clients = new Map<string, OpenAI>();

  before(async () => {
    proxy = TcpProxy.to(new URL(url ?? ''), 6379);
    await proxy.start();
    gateway = await startTestGateway(`
limits:
  backend: redis
  redis_url: redis://127.0.0.1:${proxy.port}
  redis_prefix: bbout${randomBytes(4).toString('hex')}
  redis_timeout_ms: ${REDIS_TIMEOUT_MS}
  instances: 2
plans:
  rated: { limits: { requests_per_minute: 20 } }
  budgeted: { limits: { tokens_per_day: 1000000 } }
auth:
  api_keys:
    - { name: rated, key: bb-rated-key-0123456789, plan: rated }
    - { name: budgeted, key: bb-budgeted-key-0123456789, plan: budgeted }
providers:
  mock: { type: mock, reply: { mode: lorem, tokens: 5 } }
models:
  demo: { targets: [{ provider: mock, model: m }] }
`);
    for (const name of ['rated', 'budgeted']) clients.set(name, new OpenAI({ apiKey: `bb-${name}-key-0123456789`, baseURL: `${gateway.url}/v1`, maxRetries: 0, timeout: 5_000 }));
  });
  after(async () => {
    await gateway?.close();
    await proxy?.stop();
  });

  async function call(name: string): Promise<Outcome> {
    const started = performance.now();
    try {
      await clients.get(name)?.chat.completions.create({ model: 'demo', messages: [{ role: 'user', content: 'hi' }] });
      return { status: 200, code: undefined, ms: performance.now() - started };
    } catch (error) {
      assert.ok(error instanceof OpenAI.APIError, String(error));
      return { status: error.status ?? 0, code: (error.error as { bb_code?: string } | undefined)?.bb_code, ms: performance.now() - started };
    }
  }

  it('rate limits fall back to this instance share, budgets fail closed with 503, nothing waits past the timeout, and it recovers alone', async () => {
    assert.equal((await call('rated')).status, 200);
    assert.equal((await call('budgeted')).status, 200);

    await proxy.stop();
    const rated: Outcome[] = [];
    for (let i = 0; i < 14; i += 1) rated.push(await call('rated'));
    const budgeted = [await call('budgeted'), await call('budgeted')];
    for (const outcome of [...rated, ...budgeted]) assert.ok(outcome.ms < REDIS_TIMEOUT_MS + SLACK_MS, `a request took ${outcome.ms.toFixed(0)} ms during the outage`);
    // 20 per minute across 2 instances: this instance allows 10 on its own while Redis is away.
    assert.equal(rated.filter((outcome) => outcome.status === 200).length, 10);
    assert.deepEqual(new Set(rated.filter((outcome) => outcome.status !== 200).map((outcome) => `${outcome.status} ${outcome.code}`)), new Set(['429 BB_RATE_LIMITED']));
    for (const outcome of budgeted) assert.deepEqual([outcome.status, outcome.code], [503, 'BB_LIMITS_UNAVAILABLE']);

    await proxy.start();
    let recovered: Outcome | undefined;
    for (const deadline = Date.now() + 10_000; Date.now() < deadline; await sleep(200)) {
      recovered = await call('budgeted');
      if (recovered.status === 200) break;
    }
    assert.equal(recovered?.status, 200, 'budgets served again once Redis was back');
  });
});
