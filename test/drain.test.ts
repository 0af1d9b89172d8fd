import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { request } from 'undici';
import { startTestGateway } from './helpers/gateway.js';

describe('graceful drain', () => {
  it('lets an open stream finish, refuses new work with 503, and reports not ready', async () => {
    const gateway = await startTestGateway(`
server: { host: 127.0.0.1, port: 0, shutdown_grace_ms: 5000 }
providers:
  mock: { type: mock, reply: { mode: lorem, tokens: 10 }, tokens_per_second: 20 }
models:
  demo: { targets: [{ provider: mock, model: m }] }
`);
    const stream = await gateway.client.chat.completions.create({ model: 'demo', messages: [{ role: 'user', content: 'hi' }], stream: true });
    const closing = gateway.close();
    // A request on a new connection during the drain is refused or answered 503, never served.
    const during = await request(`${gateway.url}/v1/models`, { headers: { authorization: 'Bearer x' } }).then(
      async (response) => {
        await response.body.dump();
        return response.statusCode;
      },
      () => 'refused',
    );
    assert.ok(during === 503 || during === 'refused', `got ${String(during)}`);
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
    assert.ok(text.startsWith('Lorem ipsum'));
    assert.equal(text.split(' ').length >= 5, true);
    await closing;
  });
});
