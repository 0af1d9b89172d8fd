import Anthropic from '@anthropic-ai/sdk';
import assert from 'node:assert/strict';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { after, before, describe, it } from 'node:test';
import OpenAI from 'openai';
import { loadConfigFile, parseConfigText } from '../src/config/load.js';
import type { RequestRecord } from '../src/core/request-record.js';
import { startGateway, type RunningGateway } from '../src/gateway.js';
import { startFakeOpenAI } from './fakes/openai-upstream.js';
import { adminCall } from './helpers/admin.js';
import { chat } from './helpers/limits-accuracy.js';

describe('examples/limits.yaml', () => {
  let gateway: RunningGateway;
  before(async () => {
    const config = await loadConfigFile('examples/limits.yaml');
    config.server.port = 0;
    config.store.path = ':memory:';
    config.logging.level = 'silent';
    gateway = await startGateway(config);
  });
  after(() => gateway.close());

  it('the 11th request within a minute on the free key is 429 with Retry-After, in each dialect', async () => {
    const left = 60_000 - (Date.now() % 60_000);
    if (left < 3000) await new Promise((resolve) => setTimeout(resolve, left + 50));
    const statuses: number[] = [];
    let remaining: unknown;
    for (let i = 0; i < 10; i += 1) {
      const result = await chat(gateway.url, 'bb-free-key', { model: 'demo', max_tokens: 5 });
      statuses.push(result.status);
      remaining = result.headers['x-ratelimit-remaining-requests'];
      assert.equal(result.headers['x-ratelimit-limit-requests'], '10');
    }
    assert.deepEqual(statuses, Array(10).fill(200));
    assert.equal(remaining, '0');
    const openai = new OpenAI({ apiKey: 'bb-free-key', baseURL: `${gateway.url}/v1`, maxRetries: 0 });
    const refused = await openai.chat.completions.create({ model: 'demo', messages: [{ role: 'user', content: 'hi' }] }).catch((error: unknown) => error);
    assert.ok(refused instanceof OpenAI.RateLimitError, String(refused));
    assert.ok(Number(refused.headers?.get('retry-after')) >= 1);
    assert.match(refused.message, /requests_per_minute of plan 'free' \(10 requests per minute\)/);
    const anthropic = new Anthropic({ apiKey: 'bb-free-key', baseURL: gateway.url, maxRetries: 0 });
    const refusedToo = await anthropic.messages.create({ model: 'demo', max_tokens: 5, messages: [{ role: 'user', content: 'hi' }] }).catch((error: unknown) => error);
    assert.ok(refusedToo instanceof Anthropic.RateLimitError, String(refusedToo));
    // The paid key has its own counters.
    assert.equal((await chat(gateway.url, 'bb-paid-key', { model: 'demo', max_tokens: 5 })).status, 200);
  });
});

const CAPS = `
server: { host: 127.0.0.1, port: 0, shutdown_grace_ms: 200 }
logging: { level: silent }
store: { path: ':memory:' }
limits: { default_max_output_tokens: 100, output_cap: clamp }
providers:
  mock: { type: mock, reply: { mode: lorem, tokens: 80 } }
  slow: { type: mock, reply: { mode: lorem, tokens: 20 }, tokens_per_second: 20 }
models:
  demo: { targets: [{ provider: mock, model: mock-1 }] }
  slow: { targets: [{ provider: slow, model: mock-slow }] }
plans:
  capped: { limits: { max_input_tokens_per_request: 50, max_output_tokens_per_request: 30, tokens_per_minute: 100000 } }
  single: { limits: { concurrent_requests: 1 } }
  daily: { limits: { tokens_per_day: 300 } }
auth:
  api_keys:
    - { name: capped, key: bb-capped-key-0000, plan: capped }
    - { name: single, key: bb-single-key-0000, plan: single }
    - { name: daily, key: bb-daily-key-0000, plan: daily }
`;

describe('per-request caps, concurrency, token budgets', () => {
  let gateway: RunningGateway;
  const records: RequestRecord[] = [];
  const listener = (message: unknown) => records.push(message as RequestRecord);
  before(async () => {
    gateway = await startGateway(parseConfigText(CAPS, 'caps.yaml'));
    subscribe('breakerbox:request:settled', listener);
  });
  after(async () => {
    unsubscribe('breakerbox:request:settled', listener);
    await gateway.close();
  });

  it('a prompt over the input cap is 400 naming the cap', async () => {
    const result = await chat(gateway.url, 'bb-capped-key-0000', { model: 'demo', messages: [{ role: 'user', content: 'word '.repeat(200) }] });
    assert.equal(result.status, 400);
    assert.match(result.body.error?.message ?? '', /plan 'capped' allows 50 per request/);
  });

  it('max_tokens over the output cap is clamped, and the answer and headers show it', async () => {
    records.length = 0;
    const result = await chat(gateway.url, 'bb-capped-key-0000', { model: 'demo', max_tokens: 1000 });
    assert.equal(result.status, 200);
    assert.equal(result.body.usage?.completion_tokens, 30);
    assert.equal(result.headers['x-ratelimit-limit-tokens'], '100000');
    assert.ok(Number(result.headers['x-ratelimit-remaining-tokens']) < 100000);
  });

  it('a concurrency slot is held for the whole stream and given back at its end', async () => {
    const openai = new OpenAI({ apiKey: 'bb-single-key-0000', baseURL: `${gateway.url}/v1`, maxRetries: 0 });
    const stream = await openai.chat.completions.create({ model: 'slow', stream: true, messages: [{ role: 'user', content: 'hi' }] });
    const second = await chat(gateway.url, 'bb-single-key-0000', { model: 'demo' });
    assert.equal(second.status, 429);
    assert.match(second.body.error?.message ?? '', /1 concurrent requests/);
    for await (const _chunk of stream) void _chunk;
    await new Promise((resolve) => setTimeout(resolve, 20));
    assert.equal((await chat(gateway.url, 'bb-single-key-0000', { model: 'demo' })).status, 200);
  });

  it('a daily token budget clamps the last answer to what is left (cut), then refuses with 429', async () => {
    records.length = 0;
    const statuses: number[] = [];
    for (let i = 0; i < 5; i += 1) statuses.push((await chat(gateway.url, 'bb-daily-key-0000', { model: 'demo' })).status);
    assert.deepEqual(statuses.slice(0, 2), [200, 200]);
    assert.equal(statuses.at(-1), 429);
    const served = records.filter((record) => record.status === 200);
    const total = served.reduce((sum, record) => sum + (record.usage?.inputTokens ?? 0) + (record.usage?.outputTokens ?? 0), 0);
    assert.ok(total <= 300, `${total} tokens booked against a budget of 300`);
    assert.ok(served.some((record) => record.limitActions.some((action) => action.startsWith('clamped:'))), 'the last answer was shortened to fit');
  });
});

const SHARED = `
server: { host: 127.0.0.1, port: 0, shutdown_grace_ms: 200 }
logging: { level: silent }
store: { path: ':memory:' }
providers: { mock: { type: mock, reply: { mode: fixed, text: ok } } }
models:
  demo: { targets: [{ provider: mock, model: mock-1 }] }
  shared: { targets: [{ provider: mock, model: mock-2 }], limits: { requests_per_minute: 2 } }
plans:
  per-customer: { limits: { requests_per_minute: 1 } }
teams:
  squad: { limits: { requests_per_minute: 3 } }
auth:
  api_keys:
    - { name: a, key: bb-squad-a-0000, team: squad }
    - { name: b, key: bb-squad-b-0000, team: squad }
    - { name: c, key: bb-loner-c-0000 }
    - { name: d, key: bb-loner-d-0000 }
`;

describe('limits shared by a team, by a model, and per end customer', () => {
  let gateway: RunningGateway;
  before(async () => {
    const left = 60_000 - (Date.now() % 60_000);
    if (left < 3000) await new Promise((resolve) => setTimeout(resolve, left + 50));
    gateway = await startGateway(parseConfigText(SHARED, 'shared.yaml'));
  });
  after(() => gateway.close());

  it("a team's limit counts every key of the team together", async () => {
    const statuses = [];
    for (const key of ['bb-squad-a-0000', 'bb-squad-b-0000', 'bb-squad-a-0000', 'bb-squad-b-0000']) statuses.push((await chat(gateway.url, key, { model: 'demo' })).status);
    assert.deepEqual(statuses, [200, 200, 200, 429]);
    const refused = await chat(gateway.url, 'bb-squad-a-0000', { model: 'demo' });
    assert.match(refused.body.error?.message ?? '', /requests_per_minute of team 'squad'/);
  });

  it("a model's limit counts every caller of the model together", async () => {
    const statuses = [];
    for (const key of ['bb-loner-c-0000', 'bb-loner-d-0000', 'bb-loner-c-0000']) statuses.push((await chat(gateway.url, key, { model: 'shared' })).status);
    assert.deepEqual(statuses, [200, 200, 429]);
    assert.equal((await chat(gateway.url, 'bb-loner-c-0000', { model: 'demo' })).status, 200, 'other models are not affected');
  });

  it("an end customer's plan limits that customer across keys", async () => {
    await gateway.store.customers.create({ id: 'cust-1', plan: 'per-customer', blocked: false, metadata: {} });
    await gateway.runtime.identity.refresh();
    assert.equal((await chat(gateway.url, 'bb-loner-c-0000', { model: 'demo', user: 'cust-1' })).status, 200);
    const refused = await chat(gateway.url, 'bb-loner-d-0000', { model: 'demo', user: 'cust-1' });
    assert.equal(refused.status, 429);
    assert.match(refused.body.error?.message ?? '', /end-customer plan 'per-customer'/);
    assert.equal((await chat(gateway.url, 'bb-loner-d-0000', { model: 'demo', user: 'cust-2' })).status, 200);
  });
});

describe('cut mode: a provider that ignores max_tokens is cut at the reservation', () => {
  let gateway: RunningGateway;
  let fake: Awaited<ReturnType<typeof startFakeOpenAI>>;
  before(async () => {
    fake = await startFakeOpenAI();
    gateway = await startGateway(
      parseConfigText(
        `
server: { host: 127.0.0.1, port: 0, shutdown_grace_ms: 200 }
logging: { level: silent }
store: { path: ':memory:' }
limits: { stream_overrun: cut }
providers: { fake: { type: openai, api_key: ${fake.apiKey}, base_url: ${fake.url} } }
models: { gpt: { targets: [{ provider: fake, model: gpt-4o-mini }] } }
plans:
  daily: { limits: { tokens_per_day: 100000 } }
  daily-finish: { limits: { tokens_per_day: 100000, stream_overrun: finish } }
auth:
  api_keys:
    - { name: daily, key: bb-daily-cut-0000, plan: daily }
    - { name: daily-finish, key: bb-daily-finish-0000, plan: daily-finish }
`,
        'cut.yaml',
      ),
    );
  });
  after(async () => {
    await gateway.close();
    await fake.close();
  });

  it('ends the stream with a terminal error event and bills what was generated', async () => {
    const records: RequestRecord[] = [];
    const listener = (message: unknown) => records.push(message as RequestRecord);
    subscribe('breakerbox:request:settled', listener);
    const openai = new OpenAI({ apiKey: 'bb-daily-cut-0000', baseURL: `${gateway.url}/v1`, maxRetries: 0 });
    const stream = await openai.chat.completions.create({ model: 'gpt', stream: true, max_tokens: 20, messages: [{ role: 'user', content: 'go [fake chunks=400]' }] });
    let text = '';
    const failure = await (async () => {
      for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
    })().catch((error: unknown) => error);
    await new Promise((resolve) => setTimeout(resolve, 50));
    unsubscribe('breakerbox:request:settled', listener);
    assert.ok(failure instanceof OpenAI.APIError, `the stream should end in an error, got ${String(failure)} after ${text.length} chars`);
    assert.match(failure.message, /output tokens reserved/);
    const record = records.at(-1);
    assert.equal(record?.errorCode, 'BB_BUDGET_EXCEEDED');
    assert.ok(record?.usageIncomplete);
    assert.ok((record?.usage?.outputTokens ?? 0) > 20, 'the generated output is billed');
  });

  it('a plan whose budgets say stream_overrun: finish lets the same stream run to its end, and bills it all', async () => {
    const records: RequestRecord[] = [];
    const listener = (message: unknown) => records.push(message as RequestRecord);
    subscribe('breakerbox:request:settled', listener);
    const openai = new OpenAI({ apiKey: 'bb-daily-finish-0000', baseURL: `${gateway.url}/v1`, maxRetries: 0 });
    const stream = await openai.chat.completions.create({ model: 'gpt', stream: true, max_tokens: 20, messages: [{ role: 'user', content: 'go [fake chunks=400]' }] });
    let chunks = 0;
    for await (const chunk of stream) if (chunk.choices[0]?.delta.content) chunks += 1;
    await new Promise((resolve) => setTimeout(resolve, 50));
    unsubscribe('breakerbox:request:settled', listener);
    assert.equal(chunks, 400);
    const record = records.at(-1);
    assert.equal(record?.errorCode, undefined);
    assert.ok((record?.usage?.outputTokens ?? 0) >= 400);
  });
});

describe('limits set through the admin API on a key, a user and a team', () => {
  const ADMIN = 'bb-admin-limits-0123456789';
  let gateway: RunningGateway;
  before(async () => {
    const left = 60_000 - (Date.now() % 60_000);
    if (left < 4000) await new Promise((resolve) => setTimeout(resolve, left + 50));
    gateway = await startGateway(
      parseConfigText(
        `
server: { host: 127.0.0.1, port: 0, shutdown_grace_ms: 200 }
logging: { level: silent }
store: { path: ':memory:' }
admin: { api_key: ${ADMIN} }
providers: { mock: { type: mock, reply: { mode: fixed, text: ok } } }
models: { demo: { targets: [{ provider: mock, model: mock-1 }] } }
`,
        'entity-limits.yaml',
      ),
    );
  });
  after(() => gateway.close());

  it('a key, a user (across its keys) and a team (across its members) each get their own counters', async () => {
    const team = await adminCall<{ id: string }>(gateway.url, ADMIN, 'POST', '/teams', { name: 'ops', limits: { requests_per_minute: 4 } });
    assert.equal(team.status, 201, team.text);
    const user = await adminCall<{ id: string; limits: unknown }>(gateway.url, ADMIN, 'POST', '/users', { name: 'una', team_id: team.body.id, limits: { requests_per_minute: 3 } });
    assert.deepEqual(user.body.limits, { requests_per_minute: 3 });
    const keyOf = async (name: string, extra: Record<string, unknown> = {}) =>
      (await adminCall<{ key: string }>(gateway.url, ADMIN, 'POST', '/keys', { name, owner: { type: 'user', id: user.body.id }, ...extra })).body.key;
    const solo = await keyOf('solo', { limits: { requests_per_minute: 1 } });
    const [first, second] = [await keyOf('first'), await keyOf('second')];
    // The key's own limit: one request.
    assert.equal((await chat(gateway.url, solo, { model: 'demo' })).status, 200);
    const keyRefusal = await chat(gateway.url, solo, { model: 'demo' });
    assert.equal(keyRefusal.status, 429);
    assert.match(keyRefusal.body.error?.message ?? '', /requests_per_minute of key 'solo'/);
    // The user's limit of 3 counts all of una's keys: solo's one request, then two more.
    assert.equal((await chat(gateway.url, first, { model: 'demo' })).status, 200);
    assert.equal((await chat(gateway.url, second, { model: 'demo' })).status, 200);
    const userRefusal = await chat(gateway.url, first, { model: 'demo' });
    assert.equal(userRefusal.status, 429);
    assert.match(userRefusal.body.error?.message ?? '', /requests_per_minute of user 'una'/);
    // The team's limit of 4 counts a team-owned key too.
    const teamKey = (await adminCall<{ key: string }>(gateway.url, ADMIN, 'POST', '/keys', { name: 'ops-batch', owner: { type: 'team', id: team.body.id } })).body.key;
    assert.equal((await chat(gateway.url, teamKey, { model: 'demo' })).status, 200);
    const teamRefusal = await chat(gateway.url, teamKey, { model: 'demo' });
    assert.equal(teamRefusal.status, 429);
    assert.match(teamRefusal.body.error?.message ?? '', /requests_per_minute of team 'ops'/);
  });

  it('refuses limits that do not validate, and limits set by anyone but an admin', async () => {
    const bad = await adminCall(gateway.url, ADMIN, 'POST', '/teams', { name: 'bad', limits: { requests_per_minute: -1 } });
    assert.equal(bad.status, 400);
    const team = await adminCall<{ id: string }>(gateway.url, ADMIN, 'POST', '/teams', { name: 'leads' });
    const lead = await adminCall<{ id: string }>(gateway.url, ADMIN, 'POST', '/users', { name: 'lena', role: 'team-admin', team_id: team.body.id });
    const leadKey = (await adminCall<{ key: string }>(gateway.url, ADMIN, 'POST', '/keys', { name: 'lena-key', owner: { type: 'user', id: lead.body.id } })).body.key;
    const lift = await adminCall(gateway.url, leadKey, 'POST', '/keys', { name: 'k', limits: { requests_per_minute: 1000 } });
    assert.equal(lift.status, 403);
  });
});

describe('route limits', () => {
  it('limits.routes counts every caller of a route together, and only that route', async () => {
    const left = 60_000 - (Date.now() % 60_000);
    if (left < 3000) await new Promise((resolve) => setTimeout(resolve, left + 50));
    const gateway = await startGateway(
      parseConfigText(
        `
server: { host: 127.0.0.1, port: 0, shutdown_grace_ms: 200 }
logging: { level: silent }
store: { path: ':memory:' }
limits: { routes: { embeddings: { requests_per_minute: 2 } } }
providers: { mock: { type: mock, reply: { mode: fixed, text: ok } } }
models: { demo: { targets: [{ provider: mock, model: mock-1 }] } }
auth: { api_keys: [{ name: a, key: bb-route-a-0000 }, { name: b, key: bb-route-b-0000 }] }
`,
        'routes.yaml',
      ),
    );
    try {
      const embed = async (key: string) => {
        const openai = new OpenAI({ apiKey: key, baseURL: `${gateway.url}/v1`, maxRetries: 0 });
        return openai.embeddings.create({ model: 'demo', input: 'x' }).then(
          () => 200,
          (error: unknown) => (error instanceof OpenAI.APIError ? (error.status ?? 0) : 0),
        );
      };
      assert.deepEqual([await embed('bb-route-a-0000'), await embed('bb-route-b-0000'), await embed('bb-route-a-0000')], [200, 200, 429]);
      assert.equal((await chat(gateway.url, 'bb-route-b-0000', { model: 'demo' })).status, 200, 'chat is another route');
    } finally {
      await gateway.close();
    }
  });
});

describe('spend caps and unknown prices', () => {
  let fake: Awaited<ReturnType<typeof startFakeOpenAI>>;
  before(async () => {
    fake = await startFakeOpenAI();
  });
  after(() => fake.close());
  const start = (mode: 'refuse' | 'zero') =>
    startGateway(
      parseConfigText(
        `
server: { host: 127.0.0.1, port: 0, shutdown_grace_ms: 200 }
logging: { level: silent }
store: { path: ':memory:' }
pricing: { unknown_price: ${mode} }
plans: { capped: { limits: { spend_per_day_usd: 5 } } }
auth: { default_plan: capped, api_keys: [{ name: a, key: bb-price-a-0000 }] }
providers: { fake: { type: openai, api_key: ${fake.apiKey}, base_url: ${fake.url} } }
models: { demo: { targets: [{ provider: fake, model: model-nobody-prices }] } }
`,
        'prices.yaml',
      ),
    );

  it('a model nobody prices is refused with 403 for a caller with a spend cap, every time it is asked for', async () => {
    const gateway = await start('refuse');
    try {
      for (let i = 0; i < 2; i += 1) {
        const result = await chat(gateway.url, 'bb-price-a-0000', { model: 'demo' });
        assert.equal(result.status, 403);
        assert.match(result.body.error?.message ?? '', /'demo' has no known price, and plan 'capped' has a spend cap/);
      }
    } finally {
      await gateway.close();
    }
  });

  it('with unknown_price: zero the same requests are served and count as zero against the cap', async () => {
    const gateway = await start('zero');
    try {
      for (let i = 0; i < 2; i += 1) assert.equal((await chat(gateway.url, 'bb-price-a-0000', { model: 'demo' })).status, 200);
    } finally {
      await gateway.close();
    }
  });
});
