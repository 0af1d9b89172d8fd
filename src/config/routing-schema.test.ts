import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, formatIssue } from './issues.js';
import { parseConfigText } from './load.js';

const BASE = `
auth: { disabled: true }
providers: { mock: { type: mock } }
`;

function issuesOf(yaml: string): string[] {
  try {
    parseConfigText(`${BASE}${yaml}`, 'test.yaml', {});
  } catch (error) {
    assert.ok(error instanceof ConfigError, `expected a ConfigError, got ${String(error)}`);
    return error.issues.map(formatIssue);
  }
  assert.fail('the config was accepted');
}

describe('routing config', () => {
  it('accepts strategies, weights, context windows, fallbacks and rules, with defaults', () => {
    const config = parseConfigText(
      `${BASE}
models:
  a: { strategy: weighted, targets: [{ provider: mock, model: x, weight: 3, context_window: 8000 }, { provider: mock, model: y, name: why }], fallbacks: [{ model: b }] }
  b: { targets: [{ provider: mock, model: z }] }
routing:
  rules: [{ name: r, models: [a], when: { keywords: [hi] }, only_targets: [why] }]
`,
      'test.yaml',
      {},
    );
    assert.equal(config.models.a?.strategy, 'weighted');
    assert.deepEqual(config.models.a?.fallbacks, [{ model: 'b', on: ['rate_limited', 'overloaded', 'timeout', 'connection', 'context_window'] }]);
    assert.equal(config.routing.retries.budget_ratio, 0.2);
    assert.equal(config.routing.breaker.consecutive_failures, 5);
  });

  it('names unknown models in fallbacks and rules, unknown targets, and a model falling back to itself', () => {
    const issues = issuesOf(`
models:
  a: { targets: [{ provider: mock, model: x }], fallbacks: [{ model: nope }, { model: a }] }
routing:
  fallbacks: [{ model: gone }]
  rules:
    - { name: r1, models: [ghost], use_model: a }
    - { name: r2, models: [a], only_targets: [mock/y] }
    - { name: r3, use_model: missing }
`);
    assert.deepEqual(issues.sort(), [
      'models.a.fallbacks[0].model: unknown model "nope" (defined models: a)',
      'models.a.fallbacks[1].model: a model cannot fall back to itself',
      'routing.fallbacks[0].model: unknown model "gone" (defined models: a)',
      'routing.rules[0].models[0]: unknown model "ghost" (defined models: a)',
      'routing.rules[1].only_targets: model "a" has no target named "mock/y" (it has: mock/x)',
      'routing.rules[2].use_model: unknown model "missing" (defined models: a)',
    ].sort());
  });

  it('refuses a rule without an action, a broken regex, duplicate target names and unknown strategies', () => {
    const issues = issuesOf(`
models:
  a: { strategy: fastest, targets: [{ provider: mock, model: x }, { provider: mock, model: x }] }
routing:
  rules:
    - { name: r1, when: { keywords: [hi] } }
    - { name: r2, when: { pattern: '(unclosed' }, use_model: a }
`);
    const text = issues.join('\n');
    assert.match(text, /models\.a\.strategy: .*priority/);
    assert.match(text, /routing\.rules\[0\]: give use_model, only_targets or add_models/);
    assert.match(text, /routing\.rules\[1\]\.when\.pattern: pattern is not a valid regular expression/);
    assert.match(text, /models\.a\.targets\[1\]: duplicate target name "mock\/x"/);
  });
});
