import assert from 'node:assert/strict';
import { test } from 'node:test';
import libraryRanks from 'gpt-tokenizer/bpeRanks/o200k_base';
import { countTokens as libraryCount, encode as libraryEncode } from 'gpt-tokenizer/encoding/o200k_base';
import { loadO200kEncoding, loadO200kVocabulary } from './o200k-encoding.js';

const encoding = loadO200kEncoding();
/** The library refuses special-token text unless told to treat it as text, as the gateway does. */
const AS_TEXT = { disallowedSpecial: new Set<string>() };

const TEXTS = [
  'Hello, world!',
  'Where is my parcel? It was due on Monday and the tracking page has not changed since.',
  "I'LL do it; she's here, they'RE gone, we'd've known",
  '日本語のテキスト, emoji 🚀🚀 and accents: café, naïve, Zürich.',
  'Привет мир! Γειά σου Κόσμε! مرحبا بالعالم שלום עולם नमस्ते दुनिया ǅ ʰ ä',
  '  indented\n\tcode {\n  return x ?? y;\n}\n\r\n\r\n   \n  x',
  '12345678901234 3.14159 1,000,000',
  'x'.repeat(5_000),
  'ab'.repeat(3_000),
  '!?'.repeat(1_000),
];

/** Seeded text from an alphabet of the pattern's edge cases: marks, joiners, case pairs, CR/LF, digits. */
function randomTexts(count: number): string[] {
  const alphabet = [...' aAbBzZ09\n\r\t.,;!?\'"-_/\\()[]{}é日本🚀\u0301\u200dßẞǅ'];
  let seed = 7;
  const next = (): number => (seed = (seed * 1_103_515_245 + 12_345) & 0x7fffffff) / 0x7fffffff;
  return Array.from({ length: count }, () => Array.from({ length: Math.floor(next() * 200) }, () => alphabet[Math.floor(next() * alphabet.length)]).join(''));
}

test('the vocabulary holds the library\'s o200k_base table, rank by rank', () => {
  const vocabulary = loadO200kVocabulary();
  assert.equal(vocabulary.size, libraryRanks.length);
  let differing = 0;
  for (let rank = 0; rank < libraryRanks.length; rank += 1) {
    const theirs = libraryRanks[rank];
    const expected = typeof theirs === 'string' ? Buffer.from(theirs, 'utf8') : Buffer.from(theirs as number[]);
    const ours = vocabulary.bytesOf(rank);
    if (ours === undefined || !expected.equals(ours)) differing += 1;
  }
  assert.equal(differing, 0);
});

test('counts and tokens are exactly the library\'s, and decode gives the text back', () => {
  for (const text of [...TEXTS, ...randomTexts(300)]) {
    const tokens = encoding.encode(text);
    assert.deepEqual(tokens, libraryEncode(text, AS_TEXT), JSON.stringify(text.slice(0, 40)));
    assert.equal(encoding.countTokens(text), libraryCount(text, AS_TEXT));
    assert.equal(encoding.decode(tokens), text);
  }
  assert.equal(encoding.countTokens(''), 0);
});

test('special-token text in a prompt is counted as ordinary text, never refused', () => {
  for (const text of ['what does <|endoftext|> mean?', '<|im_start|>system<|im_end|>', '<|endofprompt|>']) {
    const tokens = encoding.encode(text);
    assert.ok(tokens.length > 1);
    assert.ok(tokens.every((token) => token < 199_999), 'no special token is produced');
    assert.equal(encoding.countTokens(text), tokens.length);
    assert.equal(encoding.decode(tokens), text);
  }
});

test('a piece that starts with a byte order mark is looked up by its bytes, as tiktoken does', () => {
  // The library stores such tokens as byte arrays and misses them (6 tokens); the table has the whole piece.
  const tokens = encoding.encode('\uFEFFusing namespace std;');
  assert.equal(tokens.length, 4);
  assert.equal(encoding.decode(tokens.slice(0, 1)), '\uFEFFusing');
  assert.equal(encoding.decode(tokens), '\uFEFFusing namespace std;', 'the mark survives decoding');
});

test('a lone surrogate is encoded as U+FFFD, as TextEncoder does', () => {
  assert.equal(encoding.decode(encoding.encode('lone \uD800 surrogate')), 'lone \uFFFD surrogate');
});

test('a long piece (a run with no spaces) merges the same through the heap', () => {
  // One piece of 200,000 bytes: the quadratic merge needed minutes for this (0.4 s for 30 KB).
  assert.equal(encoding.countTokens('ab'.repeat(100_000)), encoding.countTokens('ab'.repeat(1_000)) * 100);
  assert.equal(encoding.countTokens(' '.repeat(200_000) + 'x'), encoding.encode(' '.repeat(200_000) + 'x').length);
});

test('unknown token numbers are refused by decode', () => {
  assert.throws(() => encoding.decode([5, 999_999_999]), /Token 999999999 is not in the vocabulary/);
  assert.throws(() => encoding.decode([-1]), /not in the vocabulary/);
});
