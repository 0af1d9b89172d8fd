import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { OPENAI_PROFILE } from '../openai/wire-profile.js';
import { DeploymentPaths } from './deployment-paths.js';
import { classifyAzureError } from './parse-error.js';
import { azureWireProfile } from './wire-profile.js';

describe('DeploymentPaths', () => {
  it('builds deployment paths with the api-version query once per deployment', () => {
    const paths = new DeploymentPaths('/', '2024-10-21');
    const chat = paths.pathFor('chat', 'gpt-4o');
    assert.equal(chat, '/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21');
    assert.equal(paths.pathFor('embeddings', 'gpt-4o'), '/openai/deployments/gpt-4o/embeddings?api-version=2024-10-21');
    assert.equal(paths.pathFor('chat', 'gpt-4o'), chat);
  });

  it("keeps an endpoint's own path (a proxy in front of Azure) and encodes names", () => {
    const paths = new DeploymentPaths('/aoai/', '2025-01-01-preview');
    assert.equal(paths.pathFor('chat', 'team a/b'), '/aoai/openai/deployments/team%20a%2Fb/chat/completions?api-version=2025-01-01-preview');
  });
});

describe('azureWireProfile', () => {
  it('is OpenAI itself for current versions and unknown shapes', () => {
    assert.equal(azureWireProfile('2024-10-21'), OPENAI_PROFILE);
    assert.equal(azureWireProfile('2025-04-01-preview'), OPENAI_PROFILE);
    assert.equal(azureWireProfile('latest'), OPENAI_PROFILE);
  });

  it('uses max_tokens and does not ask for stream usage before 2024-09-01', () => {
    const profile = azureWireProfile('2024-06-01');
    assert.equal(profile.maxTokensField, 'max_tokens');
    assert.equal(profile.streamUsage, 'automatic');
    assert.equal(azureWireProfile('2024-08-01-preview').streamUsage, 'automatic');
  });
});

describe('classifyAzureError', () => {
  const blocked = (innererror: unknown) =>
    JSON.stringify({ error: { message: 'The response was filtered due to the prompt.', code: 'content_filter', param: 'prompt', status: 400, innererror } });

  it('maps a blocked prompt to BB_CONTENT_FILTERED naming the filtered categories', () => {
    const error = classifyAzureError(400, blocked({ code: 'ResponsibleAIPolicyViolation', content_filter_result: { hate: { filtered: true, severity: 'high' }, jailbreak: { filtered: true, detected: true }, sexual: { filtered: false } } }), []);
    assert.equal(error?.code, 'BB_CONTENT_FILTERED');
    assert.equal(error?.status, 400);
    assert.equal(error?.retryable, false);
    assert.equal(error?.message, 'The response was filtered due to the prompt. (filtered: hate, jailbreak)');
    assert.equal(classifyAzureError(400, blocked({ content_filter_results: { violence: { filtered: true } } }), [])?.message.endsWith('(filtered: violence)'), true);
  });

  it('redacts configured secrets from the message', () => {
    const body = JSON.stringify({ error: { code: 'content_filter', message: 'blocked for key azkey-0123456789' } });
    assert.equal(classifyAzureError(400, body, ['azkey-0123456789'])?.message, 'blocked for key [REDACTED]');
  });

  it('leaves every other answer to the OpenAI rules', () => {
    assert.equal(classifyAzureError(404, '{"error":{"code":"DeploymentNotFound","message":"no"}}', []), undefined);
    assert.equal(classifyAzureError(400, '{"error":{"code":"invalid","message":"content_filter is mentioned"}}', []), undefined);
    assert.equal(classifyAzureError(400, 'content_filter, not JSON', []), undefined);
  });
});
