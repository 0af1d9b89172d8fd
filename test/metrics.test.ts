import assert from 'node:assert/strict';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import OpenAI from 'openai';
import type { RequestRecord } from '../src/core/request-record.js';
import { sampleValue } from '../src/telemetry/metrics-test-records.js';
import { startFakeOpenAI } from './fakes/openai-upstream.js';
import { MOCK_YAML, startTestGateway, TEST_KEY, type TestGateway } from './helpers/gateway.js';

const ADMIN_KEY = 'bb-admin-key-0123456789abcdef';

/** `demo` plus a model whose input-token rate limit no prompt fits, so every call to it is a 429. */
const YAML = `${MOCK_YAML}
  capped:
    targets: [{ provider: mock, model: mock-1 }]
    limits: { input_tokens_per_minute: 1 }
admin: { api_key: ${ADMIN_KEY} }
`;

async function scrape(gateway: TestGateway, path = '/metrics', headers: Record<string, string> = {}): Promise<{ status: number; type: string | null; text: string }> {
  const response = await fetch(`${gateway.url}${path}`, { headers });
  return { status: response.status, type: response.headers.get('content-type'), text: await response.text() };
}

const hi = [{ role: 'user' as const, content: 'Say hi' }];

describe('GET /metrics through a running gateway', () => {
  let gateway: TestGateway;
  before(async () => {
    gateway = await startTestGateway(YAML);
  });
  after(() => gateway.close());

  it('shows requests, tokens, latency, errors, rejections and breakers after real traffic', async () => {
    const client = gateway.client;
    await client.chat.completions.create({ model: 'demo', messages: hi });
    await client.chat.completions.create({ model: 'demo', messages: hi });
    let chunks = 0;
    for await (const _chunk of await client.chat.completions.create({ model: 'demo', messages: hi, stream: true })) chunks += 1;
    assert.ok(chunks >= 1);
    await assert.rejects(client.chat.completions.create({ model: 'no-such-model', messages: hi }), OpenAI.NotFoundError);
    await assert.rejects(client.chat.completions.create({ model: 'capped', messages: hi }), OpenAI.RateLimitError);
    const failing = client.chat.completions.create({ model: 'demo', messages: hi }, { headers: { 'x-mock-behavior': 'status=503' } });
    await assert.rejects(failing, OpenAI.APIError);

    const { status, type, text } = await scrape(gateway);
    assert.equal(status, 200);
    assert.match(type ?? '', /^text\/plain; version=0\.0\.4/);
    const ok = { endpoint: 'chat', dialect: 'openai-chat', model: 'demo', provider: 'mock', status: '200', code: '' };
    assert.equal(sampleValue(text, 'breakerbox_requests_total', { ...ok, stream: 'false' }), 2);
    assert.equal(sampleValue(text, 'breakerbox_requests_total', { ...ok, stream: 'true' }), 1);
    assert.equal(sampleValue(text, 'breakerbox_requests_total', { endpoint: 'chat', dialect: 'openai-chat', model: 'other', provider: '', stream: 'false', status: '404', code: 'BB_MODEL_NOT_FOUND' }), 1);
    assert.equal(sampleValue(text, 'breakerbox_requests_total', { endpoint: 'chat', dialect: 'openai-chat', model: 'capped', provider: '', stream: 'false', status: '429', code: 'BB_RATE_LIMITED' }), 1);
    assert.equal(sampleValue(text, 'breakerbox_limit_rejections_total', { endpoint: 'chat', model: 'capped', code: 'BB_RATE_LIMITED', limit: 'input_tokens_per_minute' }), 1);
    assert.ok((sampleValue(text, 'breakerbox_upstream_errors_total', { provider: 'mock', code: 'BB_UPSTREAM_OVERLOADED', class: 'overloaded' }) ?? 0) >= 1);
    assert.ok((sampleValue(text, 'breakerbox_tokens_total', { endpoint: 'chat', model: 'demo', provider: 'mock', type: 'output' }) ?? 0) >= 3 * 12);
    assert.ok((sampleValue(text, 'breakerbox_tokens_total', { endpoint: 'chat', model: 'demo', provider: 'mock', type: 'input' }) ?? 0) > 0);
    assert.equal(sampleValue(text, 'breakerbox_request_duration_seconds_count', { endpoint: 'chat', model: 'demo', provider: 'mock', stream: 'false' }), 2);
    assert.equal(sampleValue(text, 'breakerbox_time_to_first_token_seconds_count', { model: 'demo', provider: 'mock' }), 1);
    assert.equal(sampleValue(text, 'breakerbox_gateway_overhead_seconds_count', { endpoint: 'chat', stream: 'false' }), 2);
    assert.ok(sampleValue(text, 'breakerbox_breaker_state', { target: 'mock/mock-1' }) !== undefined);
    assert.equal(sampleValue(text, 'breakerbox_requests_in_flight'), 1, 'the scrape itself');
    assert.equal(sampleValue(text, 'breakerbox_ledger_queue_depth') !== undefined, true);
    assert.match(text, /^breakerbox_process_cpu_seconds_total /m);
    assert.doesNotMatch(text, new RegExp(`${TEST_KEY}|no-such-model`), 'no key and no unknown model name in any label');
  });

  it('a scrape does not count itself as a request', async () => {
    const first = await scrape(gateway);
    const second = await scrape(gateway);
    const total = (text: string) => [...text.matchAll(/^breakerbox_requests_total\{[^}]*\} (\d+)$/gm)].reduce((sum, match) => sum + Number(match[1]), 0);
    assert.equal(total(second.text), total(first.text));
  });

  it('answers POST with 405 and the allowed method', async () => {
    const response = await fetch(`${gateway.url}/metrics`, { method: 'POST' });
    assert.equal(response.status, 405);
    assert.equal(response.headers.get('allow'), 'GET');
  });
});

describe('metrics settings', () => {
  it('auth: admin refuses a scrape without the admin key, and a member key', async () => {
    const gateway = await startTestGateway(`${YAML}metrics: { auth: admin }\n`);
    try {
      const anonymous = await scrape(gateway);
      assert.equal(anonymous.status, 401);
      assert.doesNotMatch(anonymous.text, /breakerbox_/);
      assert.equal((await scrape(gateway, '/metrics', { authorization: `Bearer ${TEST_KEY}` })).status, 403);
      const admin = await scrape(gateway, '/metrics', { authorization: `Bearer ${ADMIN_KEY}` });
      assert.equal(admin.status, 200);
      assert.match(admin.text, /^# TYPE breakerbox_requests_total counter$/m);
    } finally {
      await gateway.close();
    }
  });

  it('serves at the configured path only, and not at all when disabled', async () => {
    const moved = await startTestGateway(`${MOCK_YAML}metrics: { path: /internal/prometheus, process_metrics: false }\n`);
    try {
      const served = await scrape(moved, '/internal/prometheus');
      assert.equal(served.status, 200);
      assert.doesNotMatch(served.text, /breakerbox_process_cpu/);
      assert.equal((await scrape(moved, '/metrics')).status, 404);
    } finally {
      await moved.close();
    }
    const off = await startTestGateway(`${MOCK_YAML}metrics: { enabled: false }\n`);
    try {
      assert.equal((await scrape(off, '/metrics')).status, 404);
    } finally {
      await off.close();
    }
  });

  it('is not load shed: at max_in_flight a scrape still answers', async () => {
    const gateway = await startTestGateway(`server: { host: 127.0.0.1, port: 0, shutdown_grace_ms: 200, max_in_flight: 1 }\n${MOCK_YAML}`);
    const abort = new AbortController();
    try {
      const held = gateway.client.chat.completions.create({ model: 'demo', messages: hi }, { headers: { 'x-mock-behavior': 'ttft_ms=5000' }, signal: abort.signal }).catch(() => undefined);
      const deadline = Date.now() + 3000;
      let shed = 0;
      while (shed !== 503 && Date.now() < deadline) shed = (await fetch(`${gateway.url}/v1/models`, { headers: { authorization: `Bearer ${TEST_KEY}` } })).status;
      assert.equal(shed, 503, 'another request is shed');
      const scraped = await scrape(gateway);
      assert.equal(scraped.status, 200);
      assert.equal(sampleValue(scraped.text, 'breakerbox_requests_in_flight'), 2, 'the held request and the scrape');
      abort.abort();
      await held;
    } finally {
      await gateway.close();
    }
  });
});

describe('OpenTelemetry export over OTLP/HTTP', () => {
  let collector: Server;
  const bodies: Array<{ path: string; type: string | undefined; body: string }> = [];
  let endpoint = '';
  before(async () => {
    collector = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        bodies.push({ path: request.url ?? '', type: request.headers['content-type'], body: Buffer.concat(chunks).toString('utf8') });
        response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    await new Promise<void>((resolve) => collector.listen(0, '127.0.0.1', resolve));
    endpoint = `http://127.0.0.1:${(collector.address() as AddressInfo).port}/v1/traces`;
  });
  after(() => new Promise<void>((resolve) => collector.close(() => resolve())));

  it('receives one span per request and one per attempt, with the GenAI attributes', async () => {
    const gateway = await startTestGateway(`${MOCK_YAML}tracing: { enabled: true, otlp_endpoint: '${endpoint}', service_name: bb-e2e, headers: { x-collector-token: '\${env:COLLECTOR_TOKEN}' } }\n`, { COLLECTOR_TOKEN: 't0ken' });
    try {
      await gateway.client.chat.completions.create({ model: 'demo', messages: hi, max_tokens: 20 });
      await assert.rejects(gateway.client.chat.completions.create({ model: 'demo', messages: hi }, { headers: { 'x-mock-behavior': 'status=503' } }));
    } finally {
      // Closing builds the queued spans and flushes the exporter.
      await gateway.close();
    }
    assert.ok(bodies.length > 0, 'the collector got an export');
    assert.ok(bodies.every((entry) => entry.path === '/v1/traces' && /json/.test(entry.type ?? '')));
    const spans = bodies.flatMap((entry) => spansOf(JSON.parse(entry.body) as OtlpExport));
    const requests = spans.filter((span) => span.kind === 2);
    const attempts = spans.filter((span) => span.kind === 3);
    assert.equal(requests.length, 2, 'one SERVER span per chat request');
    const ok = requests.find((span) => span.attributes['error.type'] === undefined);
    const failed = requests.find((span) => span.attributes['error.type'] !== undefined);
    assert.equal(ok?.name, 'chat demo');
    assert.equal(ok?.attributes['gen_ai.operation.name'], 'chat');
    assert.equal(ok?.attributes['gen_ai.provider.name'], 'breakerbox.mock');
    assert.equal(ok?.attributes['gen_ai.request.model'], 'demo');
    assert.equal(ok?.attributes['gen_ai.response.model'], 'mock-1');
    assert.equal(Number(ok?.attributes['gen_ai.usage.output_tokens']), 12);
    assert.ok(Number(ok?.attributes['gen_ai.usage.input_tokens']) > 0);
    assert.equal(failed?.attributes['error.type'], 'BB_UPSTREAM_OVERLOADED');
    assert.equal(failed?.status, 2, 'error status');
    assert.ok(attempts.length >= 2, 'a CLIENT span per upstream attempt');
    assert.ok(attempts.every((span) => requests.some((request) => request.spanId === span.parentSpanId && request.traceId === span.traceId)));
    assert.equal(bodies.some((entry) => entry.body.includes('bb-e2e')), true, 'service.name resource attribute');
  });
});

describe('trace context toward the upstream', () => {
  it('with tracing on, the upstream gets a traceparent in the client\'s trace whose parent is our request span', async () => {
    const upstream = await startFakeOpenAI();
    const gateway = await startTestGateway(
      `providers: { openai: { type: openai, api_key: '\${env:FAKE_KEY}', base_url: ${upstream.url} } }
models: { gpt: { targets: [{ provider: openai, model: gpt-4o-mini }] } }
tracing: { enabled: true, otlp_endpoint: 'http://127.0.0.1:9/v1/traces', sample_ratio: 1 }
`,
      { FAKE_KEY: upstream.apiKey },
    );
    const records: RequestRecord[] = [];
    const onRecord = (message: unknown) => records.push(message as RequestRecord);
    subscribe('breakerbox:request:settled', onRecord);
    const clientTrace = '0af7651916cd43dd8448eb211c80319c';
    const clientSpan = 'b7ad6b7169203331';
    try {
      await gateway.client.chat.completions.create({ model: 'gpt', messages: hi }, { headers: { traceparent: `00-${clientTrace}-${clientSpan}-01` } });
      const sent = upstream.requests.at(-1)?.headers.traceparent;
      const [, traceId, parentId, flags] = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/.exec(String(sent)) ?? [];
      assert.equal(traceId, clientTrace, 'same trace as the client');
      assert.notEqual(parentId, clientSpan, 'the parent is our span, not the client\'s');
      assert.equal(flags, '01');
      const record = records.find((entry) => entry.requestedModel === 'gpt');
      assert.equal(record?.trace?.spanId, parentId);
      assert.equal(record?.trace?.parentSpanId, clientSpan);
    } finally {
      unsubscribe('breakerbox:request:settled', onRecord);
      await gateway.close();
      await upstream.close();
    }
  });
});

interface OtlpValue {
  stringValue?: string;
  intValue?: number | string;
  doubleValue?: number;
  boolValue?: boolean;
  arrayValue?: { values: OtlpValue[] };
}
interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  attributes: Array<{ key: string; value: OtlpValue }>;
  status?: { code?: number };
}
interface OtlpExport {
  resourceSpans: Array<{ scopeSpans: Array<{ spans: OtlpSpan[] }> }>;
}

function spansOf(payload: OtlpExport): Array<{ traceId: string; spanId: string; parentSpanId?: string; name: string; kind: number; status: number | undefined; attributes: Record<string, unknown> }> {
  return payload.resourceSpans.flatMap((resource) =>
    resource.scopeSpans.flatMap((scope) =>
      scope.spans.map((span) => ({
        traceId: span.traceId,
        spanId: span.spanId,
        parentSpanId: span.parentSpanId,
        name: span.name,
        kind: span.kind,
        status: span.status?.code,
        attributes: Object.fromEntries(span.attributes.map((attribute) => [attribute.key, attribute.value.stringValue ?? attribute.value.intValue ?? attribute.value.doubleValue ?? attribute.value.boolValue])),
      })),
    ),
  );
}
