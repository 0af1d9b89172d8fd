import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BpeEncoder } from './bpe-encoder.js';
import { BpeVocabulary } from './bpe-vocabulary.js';

function rankFile(tokens: string[], bytes = 256): Buffer {
  const lines: string[] = [];
  for (let byte = 0; byte < bytes; byte += 1) lines.push(`${Buffer.from([byte]).toString('base64')} ${byte}`);
  tokens.forEach((token, index) => lines.push(`${Buffer.from(token).toString('base64')} ${bytes + index}`));
  return Buffer.from(lines.join('\n'));
}

test('splits with the pattern, then merges each piece that is not one token', () => {
  const encoder = new BpeEncoder(BpeVocabulary.fromTiktoken(rankFile(['he', 'hel', 'hello', ' w', 'or'])), / ?\p{L}+|\s+|./gu);
  // "hello" is one token; " world" merges to " w" + "or" + "l" + "d".
  assert.deepEqual(encoder.encode('hello world'), [258, 259, 260, 108, 100]);
  assert.equal(encoder.countTokens('hello world'), 5);
  assert.equal(encoder.decode([258, 259, 260, 108, 100]), 'hello world');
  assert.equal(encoder.countTokens(''), 0);
});

test('refuses a vocabulary that lacks a single byte: some text could not be encoded', () => {
  assert.throws(() => new BpeEncoder(BpeVocabulary.fromTiktoken(rankFile([], 255)), /./gu), /no token for byte 255/);
});
