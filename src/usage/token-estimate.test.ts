import assert from 'node:assert/strict';
import { test } from 'node:test';
import { countTokens as libraryCount } from 'gpt-tokenizer/encoding/o200k_base';
import { countTextTokens, decodeTokens, encodeText, estimatePromptTokens, EXACT_COUNT_CHARS, tokenizerLoaded } from './token-estimate.js';

// Runs in its own process (node --test), so nothing else has counted tokens yet.
test('the tokenizer is built on first use only, and counts exactly', () => {
  assert.equal(tokenizerLoaded(), false);
  assert.equal(countTextTokens(''), 0);
  assert.equal(tokenizerLoaded(), false, 'an empty text needs no tokenizer');
  const text = 'Where is my parcel? It was due on Monday and the tracking page has not changed since.';
  assert.equal(countTextTokens(text), libraryCount(text));
  assert.equal(tokenizerLoaded(), true);
  assert.equal(decodeTokens(encodeText(text)), text);
});

test('prompt estimates go through the same tokenizer (and the count cache) exactly', () => {
  const system = 'You are a concise assistant for a shipping company. Answer in two sentences.';
  const user = 'Where is my parcel? It was due on Monday and the tracking page has not changed since.';
  const request = { model: 'm', stream: false, messages: [{ role: 'system' as const, content: system }, { role: 'user' as const, content: user }], extra: {} };
  const expected = 3 + (3 + libraryCount(system)) + (3 + libraryCount(user));
  // Twice: the second answer comes from the prompt-text cache.
  assert.equal(estimatePromptTokens(request as Parameters<typeof estimatePromptTokens>[0]), expected);
  assert.equal(estimatePromptTokens(request as Parameters<typeof estimatePromptTokens>[0]), expected);
});

test('a text past EXACT_COUNT_CHARS is counted on its head and scaled by length, close to the exact count', () => {
  let prose = '';
  for (let paragraph = 0; prose.length < 3 * EXACT_COUNT_CHARS; paragraph += 1) {
    prose += `Paragraph ${paragraph}: the supplier shall deliver the goods to the buyer's warehouse within ${paragraph % 30} days, unless agreed otherwise in writing. `;
  }
  const head = libraryCount(prose.slice(0, EXACT_COUNT_CHARS));
  assert.equal(countTextTokens(prose), Math.ceil((head * prose.length) / EXACT_COUNT_CHARS));
  const exact = libraryCount(prose);
  assert.ok(Math.abs(countTextTokens(prose) - exact) / exact < 0.02, `${countTextTokens(prose)} against ${exact}`);
  // At the bound itself the count is exact.
  assert.equal(countTextTokens(prose.slice(0, EXACT_COUNT_CHARS)), head);
});
