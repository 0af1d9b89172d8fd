/**
 * The benchmark's upstream: a fast OpenAI-compatible server in its own process. Non-streaming
 * answers are one precomputed ~600-byte chat.completion; streams send `bench.chunks` chunks
 * `bench.interval_ms` apart, after `bench.hold_ms` (fields of the request body; a proxy that drops fields it does not
 * know, as Portkey does, gets the defaults: 5 chunks 10 ms apart).
 * Prints `READY <url>` when listening. Loopback only.
 */
import { createServer } from 'node:http';

const port = Number(process.argv[2] ?? 0);

const COMPLETION = JSON.stringify({
  id: 'chatcmpl-bench-0001',
  object: 'chat.completion',
  created: 1_700_000_000,
  model: 'gpt-4o-mini-2024-07-18',
  system_fingerprint: 'fp_bench',
  choices: [
    {
      index: 0,
      message: {
        role: 'assistant',
        content: 'Benchmarks measure; they do not assert. This reply is about the size of a typical short answer from a model.',
        refusal: null,
      },
      logprobs: null,
      finish_reason: 'stop',
    },
  ],
  usage: {
    prompt_tokens: 24,
    completion_tokens: 26,
    total_tokens: 50,
    prompt_tokens_details: { cached_tokens: 0 },
    completion_tokens_details: { reasoning_tokens: 0 },
  },
});

function chunk(content: string | undefined, finish: string | null, usage = false): string {
  const choices = usage ? [] : [{ index: 0, delta: content === undefined ? {} : { content }, logprobs: null, finish_reason: finish }];
  const body: Record<string, unknown> = { id: 'chatcmpl-bench-0001', object: 'chat.completion.chunk', created: 1_700_000_000, model: 'gpt-4o-mini-2024-07-18', choices };
  if (usage) body.usage = { prompt_tokens: 24, completion_tokens: 26, total_tokens: 50 };
  return `data: ${JSON.stringify(body)}\n\n`;
}
const TOKEN_CHUNK = chunk(' token', null);
const FINISH_CHUNK = chunk(undefined, 'stop');
const USAGE_CHUNK = chunk(undefined, null, true);
const DATA_DONE = 'data: [DONE]\n\n';

interface StreamSpec {
  chunks: number;
  intervalMs: number;
  /** Wait this long after the role chunk before the token chunks start (keeps many streams open at once). */
  holdMs: number;
  usage: boolean;
}

function streamSpec(body: string): StreamSpec | undefined {
  if (!body.includes('"stream":true')) return undefined;
  const parsed = JSON.parse(body) as { bench?: { chunks?: number; interval_ms?: number; hold_ms?: number }; stream_options?: { include_usage?: boolean } };
  const bench = parsed.bench;
  return { chunks: bench?.chunks ?? 5, intervalMs: bench?.interval_ms ?? 10, holdMs: bench?.hold_ms ?? 0, usage: parsed.stream_options?.include_usage === true };
}

const server = createServer((request, response) => {
  const parts: Buffer[] = [];
  request.on('data', (part: Buffer) => parts.push(part));
  request.on('end', () => {
    const spec = parts.length > 0 ? streamSpec(Buffer.concat(parts).toString()) : undefined;
    if (!spec) {
      response.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(COMPLETION) });
      response.end(COMPLETION);
      return;
    }
    response.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    response.flushHeaders();
    response.write(chunk('', null).replace('"delta":{"content":""}', '"delta":{"role":"assistant","content":""}'));
    let sent = 0;
    let timer: NodeJS.Timeout | undefined;
    const tick = () => {
      if (response.destroyed) {
        clearInterval(timer);
        return;
      }
      if (sent < spec.chunks) {
        response.write(TOKEN_CHUNK);
        sent += 1;
        return;
      }
      clearInterval(timer);
      response.end(FINISH_CHUNK + (spec.usage ? USAGE_CHUNK : '') + DATA_DONE);
    };
    if (spec.holdMs > 0) timer = setTimeout(() => (timer = setInterval(tick, spec.intervalMs)), spec.holdMs);
    else timer = setInterval(tick, spec.intervalMs);
    response.on('close', () => clearInterval(timer));
  });
});
server.keepAliveTimeout = 60_000;
server.maxConnections = 30_000;
server.listen(port, '127.0.0.1', () => {
  const address = server.address();
  if (address && typeof address === 'object') process.stdout.write(`READY http://127.0.0.1:${address.port}\n`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
