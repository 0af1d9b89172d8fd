/**
 * Security properties seen from outside, over real HTTP on 127.0.0.1: injection strings as
 * credentials, path parameters and JSON fields; oversized and broken HTTP; how secrets are compared
 * and looked up; revocation, expiry and rotation; and a whole session with canary secrets in the
 * config, after which no log line, response, request record or database byte may hold one.
 */
import assert from 'node:assert/strict';
import { createHash, timingSafeEqual } from 'node:crypto';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import Anthropic from '@anthropic-ai/sdk';
import Database from 'better-sqlite3';
import OpenAI from 'openai';
import { Client, request } from 'undici';
import { hashKey, secretsEqual } from '../src/auth/key-secrets.js';
import { parseConfigText } from '../src/config/load.js';
import { startGateway, type RunningGateway } from '../src/gateway.js';

const CLIENT_CANARY = 'bb-canary-CLIENT-KEY-7f3a9e5d1c2b';
const ADMIN_CANARY = 'bb-canary-ADMIN-KEY-4b8e2f6a9d0c';
const PROVIDER_CANARY = 'sk-canary-PROVIDER-KEY-c3d9a1f7e5b2';
const CANARIES = [CLIENT_CANARY, ADMIN_CANARY, PROVIDER_CANARY];

const INJECTIONS = [
  "' OR '1'='1",
  "'; DROP TABLE api_keys; --",
  "bb-x' UNION SELECT key_hash FROM api_keys --",
  '" OR ""="',
  '1; SELECT * FROM sqlite_master; --',
  '\u0000',
  "bb-\u0000' OR 1=1 --",
  'x'.repeat(10_000),
  "' OR 1=1 -- ".repeat(800),
];

/** What a database driver says when it fails; none of it may reach a client. */
const DRIVER_TEXT = /sqlite|sql|syntax|select|constraint|unique|foreign key|no such (table|column)|database|kysely|better-sqlite|at .+\.(ts|js):\d+/i;

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

interface Seen {
  label: string;
  status: number;
  headers: string;
  body: string;
}

interface ErrorBody {
  error: { message: string; type: string; code: string; bb_code: string; param: string | null };
}

// ---------------------------------------------------------------------------------------------
// A tiny OpenAI upstream. Its error messages quote the full key it was sent (the worst an upstream
// could do), so the gateway's redaction is what keeps it from clients.

interface FakeUpstream {
  url: string;
  requests: Array<{ headers: IncomingHttpHeaders; body: string }>;
  close(): Promise<void>;
}

async function startUpstream(): Promise<FakeUpstream> {
  const requests: FakeUpstream['requests'] = [];
  const server: Server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (body += chunk));
    req.on('end', () => {
      requests.push({ headers: req.headers, body });
      const auth = String(req.headers.authorization ?? '');
      const sentKey = auth.replace(/^Bearer /, '');
      const directive = /\[upstream (\w[\w-]*)\]/.exec(body)?.[1];
      const fail = (status: number, message: string, code: string | null) => {
        const text = JSON.stringify({ error: { message, type: 'invalid_request_error', param: null, code } });
        res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) }).end(text);
      };
      if (auth !== `Bearer ${PROVIDER_CANARY}` || directive === '401') return fail(401, `Incorrect API key provided: ${sentKey}.`, 'invalid_api_key');
      if (directive === '400') return fail(400, `Invalid value for 'temperature' (request made with key ${sentKey}).`, 'invalid_value');
      if (directive === '429') return fail(429, `Rate limit reached for key ${sentKey}.`, 'rate_limit_exceeded');
      if (directive === '500') return fail(500, `Internal error handling key ${sentKey}.`, null);
      const created = 1_700_000_000;
      if (!/"stream"\s*:\s*true/.test(body)) {
        const text = JSON.stringify({
          id: 'chatcmpl-canary',
          object: 'chat.completion',
          created,
          model: 'gpt-fake',
          choices: [{ index: 0, message: { role: 'assistant', content: 'Hello from upstream.' }, finish_reason: 'stop' }],
          usage: { prompt_tokens: 5, completion_tokens: 4, total_tokens: 9 },
        });
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) }).end(text);
        return;
      }
      const chunk = (choices: unknown[], extra: Record<string, unknown> = {}) =>
        `data: ${JSON.stringify({ id: 'chatcmpl-canary', object: 'chat.completion.chunk', created, model: 'gpt-fake', choices, ...extra })}\n\n`;
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(chunk([{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }]));
      res.write(chunk([{ index: 0, delta: { content: 'Hello ' }, finish_reason: null }]));
      if (directive === 'stream-error') {
        res.end(`data: ${JSON.stringify({ error: { message: `Stream broke for key ${sentKey}.`, type: 'server_error', code: null } })}\n\n`);
        return;
      }
      res.write(chunk([{ index: 0, delta: { content: 'stream.' }, finish_reason: null }]));
      res.write(chunk([{ index: 0, delta: {}, finish_reason: 'stop' }]));
      res.write(chunk([], { usage: { prompt_tokens: 5, completion_tokens: 2, total_tokens: 7 } }));
      res.end('data: [DONE]\n\n');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/v1`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

// ---------------------------------------------------------------------------------------------

/** Sends raw bytes on a fresh connection; resolves with everything read until the server closes. */
function rawExchange(port: number, text: string): Promise<{ status: number; head: string; body: string; raw: string }> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    const done = () => {
      const raw = Buffer.concat(chunks).toString('latin1');
      const split = raw.indexOf('\r\n\r\n');
      const head = split === -1 ? raw : raw.slice(0, split);
      resolve({ status: Number(/^HTTP\/1\.1 (\d{3})/.exec(raw)?.[1] ?? 0), head, body: split === -1 ? '' : raw.slice(split + 4), raw });
    };
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', () => undefined); // a reset after the answer; `close` still follows
    socket.on('close', done);
    socket.setTimeout(5_000, () => socket.destroy());
    socket.write(text, 'latin1');
  });
}

describe('security', () => {
  let dir: string;
  let dbPath: string;
  let upstream: FakeUpstream;
  let gateway: RunningGateway;
  let supportTeamId: string;
  const logLines: string[] = [];
  const records: string[] = [];
  const seen: Seen[] = [];
  const pendingBodies: Array<Promise<unknown>> = [];
  /** Every secret the admin API minted: each may appear in its own create or rotate response only. */
  const minted: string[] = [];
  const onRecord = (message: unknown) => records.push(JSON.stringify(message));

  /** fetch for the SDKs that keeps a copy of every response (streams included). */
  const recordingFetch = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const response = await fetch(input, init);
    const label = `sdk ${init?.method ?? 'GET'} ${String(input instanceof Request ? input.url : input)}`;
    const headers = [...response.headers].map(([name, value]) => `${name}: ${value}`).join('\n');
    if (!response.body) {
      seen.push({ label, status: response.status, headers, body: '' });
      return response;
    }
    const [mine, theirs] = response.body.tee();
    pendingBodies.push(new Response(mine).text().then((body) => seen.push({ label, status: response.status, headers, body })));
    return new Response(theirs, { status: response.status, statusText: response.statusText, headers: response.headers });
  };

  async function call(method: string, path: string, options: { key?: string; apiKey?: string; headers?: Record<string, string>; json?: unknown } = {}) {
    const headers: Record<string, string> = { ...options.headers };
    if (options.key !== undefined) headers.authorization = `Bearer ${options.key}`;
    if (options.apiKey !== undefined) headers['x-api-key'] = options.apiKey;
    if (options.json !== undefined) headers['content-type'] = 'application/json';
    const response = await request(`${gateway.url}${path}`, {
      method: method as 'GET',
      headers,
      ...(options.json !== undefined ? { body: JSON.stringify(options.json) } : {}),
    });
    const text = await response.body.text();
    const headerText = Object.entries(response.headers)
      .map(([name, value]) => `${name}: ${String(value)}`)
      .join('\n');
    seen.push({ label: `${method} ${path.slice(0, 200)}`, status: response.statusCode, headers: headerText, body: text });
    let json: unknown;
    try {
      json = text === '' ? undefined : JSON.parse(text);
    } catch {
      json = undefined;
    }
    return { status: response.statusCode, headers: response.headers, text, json: json as Record<string, unknown> & ErrorBody };
  }

  const admin = (method: string, path: string, json?: unknown) => call(method, `/admin/v1${path}`, { key: ADMIN_CANARY, ...(json !== undefined ? { json } : {}) });
  const chat = (key: string, model = 'demo', content = 'hi') => call('POST', '/v1/chat/completions', { key, json: { model, messages: [{ role: 'user', content }] } });

  async function createKey(extra: Record<string, unknown> = {}): Promise<{ id: string; key: string }> {
    const created = await admin('POST', '/keys', { name: 'svc', owner: { type: 'team', id: supportTeamId }, ...extra });
    assert.equal(created.status, 201, created.text);
    const key = created.json.key as string;
    minted.push(key);
    return { id: created.json.id as string, key };
  }

  /** A client-visible body: no driver text once the payload the client itself sent is taken out. */
  function assertNoDriverText(text: string, payloads: readonly string[] = []) {
    let rest = text;
    for (const payload of payloads) rest = rest.split(payload).join('').split(JSON.stringify(payload).slice(1, -1)).join('');
    assert.doesNotMatch(rest, DRIVER_TEXT, `driver text in ${rest.slice(0, 300)}`);
  }

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'bb-security-'));
    dbPath = join(dir, 'bb.db');
    upstream = await startUpstream();
    subscribe('breakerbox:request:settled', onRecord);
    const config = parseConfigText(
      `
server: { host: 127.0.0.1, port: 0, shutdown_grace_ms: 200 }
logging: { level: debug }
store: { path: ${JSON.stringify(dbPath)}, refresh_ms: 1000 } # the slowest poll: immediacy must not come from it
admin: { api_key: ${ADMIN_CANARY}, rotation_grace_s: 60 }
auth:
  api_keys:
    - { name: canary-client, key: ${CLIENT_CANARY}, team: support }
providers:
  mock: { type: mock, reply: { mode: lorem, tokens: 8 } }
  upstream: { type: openai, api_key: ${PROVIDER_CANARY}, base_url: ${upstream.url} }
models:
  demo: { targets: [{ provider: mock, model: mock-1 }] }
  premium: { targets: [{ provider: mock, model: mock-2 }] }
  canary: { targets: [{ provider: upstream, model: gpt-fake }] }
teams:
  support: {}
  finance: {}
access:
  rules:
    - { name: premium-is-finance-only, models: [premium], allow: { teams: [finance] } }
`,
      'security.yaml',
      {},
    );
    const sink = new Writable({
      write(chunk: Buffer | string, _encoding, callback) {
        logLines.push(chunk.toString());
        callback();
      },
    });
    gateway = await startGateway(config, { logDestination: sink });
    const teams = await admin('GET', '/teams');
    const support = (teams.json.data as Array<{ id: string; name: string }>).find((team) => team.name === 'support');
    assert.ok(support);
    supportTeamId = support.id;
  });

  after(async () => {
    await gateway?.close();
    await upstream?.close();
    unsubscribe('breakerbox:request:settled', onRecord);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('SQL-injection strings as credentials are a clean 401, and the tables stay intact', async () => {
    for (const payload of INJECTIONS) {
      if (/[\u0000\r\n]/.test(payload)) {
        // No HTTP client sends a NUL in a header; node's parser refuses it before auth runs.
        for (const header of [`authorization: Bearer ${payload}`, `x-api-key: ${payload}`]) {
          const raw = await rawExchange(gateway.port, `GET /v1/models HTTP/1.1\r\nhost: 127.0.0.1\r\n${header}\r\nconnection: close\r\n\r\n`);
          seen.push({ label: 'raw NUL header', status: raw.status, headers: raw.head, body: raw.body });
          assert.ok(raw.status === 400 || raw.status === 401, raw.raw.slice(0, 200));
          assertNoDriverText(raw.body, [payload]);
        }
        continue;
      }
      const attempts = [
        call('GET', '/v1/models', { key: payload }),
        call('GET', '/v1/models', { apiKey: payload }),
        call('POST', '/v1/chat/completions', { key: payload, json: { model: 'demo', messages: [{ role: 'user', content: 'x' }] } }),
        call('POST', '/v1/messages', { apiKey: payload, json: { model: 'demo', max_tokens: 8, messages: [{ role: 'user', content: 'x' }] } }),
        call('GET', '/admin/v1/keys', { key: payload }),
        call('GET', '/admin/v1/keys', { apiKey: payload }),
        call('POST', '/admin/v1/keys', { key: payload, json: { name: payload, owner: { type: 'team', id: supportTeamId } } }),
      ];
      for (const result of await Promise.all(attempts)) {
        assert.equal(result.status, 401, result.text.slice(0, 200));
        assertNoDriverText(result.text, [payload]);
        assert.ok(!result.text.includes(payload) || payload.length < 4, 'the credential is not echoed');
      }
    }
    // Every table is still there and the real keys still work.
    assert.equal((await chat(CLIENT_CANARY)).status, 200);
    const keys = await admin('GET', '/keys');
    assert.equal(keys.status, 200);
    const fresh = await createKey();
    assert.equal((await chat(fresh.key)).status, 200);
  });

  it('SQL-injection strings as admin path parameters, queries and JSON fields: clean 4xx or 201, names round-trip literally', async () => {
    const allowed = new Set([200, 201, 204, 400, 404, 409]);
    const check = (result: Awaited<ReturnType<typeof call>>, payload: string) => {
      assert.ok(allowed.has(result.status), `${result.status}: ${result.text.slice(0, 300)}`);
      assertNoDriverText(result.text, [payload]);
    };
    for (const payload of INJECTIONS) {
      const id = encodeURIComponent(payload);
      if (id.length > 15_000) {
        // Too long for a request line under node's 16 KB header limit: the 431, before any handler.
        const long = await admin('GET', `/keys/${id}`);
        assert.equal(long.status, 431);
        assert.equal(long.json.error.bb_code, 'BB_HEADERS_TOO_LARGE');
      } else {
        for (const path of [`/keys/${id}`, `/teams/${id}`, `/users/${id}`, `/organizations/${id}`, `/plans/${id}`, `/customers/${id}`]) {
          const read = await admin('GET', path);
          check(read, payload);
          assert.equal(read.status, 404, `${path.slice(0, 80)}: ${read.text.slice(0, 200)}`);
          assert.equal(read.json.error.bb_code, 'BB_ADMIN_NOT_FOUND');
          check(await admin('DELETE', path), payload);
        }
        for (const [method, path, body] of [
          ['PATCH', `/keys/${id}`, { name: 'renamed' }],
          ['POST', `/keys/${id}/revoke`, undefined],
          ['POST', `/keys/${id}/rotate`, { grace_s: 0 }],
          ['PATCH', `/teams/${id}`, { metadata: { a: 1 } }],
          ['PATCH', `/users/${id}`, { name: 'renamed' }],
        ] as const) {
          const result = await admin(method, path, body);
          check(result, payload);
          assert.equal(result.status, 404, result.text.slice(0, 200));
        }
        const filtered = await admin('GET', `/keys?owner_id=${id}`);
        check(filtered, payload);
        assert.equal(filtered.status, 200);
        assert.deepEqual(filtered.json.data, []);
      }

      // JSON fields: stored as given (or refused by validation), never interpreted.
      const key = await admin('POST', '/keys', { name: payload, owner: { type: 'team', id: supportTeamId }, tags: [payload.slice(0, 100)], metadata: { [payload]: payload } });
      check(key, payload);
      if (key.status === 201) {
        minted.push(key.json.key as string);
        assert.equal(key.json.name, payload);
        const back = await admin('GET', `/keys/${encodeURIComponent(key.json.id as string)}`);
        assert.equal(back.status, 200);
        assert.equal(back.json.name, payload);
        assert.deepEqual(back.json.tags, [payload.slice(0, 100)]);
        assert.deepEqual(back.json.metadata, { [payload]: payload });
      } else {
        assert.equal(key.status, 400, key.text.slice(0, 200));
        assert.equal(key.json.error.bb_code, 'BB_INVALID_REQUEST');
      }
      for (const body of [
        { name: 'ok-name', owner: { type: 'team', id: payload } },
        { name: 'ok-name', owner: { type: 'user', id: payload } },
        { name: 'ok-name', owner: { type: 'team', id: supportTeamId }, plan: payload },
        { name: 'ok-name', owner: { type: 'team', id: supportTeamId }, models: [payload] },
      ]) {
        const refused = await admin('POST', '/keys', body);
        check(refused, payload);
        assert.equal(refused.status, 400, refused.text.slice(0, 200));
      }
      const team = await admin('POST', '/teams', { name: payload });
      check(team, payload);
      assert.equal(team.status, 400, 'team names are letters, digits, _ . -');
      const plan = await admin('POST', '/plans', { name: payload, spec: {} });
      check(plan, payload);
      assert.equal(plan.status, 400);

      for (const [path, field, body] of [
        ['/users', 'name', { name: payload, team_id: supportTeamId }],
        ['/organizations', 'name', { name: payload }],
        ['/customers', 'id', { id: payload }],
      ] as const) {
        const created = await admin('POST', path, body);
        check(created, payload);
        if (created.status !== 201) {
          assert.equal(created.status, 400, created.text.slice(0, 200));
          continue;
        }
        assert.equal(created.json[field], payload);
        const again = await admin('POST', path, body);
        check(again, payload);
        assert.equal(again.status, 409, `a second ${path} with the same ${field}`);
        const back = await admin('GET', `${path}/${encodeURIComponent(created.json.id as string)}`);
        check(back, payload);
        assert.equal(back.status, 200, `${path}: ${back.text.slice(0, 200)}`);
        assert.equal(back.json[field], payload);
      }
    }
    // The store still answers every list.
    for (const path of ['/keys', '/teams', '/users', '/organizations', '/plans', '/customers']) assert.equal((await admin('GET', path)).status, 200, path);
    assert.equal((await chat(CLIENT_CANARY)).status, 200);
  });

  it('a malformed percent-escape in a model id is a 404, not a 500', async () => {
    for (const path of ['/v1/models/%E0%A4%A', '/v1/models/%', '/v1/models/%zz']) {
      const result = await call('GET', path, { key: CLIENT_CANARY });
      assert.equal(result.status, 404, `${path}: ${result.status} ${result.text}`);
      assertNoDriverText(result.text);
    }
  });

  it('a malformed percent-escape in an admin path parameter is a 4xx, not a 500', async () => {
    for (const path of ['/admin/v1/keys/%E0%A4%A', '/admin/v1/keys/%', '/admin/v1/teams/%zz']) {
      const result = await call('GET', path, { key: ADMIN_CANARY });
      assert.ok(result.status >= 400 && result.status < 500, `${path}: ${result.status} ${result.text}`);
      assertNoDriverText(result.text);
    }
  });

  it('a 64 KB header is 431 with a JSON error body, and the server keeps serving other connections', async () => {
    const keepAlive = new Client(gateway.url);
    try {
      const first = await keepAlive.request({ method: 'GET', path: '/v1/models', headers: { authorization: `Bearer ${CLIENT_CANARY}` } });
      await first.body.text();
      assert.equal(first.statusCode, 200);

      for (const headers of [{ 'x-big': 'a'.repeat(64 * 1024) }, Object.fromEntries(Array.from({ length: 100 }, (_, i) => [`x-part-${i}`, 'b'.repeat(700)]))]) {
        const big = await call('GET', '/v1/models', { key: CLIENT_CANARY, headers });
        assert.equal(big.status, 431, big.text);
        assert.equal(big.json.error.bb_code, 'BB_HEADERS_TOO_LARGE');
        assert.equal(big.json.error.type, 'invalid_request_error');
        assert.match(String(big.headers['content-type']), /application\/json/);
        assert.equal(big.headers.connection, 'close');
        assert.ok(!big.text.includes('aaaa') && !big.text.includes('bbbb'), 'the header is not echoed');
      }
      // A megabyte of header on a raw connection: the same answer, whatever is still unread.
      const huge = await rawExchange(gateway.port, `GET /v1/models HTTP/1.1\r\nhost: 127.0.0.1\r\nx-huge: ${'c'.repeat(1 << 20)}\r\n\r\n`);
      seen.push({ label: 'raw huge header', status: huge.status, headers: huge.head, body: huge.body });
      assert.equal(huge.status, 431);
      assert.equal((JSON.parse(huge.body) as ErrorBody).error.bb_code, 'BB_HEADERS_TOO_LARGE');

      const again = await keepAlive.request({ method: 'GET', path: '/v1/models', headers: { authorization: `Bearer ${CLIENT_CANARY}` } });
      await again.body.text();
      assert.equal(again.statusCode, 200, 'the open keep-alive connection still works');
      assert.equal((await call('GET', '/v1/models', { key: CLIENT_CANARY })).status, 200, 'new connections still work');
    } finally {
      await keepAlive.close();
    }
  });

  it('bytes that are not HTTP get a 400 JSON error that echoes none of them', async () => {
    for (const text of [
      `GARBAGE /v1/models HTTP/1.1\r\nauthorization: Bearer ${CLIENT_CANARY}\r\n\r\n`,
      `GET /v1/models HTTP/1.1\r\nhost: x\r\nauthorization: Bearer ${CLIENT_CANARY}\r\nbroken header line\r\n\r\n`,
      'GET /v1/models HTTP/1.1\r\nhost: x\r\ncontent-length: 1\r\ncontent-length: 2\r\n\r\nab',
      `GET /v1/models HTTP/1.1\r\nhost: x\r\nx-note: a\u0000${CLIENT_CANARY}\r\n\r\n`,
    ]) {
      const raw = await rawExchange(gateway.port, text);
      seen.push({ label: 'raw broken http', status: raw.status, headers: raw.head, body: raw.body });
      assert.equal(raw.status, 400, raw.raw.slice(0, 300));
      assert.match(raw.head, /\r\nconnection: close/i);
      const body = JSON.parse(raw.body) as ErrorBody;
      assert.equal(body.error.bb_code, 'BB_INVALID_REQUEST');
      assert.equal(body.error.message, 'The request is not valid HTTP.');
      assert.ok(!raw.raw.includes(CLIENT_CANARY) && !raw.raw.includes('GARBAGE') && !raw.raw.includes('broken header'));
    }
    // Broken framing in the body of a request already being answered: that answer cannot be
    // interrupted by another in line, so the connection is dropped; still nothing is echoed.
    const midBody = await rawExchange(gateway.port, `POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked\r\n\r\nzz\r\n${CLIENT_CANARY}\r\n0\r\n\r\n`);
    seen.push({ label: 'raw broken chunked body', status: midBody.status, headers: midBody.head, body: midBody.body });
    assert.ok(midBody.status === 0 || midBody.status === 400 || midBody.status === 401, midBody.raw.slice(0, 300));
    assert.ok(!midBody.raw.includes(CLIENT_CANARY));
    assert.equal((await call('GET', '/v1/models', { key: CLIENT_CANARY })).status, 200);
  });

  it('secrets are compared with timingSafeEqual over sha256, and the admin key check goes through it', async () => {
    assert.equal(secretsEqual(ADMIN_CANARY, ADMIN_CANARY), true);
    assert.equal(secretsEqual(ADMIN_CANARY, `${ADMIN_CANARY.slice(0, -1)}d`), false);
    // Different lengths: timingSafeEqual throws on unequal buffers, so this proves both are hashed first.
    assert.equal(secretsEqual(ADMIN_CANARY, `${ADMIN_CANARY}x`), false);
    assert.equal(secretsEqual(ADMIN_CANARY, ''), false);
    assert.equal(secretsEqual('', ''), true);
    assert.throws(() => timingSafeEqual(Buffer.from('a'), Buffer.from('ab')), RangeError);
    assert.equal(hashKey(ADMIN_CANARY), sha256(ADMIN_CANARY));

    const source = (file: string) => readFileSync(new URL(`../src/${file}`, import.meta.url), 'utf8');
    const secretsEqualSource = /export function secretsEqual\([\s\S]*?\n\}/.exec(source('auth/key-secrets.ts'))?.[0] ?? '';
    for (const part of ['timingSafeEqual(', 'hashKey(a)', 'hashKey(b)']) assert.ok(secretsEqualSource.includes(part), `secretsEqual uses ${part}`);
    const actor = source('admin/actor.ts');
    assert.match(actor, /secretsEqual\(credential, adminKey\)/);
    const comparisons = actor.replace(/\s*[!=]==?\s*undefined\b/g, '');
    assert.doesNotMatch(comparisons, /[!=]==?\s*(config\.admin\.api_key|adminKey)\b|\b(config\.admin\.api_key|adminKey)\s*[!=]==?/, 'no plain comparison with the admin key');

    // And from outside: near misses of the admin key are refused.
    for (const near of [`${ADMIN_CANARY.slice(0, -1)}d`, ADMIN_CANARY.slice(0, -1), `${ADMIN_CANARY}0`, ADMIN_CANARY.toUpperCase()]) {
      const result = await call('GET', '/admin/v1/keys', { key: near });
      assert.equal(result.status, 401, near);
    }
    assert.equal((await admin('GET', '/keys')).status, 200);
  });

  it('API keys are looked up by their full sha256 hash, never compared or matched by prefix', async () => {
    const identitySource = readFileSync(new URL('../src/auth/identity.ts', import.meta.url), 'utf8');
    assert.match(identitySource, /keysByHash\.get\(hashKey\(credential\)\)/, 'a credential is found by its hash in a map');
    const tables = gateway.runtime.identity.current;
    for (const hash of tables.keysByHash.keys()) assert.match(hash, /^[0-9a-f]{64}$/, 'the table is keyed by sha256 hex only');
    assert.ok(tables.keysByHash.has(sha256(CLIENT_CANARY)));

    const { key } = await createKey();
    assert.equal((await chat(key)).status, 200);
    // A wrong key whose hash shares the first 4 hex digits with the right one's.
    const target = sha256(key).slice(0, 4);
    let collider = '';
    for (let i = 0; collider === ''; i += 1) if (sha256(`bb-collide-${i}`).startsWith(target)) collider = `bb-collide-${i}`;
    const last = key.at(-1) === 'A' ? 'B' : 'A';
    for (const wrong of [collider, `${key.slice(0, -1)}${last}`, key.slice(0, -1), `${key}A`, key.toLowerCase() === key ? key.toUpperCase() : key.toLowerCase()]) {
      const result = await chat(wrong);
      assert.equal(result.status, 401, wrong);
      assert.equal((result.json as ErrorBody).error.bb_code, 'BB_INVALID_API_KEY');
    }
  });

  it('revocation is immediate on the instance that revoked', async () => {
    const { id, key } = await createKey();
    assert.equal((await chat(key)).status, 200);
    assert.equal((await admin('POST', `/keys/${id}/revoke`)).status, 200);
    const refused = await chat(key);
    assert.equal(refused.status, 401);
    assert.match(refused.json.error.message, /revoked/);
    const viaHeader = await call('GET', '/v1/models', { apiKey: key });
    assert.equal(viaHeader.status, 401);
    assert.equal((await admin('POST', `/keys/${id}/rotate`, {})).status, 409, 'a revoked key cannot be rotated back to life');
  });

  it('an expired key is refused', async () => {
    const { key } = await createKey({ expires_in_s: 1 });
    assert.equal((await chat(key)).status, 200);
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    const refused = await chat(key);
    assert.equal(refused.status, 401);
    assert.match(refused.json.error.message, /expired/);
  });

  it('rotation: the old key works during grace_s next to the new one; with grace_s 0 it is refused at once', async () => {
    const { id, key: oldKey } = await createKey();
    const rotated = await admin('POST', `/keys/${id}/rotate`, { grace_s: 30 });
    assert.equal(rotated.status, 201);
    const newKey = rotated.json.key as string;
    minted.push(newKey);
    assert.notEqual(newKey, oldKey);
    assert.equal(rotated.json.rotated_from, id);
    assert.equal((await chat(oldKey)).status, 200, 'old key within its grace');
    assert.equal((await chat(newKey)).status, 200, 'new key');

    const again = await admin('POST', `/keys/${rotated.json.id as string}/rotate`, { grace_s: 0 });
    assert.equal(again.status, 201);
    const newest = again.json.key as string;
    minted.push(newest);
    const refused = await chat(newKey);
    assert.equal(refused.status, 401, 'no grace: refused at once');
    assert.match(refused.json.error.message, /expired/);
    assert.equal((await chat(newest)).status, 200);
    assert.equal((await chat(oldKey)).status, 200, 'the first key keeps its own grace');
  });

  it('a whole session leaks no secret into logs, responses, request records or the database', async () => {
    const openai = new OpenAI({ apiKey: CLIENT_CANARY, baseURL: `${gateway.url}/v1`, maxRetries: 0, timeout: 10_000, fetch: recordingFetch });
    const anthropic = new Anthropic({ apiKey: CLIENT_CANARY, baseURL: gateway.url, maxRetries: 0, timeout: 10_000, fetch: recordingFetch });
    const ask = (content: string) => ({ model: 'canary', messages: [{ role: 'user' as const, content }] });

    // Successful chat through the provider that holds the canary key: plain and streamed, both dialects.
    const completion = await openai.chat.completions.create(ask('hello'));
    assert.equal(completion.choices[0]?.message.content, 'Hello from upstream.');
    let streamed = '';
    for await (const chunk of await openai.chat.completions.create({ ...ask('hello'), stream: true, stream_options: { include_usage: true } })) streamed += chunk.choices[0]?.delta.content ?? '';
    assert.equal(streamed, 'Hello stream.');
    const message = await anthropic.messages.create({ model: 'canary', max_tokens: 16, messages: [{ role: 'user', content: 'hello' }] });
    assert.equal(message.content[0]?.type === 'text' ? message.content[0].text : '', 'Hello from upstream.');
    let anthropicStreamed = '';
    for await (const event of await anthropic.messages.create({ model: 'canary', max_tokens: 16, stream: true, messages: [{ role: 'user', content: 'hello' }] })) {
      if (event.type === 'content_block_delta' && event.delta.type === 'text_delta') anthropicStreamed += event.delta.text;
    }
    assert.equal(anthropicStreamed, 'Hello stream.');
    const visible = (await openai.models.list()).data.map((model) => model.id);
    assert.ok(visible.includes('canary') && !visible.includes('premium'), visible.join());

    // Upstream errors whose messages quote the provider key in full.
    const upstreamError = async (directive: string, status: number) => {
      const error = await openai.chat.completions.create(ask(`[upstream ${directive}]`)).catch((e: unknown) => e);
      assert.ok(error instanceof OpenAI.APIError, String(error));
      assert.equal(error.status, status, `${directive}: ${error.message}`);
      return error;
    };
    await upstreamError('401', 502);
    await upstreamError('500', 503);
    assert.match((await upstreamError('400', 400)).message, /\[REDACTED\]/, 'passed-on upstream text is redacted');
    assert.match((await upstreamError('429', 429)).message, /\[REDACTED\]/);
    const broken = await (async () => {
      try {
        for await (const _chunk of await openai.chat.completions.create({ ...ask('[upstream stream-error]'), stream: true })) void _chunk;
      } catch (error) {
        return error;
      }
      return undefined;
    })();
    assert.ok(broken instanceof Error, 'the stream ends in an error');
    const anthropicBroken = await anthropic.messages.create({ model: 'canary', max_tokens: 16, messages: [{ role: 'user', content: '[upstream 400]' }] }).catch((e: unknown) => e);
    assert.ok(anthropicBroken instanceof Anthropic.APIError);

    // Failed auth (keys that contain the canary), access denial, validation errors.
    for (const wrong of [`${CLIENT_CANARY}x`, CLIENT_CANARY.slice(0, -1), `${ADMIN_CANARY}x`, PROVIDER_CANARY]) {
      assert.equal((await chat(wrong)).status, 401);
      assert.equal((await call('GET', '/admin/v1/keys', { key: wrong })).status, 401);
      assert.equal((await call('POST', '/v1/messages', { apiKey: wrong, json: { model: 'demo', max_tokens: 8, messages: [{ role: 'user', content: 'x' }] } })).status, 401);
    }
    const denied = await chat(CLIENT_CANARY, 'premium');
    assert.equal(denied.status, 403);
    assert.equal(denied.json.error.bb_code, 'BB_ACCESS_DENIED');
    assert.equal((await call('GET', '/admin/v1/keys', { key: CLIENT_CANARY })).status, 403, 'a member key is no admin');
    assert.equal((await call('POST', '/v1/chat/completions', { key: CLIENT_CANARY, json: { model: 'canary' } })).status, 400);
    assert.equal((await call('POST', '/v1/chat/completions', { key: CLIENT_CANARY, json: { model: 'canary', messages: [{ role: 'user', content: 'x' }], temperature: 9 } })).status, 400);
    assert.equal((await admin('POST', '/keys', { name: '', owner: { type: 'team', id: supportTeamId } })).status, 400);
    assert.equal((await admin('POST', '/keys', { name: 'x', owner: { type: 'team', id: supportTeamId }, secret: ADMIN_CANARY.slice(3) })).status, 400);

    // The admin API: create, list, read, rotate, revoke.
    const made = await createKey({ metadata: { purpose: 'canary session' } });
    assert.equal((await chat(made.key, 'canary')).status, 200);
    assert.equal((await admin('GET', '/keys')).status, 200);
    assert.equal((await admin('GET', `/keys/${made.id}`)).status, 200);
    const rotated = await admin('POST', `/keys/${made.id}/rotate`, { grace_s: 0 });
    assert.equal(rotated.status, 201);
    minted.push(rotated.json.key as string);
    assert.equal((await admin('POST', `/keys/${rotated.json.id as string}/revoke`)).status, 200);
    for (const path of ['/keys', '/teams', '/users', '/organizations', '/plans', '/customers', '/openapi.json']) assert.equal((await admin('GET', path)).status, 200, path);

    // Everything there is to read, once the gateway has stopped (logs flushed, WAL checkpointed).
    await Promise.all(pendingBodies);
    await gateway.close();
    const db = new Database(dbPath, { readonly: true, fileMustExist: true });
    const rows: string[] = [];
    let apiKeyRows: Array<{ key_hash: string }>;
    try {
      const tables = db.prepare("select name from sqlite_master where type = 'table'").all() as Array<{ name: string }>;
      assert.ok(tables.some((table) => table.name === 'api_keys'));
      for (const { name } of tables) for (const row of db.prepare(`select * from "${name.replaceAll('"', '""')}"`).all()) rows.push(`${name}: ${JSON.stringify(row)}`);
      apiKeyRows = db.prepare('select key_hash from api_keys').all() as Array<{ key_hash: string }>;
    } finally {
      db.close();
    }
    const fileBytes = ['', '-wal', '-shm', '-journal']
      .map((suffix) => `${dbPath}${suffix}`)
      .filter((file) => existsSync(file))
      .map((file) => readFileSync(file).toString('latin1'));

    assert.ok(logLines.length > 40, `request lines were logged (${logLines.length})`);
    assert.ok(records.length > 40, `request records were published (${records.length})`);
    assert.ok(upstream.requests.length >= 8);
    const responses = seen.map((entry) => `${entry.label}\n${entry.status}\n${entry.headers}\n\n${entry.body}`);
    const places: Array<[string, string[]]> = [
      ['log lines', logLines],
      ['request records', records],
      ['responses', responses],
      ['database rows', rows],
      ['database files', fileBytes],
    ];
    const needles = CANARIES.flatMap((canary) => [
      [canary, canary],
      [`the tail of ${canary}`, canary.slice(-12)],
      [`sha256 of ${canary}`, sha256(canary)],
    ]);
    for (const [where, texts] of places) {
      for (const [what, needle] of needles) {
        const hit = texts.find((text) => text.includes(needle as string));
        assert.equal(hit, undefined, `${what} found in ${where}: ${hit?.slice(0, 300)}`);
      }
    }
    // The upstream got its own key and nothing of the client's or the admin's.
    for (const sent of upstream.requests) {
      const text = JSON.stringify(sent);
      assert.ok(!text.includes(CLIENT_CANARY) && !text.includes(ADMIN_CANARY) && !text.includes(sha256(CLIENT_CANARY)), 'no client credential upstream');
      assert.equal(sent.headers.authorization, `Bearer ${PROVIDER_CANARY}`);
    }

    // Minted keys: in their one create or rotate response, nowhere else; in the table as sha256 only.
    assert.ok(minted.length >= 10);
    const storedHashes = new Set(apiKeyRows.map((row) => row.key_hash));
    for (const secret of minted) {
      const showing = seen.filter((entry) => entry.body.includes(secret.slice(7)) || entry.headers.includes(secret.slice(7)));
      assert.equal(showing.length, 1, `minted key shown in ${showing.map((entry) => entry.label).join(', ')}`);
      assert.equal(showing[0]?.status, 201);
      assert.match(showing[0]?.label ?? '', /^POST \/admin\/v1\/keys(\/[^/]+\/rotate)?$/);
      for (const [where, texts] of places.filter(([where]) => where !== 'responses')) {
        assert.ok(!texts.some((text) => text.includes(secret.slice(7))), `a minted key found in ${where}`);
      }
      assert.ok(storedHashes.has(sha256(secret)), 'stored as its sha256');
    }
  });
});
