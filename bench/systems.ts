import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Target } from './load.js';
import { freePort, serviceFor, spawnNode, waitUntilUp, type Service } from './processes.js';

const ROOT = new URL('..', import.meta.url).pathname;
export const UPSTREAM_KEY = 'sk-bench-upstream-key-000000000000';
export const GATEWAY_KEY = 'bb-bench-key-0123456789';
const TSX = ['--import', 'tsx'];

export function chatBody(model: string): Target['body'] {
  const base = {
    model,
    messages: [
      { role: 'system', content: 'You are a concise assistant for a shipping company. Answer in two sentences.' },
      { role: 'user', content: 'Where is my parcel? It was due on Monday and the tracking page has not changed since.' },
    ],
    max_tokens: 256,
  };
  const fixed = JSON.stringify(base);
  return (extra) => (extra ? JSON.stringify({ ...base, ...extra }) : fixed);
}

export async function startUpstream(cpu: number | undefined): Promise<Service> {
  const port = await freePort();
  const child = spawnNode([...TSX, join(ROOT, 'bench/upstream-server.ts'), String(port)], cpu);
  const url = `http://127.0.0.1:${port}`;
  await waitUntilUp(url, child);
  return serviceFor('upstream', url, child);
}

export async function startBaseline(upstream: string, cpu: number | undefined): Promise<Service> {
  const port = await freePort();
  const child = spawnNode([...TSX, join(ROOT, 'bench/baseline-proxy.ts'), String(port), upstream], cpu);
  const url = `http://127.0.0.1:${port}`;
  await waitUntilUp(url, child);
  return serviceFor('baseline', url, child);
}

/**
 * Breakerbox from the built CLI with a production-shaped config: API-key auth with a team, a plan
 * and an access rule, a SQLite record store, request logs on (JSON lines to /dev/null, so
 * serialising them is still paid), an OpenAI provider to the bench upstream, and an in-process mock
 * model for the 10,000-stream memory run. Limits, budgets, guards and the ledger join as they land.
 */
/** Guardrails as a cautious deployment sets them: egress rules for four entities, injection flagging, output secret redaction. */
const GUARDRAILS_YAML = `guardrails:
  entities: { email: { external: tokenize }, ssn: { external: mask }, payment_card: { external: block }, secret: { external: mask } }
  injection: { action: flag }
  output: { secrets: redact }
`;

export async function startBreakerbox(upstream: string, cpu: number | undefined, workDir: string, redisUrl?: string, options: { guards?: boolean; extraYaml?: string; name?: string; nodeArgs?: string[]; root?: string } = {}): Promise<Service> {
  const port = await freePort();
  const name = options.name ?? (options.guards ? 'breakerbox-guards' : redisUrl === undefined ? 'breakerbox' : 'breakerbox-redis');
  // A folder of its own: a gateway writes its store and outbox beside its config, and another
  // gateway watching that folder for config changes would be woken by every write (as two
  // gateways of builds before 29 November, sixth session, were: they watched the directory).
  const dir = join(workDir, name);
  await mkdir(dir, { recursive: true });
  const configPath = join(dir, `${name}-bench.yaml`);
  // Limits high enough never to refuse: the bench measures what checking them costs.
  const limits =
    redisUrl === undefined
      ? 'limits: { backend: memory }'
      : `limits: { backend: redis, redis_url: ${JSON.stringify(redisUrl)}, redis_prefix: bbbench${port} }`;
  await writeFile(
    configPath,
    `server: { host: 127.0.0.1, port: ${port}, shutdown_grace_ms: 1000 }
store: { path: ${JSON.stringify(join(dir, `${name}-bench.db`))} }
${limits}
plans:
  paid:
    models: [bench, bench-mock, bench-fallback, reserved]
    endpoints: [chat, models]
    limits: { requests_per_minute: 100000000, tokens_per_minute: 1000000000000, concurrent_requests: 1000000, spend_per_month_usd: 1000000000 }
teams:
  apps: { plan: paid }
access:
  rules:
    - { name: reserved-for-ops, models: [reserved], allow: { teams: [ops] } }
auth:
  default_plan: paid
  api_keys:
    - { name: bench, key: ${GATEWAY_KEY}, team: apps }
providers:
  upstream:
    type: openai
    api_key: \${env:BENCH_UPSTREAM_KEY}
    base_url: ${upstream}/v1
    max_connections: 20000
  mock:
    type: mock
    reply: { mode: lorem, tokens: 20 }
    tokens_per_second: 4
  broken:
    type: mock
    failure: { status: 500 }
models:
  bench: { targets: [{ provider: upstream, model: gpt-4o-mini }] }
  bench-fallback: { targets: [{ provider: broken, model: always-500 }], fallbacks: [{ model: bench }] }
  bench-mock: { targets: [{ provider: mock, model: mock-stream }] }
  reserved: { targets: [{ provider: mock, model: mock-reserved }] }
logging: { level: info, requests: true }
${options.guards ? GUARDRAILS_YAML : ''}${options.extraYaml ?? ''}`,
  );
  process.env.BENCH_UPSTREAM_KEY = UPSTREAM_KEY;
  const child = spawnNode([...(options.nodeArgs ?? []), join(options.root ?? ROOT, 'dist/cli/main.js'), 'start', '--config', configPath], cpu);
  const url = `http://127.0.0.1:${port}`;
  await waitUntilUp(`${url}/healthz`, child);
  return serviceFor(name, url, child);
}
