import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import OpenAI from 'openai';
import { startTestGateway, type TestGateway } from './helpers/gateway.js';

const SSN = '123-45-6789';

describe('prompt and answer text in the ledger (ledger.bodies)', () => {
  let gateway: TestGateway;
  const clients = new Map<string, OpenAI>();
  before(async () => {
    gateway = await startTestGateway(`
auth:
  api_keys:
    - { name: support, key: bb-support-key-0123456789, team: support }
    - { name: finance, key: bb-finance-key-0123456789, team: finance }
teams: { support: {}, finance: {} }
providers: { echo: { type: mock, reply: { mode: echo } } }
models: { echo: { targets: [{ provider: echo, model: echo }] } }
ledger: { outbox_path: ':memory:', flush_ms: 50, bodies: { enabled: true, teams: [support] } }
`);
    for (const team of ['support', 'finance']) clients.set(team, new OpenAI({ apiKey: `bb-${team}-key-0123456789`, baseURL: `${gateway.url}/v1`, maxRetries: 0 }));
  });
  after(() => gateway.close());

  async function bodiesOf(requestId: string) {
    await gateway.ledger.flush();
    const row = await gateway.store.ledger.getRequest(requestId);
    assert.ok(row, `no ledger row for ${requestId}`);
    return { request: row.request_body, response: row.response_body };
  }

  it('records the prompt and the answer of a recorded team, with personal data masked, streaming or not', async () => {
    const support = clients.get('support') as OpenAI;
    await support.chat.completions.create({ model: 'echo', messages: [{ role: 'user', content: `my SSN is ${SSN}` }] }, { headers: { 'x-request-id': 'bodies-1' } });
    assert.deepEqual(await bodiesOf('bodies-1'), { request: 'user: my SSN is [SSN]', response: 'my SSN is [SSN]' });
    const stream = await support.chat.completions.create({ model: 'echo', stream: true, messages: [{ role: 'user', content: 'mail ann@example.org' }] }, { headers: { 'x-request-id': 'bodies-2' } });
    for await (const _chunk of stream) {
      // drain
    }
    assert.deepEqual(await bodiesOf('bodies-2'), { request: 'user: mail [EMAIL]', response: 'mail [EMAIL]' });
  });

  it('records nothing for a team that is not listed', async () => {
    await (clients.get('finance') as OpenAI).chat.completions.create({ model: 'echo', messages: [{ role: 'user', content: 'quarterly numbers' }] }, { headers: { 'x-request-id': 'bodies-3' } });
    assert.deepEqual(await bodiesOf('bodies-3'), { request: null, response: null });
  });
});
