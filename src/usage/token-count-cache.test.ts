import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TokenCountCache } from './token-count-cache.js';

function countingCache(charsPerGeneration: number) {
  const counted: string[] = [];
  const cache = new TokenCountCache((text) => {
    counted.push(text);
    return text.split(' ').length;
  }, charsPerGeneration);
  return { cache, counted };
}

const SYSTEM = 'You are a concise assistant for a shipping company. Answer in two sentences.';

test('a repeated text is counted once and answers the same count', () => {
  const { cache, counted } = countingCache(10_000);
  assert.equal(cache.tokens(SYSTEM), 13);
  assert.equal(cache.tokens(SYSTEM), 13);
  assert.equal(cache.tokens(`${SYSTEM}`), 13);
  assert.deepEqual(counted, [SYSTEM]);
});

test('short texts are counted every time (a cache entry would cost more)', () => {
  const { cache, counted } = countingCache(10_000);
  cache.tokens('hi there');
  cache.tokens('hi there');
  assert.equal(counted.length, 2);
});

test('texts too large for a generation are counted directly and not kept', () => {
  const { cache, counted } = countingCache(1_600);
  const large = 'word '.repeat(40);
  cache.tokens(large);
  cache.tokens(large);
  assert.equal(counted.length, 2);
});

test('memory is bounded: a full generation turns over, and a text used again survives one turnover', () => {
  const { cache, counted } = countingCache(2_000);
  const texts = Array.from({ length: 200 }, (_, i) => `message number ${i} of a long conversation history`);
  cache.tokens(texts[0] as string);
  // About 50 chars each: 2,000 chars hold about 40 texts per generation.
  for (let i = 1; i < 45; i += 1) cache.tokens(texts[i] as string);
  counted.length = 0;
  cache.tokens(texts[0] as string); // in the old generation now: not counted again
  assert.equal(counted.length, 0);
  for (let i = 45; i < 200; i += 1) cache.tokens(texts[i] as string);
  counted.length = 0;
  cache.tokens(texts[1] as string); // two turnovers later: gone, counted again
  assert.deepEqual(counted, [texts[1]]);
});
