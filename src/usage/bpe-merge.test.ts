import assert from 'node:assert/strict';
import { test } from 'node:test';
import { mergeByHeap, mergeByScan, SCAN_LIMIT } from './bpe-merge.js';
import { BpeVocabulary } from './bpe-vocabulary.js';
import { loadO200kVocabulary } from './o200k-encoding.js';

/** A tiny rank file: every byte, then merges chosen so ties and chains happen often. */
function tinyVocabulary(): BpeVocabulary {
  const lines: string[] = [];
  for (let byte = 0; byte < 256; byte += 1) lines.push(`${Buffer.from([byte]).toString('base64')} ${byte}`);
  ['ab', 'ba', 'aa', 'bb', 'aba', 'bab', 'aab', 'abab', 'baba', 'aaaa', 'bbbb', 'ababab', 'abba'].forEach((token, index) => lines.push(`${Buffer.from(token).toString('base64')} ${256 + index}`));
  return BpeVocabulary.fromTiktoken(Buffer.from(lines.join('\n')));
}

function randomBytes(length: number, alphabet: string, next: () => number): Uint8Array {
  return Buffer.from(Array.from({ length }, () => alphabet[Math.floor(next() * alphabet.length)]).join(''), 'latin1');
}

function seeded(seed: number): () => number {
  return () => (seed = (seed * 1_103_515_245 + 12_345) & 0x7fffffff) / 0x7fffffff;
}

test('the heap merge picks the same pairs as the scan, on ties and chains', () => {
  const vocabulary = tinyVocabulary();
  const next = seeded(3);
  for (let round = 0; round < 2_000; round += 1) {
    const bytes = randomBytes(2 + Math.floor(next() * 80), 'ab', next);
    const scanned: number[] = [];
    const heaped: number[] = [];
    const count = mergeByScan(vocabulary, bytes, bytes.length, scanned);
    assert.equal(mergeByHeap(vocabulary, bytes, bytes.length, heaped), count);
    assert.deepEqual(heaped, scanned, Buffer.from(bytes).toString('latin1'));
    assert.equal(count, scanned.length);
    assert.equal(Buffer.concat(scanned.map((rank) => vocabulary.bytesOf(rank) as Uint8Array)).toString('latin1'), Buffer.from(bytes).toString('latin1'));
  }
});

test('on o200k_base too, for pieces on both sides of the scan limit', () => {
  const vocabulary = loadO200kVocabulary();
  const next = seeded(11);
  for (let round = 0; round < 500; round += 1) {
    const bytes = randomBytes(2 + Math.floor(next() * SCAN_LIMIT * 3), 'abcdeint_-=!?', next);
    const scanned: number[] = [];
    const heaped: number[] = [];
    assert.equal(mergeByHeap(vocabulary, bytes, bytes.length, heaped), mergeByScan(vocabulary, bytes, bytes.length, scanned));
    assert.deepEqual(heaped, scanned);
  }
});

test('counting without an output list gives the same count', () => {
  const vocabulary = tinyVocabulary();
  const bytes = Buffer.from('abababbaabbbbaaaab'.repeat(10), 'latin1');
  const tokens: number[] = [];
  assert.equal(mergeByScan(vocabulary, bytes, bytes.length, undefined), mergeByScan(vocabulary, bytes, bytes.length, tokens));
  assert.equal(mergeByHeap(vocabulary, bytes, bytes.length, undefined), tokens.length);
});
