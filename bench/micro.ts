import { Identity } from '../src/auth/identity.js';
import { parseConfigText } from '../src/config/load.js';
import type { Principal } from '../src/core/principal.js';
import { AccessPolicy } from '../src/policies/access/index.js';
import { LimitsPolicy } from '../src/policies/limits/index.js';
import { MemoryStateStore } from '../src/state/index.js';
import { createPriceLookup } from '../src/usage/pricing/price-lookup.js';
import { decodeChatRequest } from '../src/dialects/openai-chat/decode.js';
import { parseChatResponse } from '../src/providers/openai/parse-response.js';
import { SseParser } from '../src/upstream/sse-parser.js';
import { countTextTokens, estimatePromptTokens } from '../src/usage/token-estimate.js';
import { configuredNames, GatewayMetrics } from '../src/telemetry/metrics.js';
import { syntheticRecord } from '../src/telemetry/metrics-test-records.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { rowToText } from '../src/store/ledger-records.js';
import { decodeStreamChunk } from '../src/providers/openai/stream-chunk.js';
import { Outbox } from '../src/usage/ledger/outbox.js';
import { toLedgerRow } from '../src/usage/ledger/ledger-row.js';
import { openRecordStore } from '../src/store/open-store.js';
import { sampleRecord } from '../src/usage/ledger/test-fixtures.js';
import { newRequestId } from '../src/server/request-id.js';
import { createDetector } from '../src/policies/guardrails/detect/index.js';
import { PROMPT_4KB_CLEAN, PROMPT_4KB_PII } from '../test/fixtures/guardrails/prompts.js';

/** ops/second of one hot function, measured for about `budgetMs` after a warm-up. */
function measure(fn: () => unknown, budgetMs: number): number {
  for (let i = 0; i < 2_000; i += 1) fn();
  let ops = 0;
  const started = performance.now();
  let elapsed = 0;
  while (elapsed < budgetMs) {
    for (let i = 0; i < 200; i += 1) fn();
    ops += 200;
    elapsed = performance.now() - started;
  }
  return (ops / elapsed) * 1000;
}

/** The same for an async function, awaited one call at a time. */
async function measureAsync(fn: () => Promise<unknown>, budgetMs: number, warmUps = 2_000, perRound = 200): Promise<number> {
  for (let i = 0; i < warmUps; i += 1) await fn();
  let ops = 0;
  const started = performance.now();
  let elapsed = 0;
  while (elapsed < budgetMs) {
    for (let i = 0; i < perRound; i += 1) await fn();
    ops += perRound;
    elapsed = performance.now() - started;
  }
  return (ops / elapsed) * 1000;
}

const CHAT_BODY = {
  model: 'bench',
  messages: [
    { role: 'system', content: 'You are a concise assistant for a shipping company. Answer in two sentences.' },
    { role: 'user', content: 'Where is my parcel 1Z999AA10123456784? It was due on Monday and the tracking page has not changed.' },
  ],
  temperature: 0.2,
  max_tokens: 256,
};

const COMPLETION_TEXT = JSON.stringify({
  id: 'chatcmpl-1',
  object: 'chat.completion',
  created: 1,
  model: 'gpt-4o-mini',
  choices: [{ index: 0, message: { role: 'assistant', content: 'Your parcel is in transit and should arrive tomorrow.' }, finish_reason: 'stop' }],
  usage: { prompt_tokens: 40, completion_tokens: 12, total_tokens: 52 },
});

const SSE_STREAM = `${Array.from({ length: 200 }, (_, i) => `data: {"id":"c","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":" tok${i}"}}]}\n\n`).join('')}data: [DONE]\n\n`;
const SSE_BYTES = new TextEncoder().encode(SSE_STREAM);
const STREAM_CHUNK_TEXT =
  '{"id":"chatcmpl-bench-0001","object":"chat.completion.chunk","created":1700000000,"model":"gpt-4o-mini-2024-07-18","system_fingerprint":"fp_bench","choices":[{"index":0,"delta":{"content":" token"},"logprobs":null,"finish_reason":null}]}';

/** Micro-benchmarks of functions every request runs. Values are operations per second. */
export async function runMicroBenchmarks(budgetMs: number): Promise<Record<string, number>> {
  const request = decodeChatRequest(CHAT_BODY);
  const config = parseConfigText(
    'providers: { m: { type: mock } }\nmodels: { demo: { targets: [{ provider: m, model: m }] }, ops: { targets: [{ provider: m, model: m }] } }\nplans: { paid: { models: [demo], limits: { requests_per_minute: 1000000000, tokens_per_minute: 1000000000000, concurrent_requests: 1000000, spend_per_month_usd: 1000000000 } } }\nteams: { t: { plan: paid } }\naccess: { rules: [{ name: ops-only, models: [ops], allow: { teams: [ops] } }, { name: no-embeddings, endpoints: [embeddings], allow: { roles: [admin] } }] }\nauth: { api_keys: [{ name: bench, key: bb-bench-key-0123456789, team: t }] }\n',
    'bench.yaml',
  );
  const identity = await Identity.open(config, undefined);
  const authHeaders = { authorization: 'Bearer bb-bench-key-0123456789' };
  const access = new AccessPolicy(config.access.rules);
  const principal = identity.authenticate(authHeaders) as Principal;
  const route = { name: 'demo' };
  const limits = new LimitsPolicy(config.limits, new MemoryStateStore(), createPriceLookup(config), 'zero', () => route, () => ({ providerName: 'm', providerType: 'openai', model: 'gpt-4o-mini' }), {
    teamLimits: () => undefined,
    modelLimits: () => undefined,
    customerPlan: () => undefined,
  });
  let sequence = 0;
  const limitCheck = async () => {
    const ticket = await limits.admit({ requestId: `r${(sequence += 1)}`, principal, route, request: { maxTokens: 200 }, estimateInputTokens: () => 40, conversationId: undefined });
    ticket?.settle({ inputTokens: 40, outputTokens: 12 }, { providerName: 'm', providerType: 'openai', model: 'gpt-4o-mini' });
  };
  const limitsAdmitSettle = await measureAsync(limitCheck, budgetMs);
  // The ledger's hot-path cost per request: the settled record as a row, committed to a file outbox.
  const outboxDir = mkdtempSync(join(tmpdir(), 'bb-bench-outbox-'));
  const outbox = Outbox.open(join(outboxDir, 'outbox.db'));
  const settled = sampleRecord('bench-request-0001');
  let appended = 0;
  const ledgerAppend = measure(() => {
    outbox.append(rowToText(toLedgerRow(settled)));
    // The shipper's removes, on the event loop too, amortized. Not its WAL checkpoint: since 29
    // November (seventh session) that flushes on the thread pool first, and only about 1 ms of it
    // every 4,000 writes is left on the event loop (it was 33-46 ms, 8-12 µs an append here).
    if ((appended += 1) % 1000 === 0) outbox.remove(Number.MAX_SAFE_INTEGER);
  }, budgetMs);
  outbox.close();
  // Shipping: one 500-row batch into an SQLite store, folded into the usage rollups as it goes.
  // Request ids as the gateway makes them, into a ledger that already holds 100,000 rows (the
  // warm-up): where an id lands in the unique index is what a near-empty table would hide.
  const store = await openRecordStore({ driver: 'sqlite', path: join(outboxDir, 'store.db') });
  const shipBatch = () => Array.from({ length: 500 }, () => toLedgerRow(sampleRecord(newRequestId(), { startedAt: Date.now() })));
  const ledgerShip = await measureAsync(() => store.ledger.insertRequests(shipBatch(), { foldRollups: true }), budgetMs, 200, 5);
  await store.close();
  rmSync(outboxDir, { recursive: true, force: true });
  const guardDetector = createDetector();
  return {
    limits_admit_settle_4_limits_memory: limitsAdmitSettle,
    ledger_row_append: ledgerAppend,
    ledger_ship_500_rows_sqlite: ledgerShip,
    'sse_parse_200_chunks_in_1k_slices': measure(() => {
      const parser = new SseParser();
      for (let offset = 0; offset < SSE_BYTES.length; offset += 1024) parser.push(SSE_BYTES.subarray(offset, offset + 1024));
      return parser.end();
    }, budgetMs),
    // One content chunk of an OpenAI stream as the gateway reads each one: parsed, its shape checked.
    openai_stream_chunk_decode: measure(() => decodeStreamChunk(JSON.parse(STREAM_CHUNK_TEXT)), budgetMs),
    // The same request again: its texts' counts are remembered (resent conversations, shared system prompts).
    token_estimate_chat_request: measure(() => estimatePromptTokens(request), budgetMs),
    // A request whose texts were never seen: every message goes through the tokenizer.
    token_estimate_chat_request_new_text: (() => {
      let serial = 0;
      return measure(() => {
        serial += 1;
        return estimatePromptTokens({ ...request, messages: request.messages.map((message) => ({ ...message, content: `${serial} ${String(message.content)}` })) });
      }, budgetMs);
    })(),
    // The tokenizer itself on 4 KB of prose never seen (a count per call; the prompt cache is not involved).
    token_count_4kb_prose: (() => {
      let serial = 0;
      return measure(() => countTextTokens(`${(serial += 1)} ${PROMPT_4KB_CLEAN}`), budgetMs);
    })(),
    decode_openai_chat_request: measure(() => decodeChatRequest(CHAT_BODY), budgetMs),
    parse_openai_chat_response: measure(() => parseChatResponse(COMPLETION_TEXT, 'bench'), budgetMs),
    authenticate_static_key: measure(() => identity.authenticate(authHeaders), budgetMs),
    access_check_plan_team_rules: measure(() => access.check(principal, { endpoint: 'chat', model: 'demo' }), budgetMs),
    // Guardrail detection (all built-in entities) on a 4 KB prompt, without and with PII in it.
    guard_detect_4kb_clean: measure(() => guardDetector.detect(PROMPT_4KB_CLEAN), budgetMs),
    guard_detect_4kb_pii: measure(() => guardDetector.detect(PROMPT_4KB_PII), budgetMs),
    // What one settled chat request costs the metrics subscriber (it runs in the settle phase).
    metrics_observe: (() => {
      const metrics = new GatewayMetrics({ names: configuredNames(() => config), breakers: () => [], inFlight: () => 0 }, { processMetrics: false });
      const record = syntheticRecord({ requestedModel: 'demo', provider: 'm', usage: { inputTokens: 40, outputTokens: 12, cachedInputTokens: 8 } });
      return measure(() => metrics.observe(record), budgetMs);
    })(),
  };
}
