import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseConfigText } from '../config/load.js';
import { configCountsTokens } from './tokenizer-preload.js';

const OPENAI_ONLY = `
auth: { disabled: true }
providers:
  up: { type: openai, api_key: sk-test, base_url: http://127.0.0.1:9/v1 }
models:
  fast: { targets: [{ provider: up, model: gpt-4o-mini }] }
`;

const parse = (text: string) => parseConfigText(text, 'test.yaml', {});

test('a config without limits, token rules or a mock provider does not count tokens', () => {
  assert.equal(configCountsTokens(parse(OPENAI_ONLY)), false);
});

test('limits anywhere, a prompt-size rule, or a mock provider count tokens', () => {
  assert.equal(configCountsTokens(parse(`${OPENAI_ONLY}plans:\n  paid: { limits: { tokens_per_minute: 1000 } }\n`)), true);
  assert.equal(configCountsTokens(parse(`${OPENAI_ONLY}teams:\n  apps: { limits: { spend_per_month_usd: 10 } }\n`)), true);
  assert.equal(configCountsTokens(parse(`${OPENAI_ONLY}limits:\n  routes: { chat: { requests_per_minute: 10 } }\n`)), true);
  assert.equal(configCountsTokens(parse(`${OPENAI_ONLY}routing:\n  rules: [{ name: big, when: { min_prompt_tokens: 1000 }, use_model: fast }]\n`)), true);
  assert.equal(configCountsTokens(parse(OPENAI_ONLY.replace('providers:\n', 'providers:\n  local: { type: mock }\n'))), true);
});
