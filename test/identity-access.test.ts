import Anthropic from '@anthropic-ai/sdk';
import assert from 'node:assert/strict';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { after, before, describe, it } from 'node:test';
import OpenAI from 'openai';
import { request } from 'undici';
import { loadConfigFile } from '../src/config/load.js';
import type { RequestRecord } from '../src/core/request-record.js';
import { startGateway, type RunningGateway } from '../src/gateway.js';
import { adminCall, chatStatus } from './helpers/admin.js';

const ADMIN_KEY = 'bb-admin-test-key-0123456789';

/** Collects the records settle publishes, to check what was decided and recorded. */
function recordCollector() {
  const records: RequestRecord[] = [];
  const listener = (message: unknown) => records.push(message as RequestRecord);
  subscribe('breakerbox:request:settled', listener);
  return { records, stop: () => unsubscribe('breakerbox:request:settled', listener) };
}

describe('examples/teams.yaml: teams, plans and an access rule', () => {
  let gateway: RunningGateway;
  let collector: ReturnType<typeof recordCollector>;
  const openai = (key: string) => new OpenAI({ apiKey: key, baseURL: `${gateway.url}/v1`, maxRetries: 0 });

  before(async () => {
    const config = await loadConfigFile('examples/teams.yaml', { BB_ADMIN_KEY: ADMIN_KEY });
    config.server.port = 0;
    config.store.path = ':memory:';
    config.logging.level = 'silent';
    gateway = await startGateway(config);
    collector = recordCollector();
  });
  after(async () => {
    collector.stop();
    await gateway.close();
  });

  it('the support key gets 200 on demo and 403 on premium; the finance key gets 200 on both', async () => {
    const support = openai('bb-support-key');
    const finance = openai('bb-finance-key');
    const ok = await support.chat.completions.create({ model: 'demo', messages: [{ role: 'user', content: 'hi' }] });
    assert.equal(ok.object, 'chat.completion');
    const denied = await support.chat.completions.create({ model: 'premium', messages: [{ role: 'user', content: 'hi' }] }).catch((error: unknown) => error);
    assert.ok(denied instanceof OpenAI.PermissionDeniedError, String(denied));
    assert.equal(denied.status, 403);
    assert.match(denied.message, /access rule 'premium-is-finance-only'/);
    // The denial names the rule, not who else may pass it.
    assert.doesNotMatch(denied.message, /finance'? team|teams|\bfinance\b(?!-only)/);
    for (const model of ['demo', 'premium']) {
      const answer = await finance.chat.completions.create({ model, messages: [{ role: 'user', content: 'hi' }] });
      assert.equal(answer.choices[0]?.finish_reason, 'stop');
    }
  });

  it('a streaming request is refused the same way, before any stream starts', async () => {
    const denied = await openai('bb-support-key').chat.completions.create({ model: 'premium', stream: true, messages: [{ role: 'user', content: 'hi' }] }).catch((error: unknown) => error);
    assert.ok(denied instanceof OpenAI.PermissionDeniedError);
  });

  it('an Anthropic client gets the denial in Anthropic shape', async () => {
    const client = new Anthropic({ apiKey: 'bb-support-key', baseURL: gateway.url, maxRetries: 0 });
    const denied = await client.messages.create({ model: 'premium', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] }).catch((error: unknown) => error);
    assert.ok(denied instanceof Anthropic.PermissionDeniedError, String(denied));
    assert.equal((denied.error as { error?: { type?: string } }).error?.type, 'permission_error');
    const ok = await client.messages.create({ model: 'demo', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] });
    assert.equal(ok.type, 'message');
  });

  it('each key lists only the models it may use', async () => {
    assert.deepEqual((await openai('bb-support-key').models.list()).data.map((model) => model.id), ['demo']);
    assert.deepEqual((await openai('bb-finance-key').models.list()).data.map((model) => model.id), ['demo', 'premium']);
    const hidden = await openai('bb-support-key').models.retrieve('premium').catch((error: unknown) => error);
    assert.ok(hidden instanceof OpenAI.NotFoundError);
  });

  it('records the principal, its plan and the access decision with each request', async () => {
    collector.records.length = 0;
    await chatStatus(gateway.url, 'bb-support-key', 'premium');
    await chatStatus(gateway.url, 'bb-finance-key', 'premium');
    const [denied, allowed] = collector.records;
    assert.deepEqual(denied?.access, { decision: 'deny', rule: "access rule 'premium-is-finance-only'" });
    assert.equal(denied?.principal?.team, 'support');
    assert.equal(denied?.principal?.plan, 'paid');
    assert.equal(denied?.status, 403);
    assert.deepEqual(allowed?.access, { decision: 'allow' });
    assert.equal(allowed?.principal?.team, 'finance');
    assert.equal(allowed?.principal?.source, 'static-key');
  });

  it('resolves plans: key, then user, then team, then auth.default_plan', async () => {
    const teams = await adminCall<{ data: Array<{ id: string; name: string }> }>(gateway.url, ADMIN_KEY, 'GET', '/teams');
    const support = teams.body.data.find((team) => team.name === 'support');
    assert.ok(support);
    const user = await adminCall<{ id: string }>(gateway.url, ADMIN_KEY, 'POST', '/users', { name: 'ann', team_id: support.id, plan: 'enterprise' });
    assert.equal(user.status, 201, user.text);
    const userKey = await adminCall<{ key: string }>(gateway.url, ADMIN_KEY, 'POST', '/keys', { name: 'ann-key', owner: { type: 'user', id: user.body.id } });
    const keyPlan = await adminCall<{ key: string }>(gateway.url, ADMIN_KEY, 'POST', '/keys', { name: 'ann-free', owner: { type: 'user', id: user.body.id }, plan: 'free' });
    const orphan = await adminCall<{ id: string }>(gateway.url, ADMIN_KEY, 'POST', '/users', { name: 'solo' });
    const soloKey = await adminCall<{ key: string }>(gateway.url, ADMIN_KEY, 'POST', '/keys', { name: 'solo-key', owner: { type: 'user', id: orphan.body.id } });
    collector.records.length = 0;
    for (const key of [userKey.body.key, keyPlan.body.key, soloKey.body.key, 'bb-support-key']) assert.equal((await chatStatus(gateway.url, key, 'demo')).status, 200);
    assert.deepEqual(collector.records.map((record) => record.principal?.plan), ['enterprise', 'free', 'free', 'paid']);
    assert.deepEqual(collector.records.map((record) => record.principal?.user), ['ann', 'ann', 'solo', undefined]);
    // The free plan has no embeddings endpoint: a 403 naming the plan's endpoint list.
    const embeddings = await request(`${gateway.url}/v1/embeddings`, {
      method: 'POST',
      headers: { authorization: `Bearer ${keyPlan.body.key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'demo', input: 'x' }),
    });
    assert.equal(embeddings.statusCode, 403);
    assert.match(await embeddings.body.text(), /the endpoint list of plan 'free'/);
  });

  it('a blocked end customer is refused; other customers of the same key pass', async () => {
    const created = await adminCall(gateway.url, ADMIN_KEY, 'POST', '/customers', { id: 'cust-42', blocked: true });
    assert.equal(created.status, 201, created.text);
    const blocked = await chatStatus(gateway.url, 'bb-finance-key', 'demo', { user: 'cust-42' });
    assert.equal(blocked.status, 403);
    assert.match(blocked.text, /blocked end-customer list/);
    assert.equal((await chatStatus(gateway.url, 'bb-finance-key', 'demo', { user: 'cust-7' })).status, 200);
    const unblocked = await adminCall(gateway.url, ADMIN_KEY, 'PATCH', '/customers/cust-42', { blocked: false });
    assert.equal(unblocked.status, 200);
    assert.equal((await chatStatus(gateway.url, 'bb-finance-key', 'demo', { user: 'cust-42' })).status, 200);
  });
});
