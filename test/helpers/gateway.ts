import OpenAI from 'openai';
import { parseConfigText } from '../../src/config/load.js';
import { startGateway, type RunningGateway } from '../../src/gateway.js';

export const TEST_KEY = 'bb-test-key-0123456789';

export interface TestGateway extends RunningGateway {
  /** An official `openai` SDK client pointed at the gateway with the test key. */
  client: OpenAI;
}

/**
 * Starts a gateway on a free loopback port from YAML text. `server`, `auth` and `logging` default
 * to test values unless the YAML sets them.
 */
export async function startTestGateway(yaml: string, env: NodeJS.ProcessEnv = {}): Promise<TestGateway> {
  const defaults: string[] = [];
  if (!/^server:/m.test(yaml)) defaults.push('server: { host: 127.0.0.1, port: 0, shutdown_grace_ms: 200 }');
  if (!/^auth:/m.test(yaml)) defaults.push(`auth: { api_keys: [{ name: test, key: ${TEST_KEY} }] }`);
  if (!/^logging:/m.test(yaml)) defaults.push('logging: { level: silent }');
  if (!/^store:/m.test(yaml)) defaults.push("store: { path: ':memory:' }");
  const config = parseConfigText(`${defaults.join('\n')}\n${yaml}`, 'test.yaml', env);
  const gateway = await startGateway(config);
  const client = new OpenAI({ apiKey: TEST_KEY, baseURL: `${gateway.url}/v1`, maxRetries: 0, timeout: 10_000 });
  return Object.assign(gateway, { client });
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
