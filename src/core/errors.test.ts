import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { encodeOpenAIError, openAIErrorObject } from '../dialects/openai-chat/encode-error.js';
import { ERROR_REGISTRY, GatewayError, toGatewayError, type ErrorCode } from './errors.js';

const doc = readFileSync(resolve(dirname(fileURLToPath(import.meta.url)), '../../docs/errors.md'), 'utf8');
const codes = Object.keys(ERROR_REGISTRY) as ErrorCode[];

/** The cells of the docs/errors.md table row for a code, or undefined when it has none. */
function docRow(code: string): string[] | undefined {
  const line = doc.split('\n').find((candidate) => candidate.startsWith(`| \`${code}\` |`));
  return line
    ?.split('|')
    .slice(1, -1)
    .map((cell) => cell.trim());
}

describe('docs/errors.md documents the error registry', () => {
  for (const code of codes) {
    it(`${code}: status, retryable flag and OpenAI code match the registry`, () => {
      const spec = ERROR_REGISTRY[code];
      const row = docRow(code);
      assert.ok(row, `docs/errors.md has no table row for ${code}`);
      const [, status, retryable, openaiCode, type, summary] = row;
      assert.equal(status, String(spec.status), 'HTTP status');
      assert.equal(retryable, spec.retryable ? 'yes' : 'no', 'retryable');
      const sent = openAIErrorObject(new GatewayError(code, 'test'));
      assert.equal(openaiCode, `\`${'openaiCode' in spec ? spec.openaiCode : code.toLowerCase()}\``, 'OpenAI code');
      assert.equal(openaiCode, `\`${sent.code}\``, 'OpenAI code as encoded');
      assert.equal(type, `\`${sent.type}\``, 'OpenAI type as encoded');
      assert.equal(summary, spec.summary, 'summary');
    });
  }

  it('lists no code that is not in the registry', () => {
    const documented = [...doc.matchAll(/^\| `(BB_[A-Z_]+)` \|/gm)].map((match) => match[1]);
    assert.deepEqual(documented, codes);
  });
});

describe('toGatewayError', () => {
  it('never exposes the message of a plain Error', () => {
    const secret = 'connect ECONNREFUSED sk-live-secret-value at /srv/app/src/internal.ts:42';
    const error = toGatewayError(new Error(secret), 'req-123');
    assert.equal(error.code, 'BB_INTERNAL');
    assert.equal(error.status, 500);
    assert.ok(!error.message.includes('sk-live-secret-value'));
    assert.ok(error.message.includes('req-123'), 'the message names the request id');
    const encoded = encodeOpenAIError(error, 'req-123');
    assert.ok(!encoded.body.includes('sk-live-secret-value'), 'the encoded body leaks the message');
    assert.ok(!encoded.body.includes('internal.ts'), 'the encoded body leaks a stack frame');
    assert.equal(JSON.parse(encoded.body).error.bb_code, 'BB_INTERNAL');
  });

  it('hides thrown non-errors too, and passes GatewayErrors through unchanged', () => {
    assert.ok(!toGatewayError('password=hunter2').message.includes('hunter2'));
    assert.ok(!toGatewayError({ message: 'token abc' }).message.includes('abc'));
    const original = new GatewayError('BB_MODEL_NOT_FOUND', 'No such model.', { param: 'model' });
    assert.equal(toGatewayError(original), original);
  });
});
