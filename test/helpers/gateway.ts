import OpenAI from 'openai';
import { parseConfigText } from '../../src/config/load.js';
import type { Config } from '../../src/config/schema.js';
import { startGateway, type RunningGateway, type StartOptions } from '../../src/gateway.js';

export const TEST_KEY = 'bb-test-key-0123456789';

export interface TestGateway extends RunningGateway {
  /** An official `openai` SDK client pointed at the gateway with the test key. */
  client: OpenAI;
}

/**
 * Starts a gateway on a free loopback port from YAML text. `server`, `auth` and `logging` default
 * to test values unless the YAML sets them.
 */
export async function startTestGateway(yaml: string, env: NodeJS.ProcessEnv = {}, options: StartOptions = {}): Promise<TestGateway> {
  const config = parseTestConfig(yaml, env);
  const gateway = await startGateway(config, options);
  const client = new OpenAI({ apiKey: TEST_KEY, baseURL: `${gateway.url}/v1`, maxRetries: 0, timeout: 10_000 });
  return Object.assign(gateway, { client });
}

/** A config from YAML text with the test defaults of startTestGateway (e.g. for `gateway.reload`). */
export function parseTestConfig(yaml: string, env: NodeJS.ProcessEnv = {}): Config {
  const defaults: string[] = [];
  if (!/^server:/m.test(yaml)) defaults.push('server: { host: 127.0.0.1, port: 0, shutdown_grace_ms: 200 }');
  if (!/^auth:/m.test(yaml)) defaults.push(`auth: { api_keys: [{ name: test, key: ${TEST_KEY} }] }`);
  if (!/^logging:/m.test(yaml)) defaults.push('logging: { level: silent }');
  if (!/^store:/m.test(yaml)) defaults.push("store: { path: ':memory:' }");
  // Tests keep the ledger's outbox in memory unless they test the outbox file itself.
  if (!/^ledger:/m.test(yaml)) defaults.push("ledger: { outbox_path: ':memory:' }");
  return parseConfigText(`${defaults.join('\n')}\n${yaml}`, 'test.yaml', env);
}

/** The mock provider and a `demo` model on it; enough for most tests. */
export const MOCK_YAML = `
providers:
  mock:
    type: mock
    reply: { mode: lorem, tokens: 12 }
models:
  demo:
    targets:
      - provider: mock
        model: mock-1
`;

/**
 * Provider adapter tests count upstream calls per request: one attempt per target, no retries, and
 * breakers that never open and no Retry-After pauses across the file's many deliberate failures.
 * Routing has its own tests.
 */
export const ONE_ATTEMPT_PER_TARGET = 'routing: { retries: { attempts: 0, max_retry_after_s: 0 }, breaker: { consecutive_failures: 1000, error_rate: 1 } }';
