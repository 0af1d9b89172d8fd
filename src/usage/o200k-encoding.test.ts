import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { test } from 'node:test';
import libraryRanks from 'gpt-tokenizer/bpeRanks/o200k_base';
import { countTokens as libraryCount, encode as libraryEncode } from 'gpt-tokenizer/encoding/o200k_base';
import { isWellFormedUtf8, loadO200kEncoding, parseTiktokenRanks } from './o200k-encoding.js';

const TEXTS = [
  'Hello, world!',
  'Where is my parcel? It was due on Monday and the tracking page has not changed since.',
  '日本語のテキスト, emoji 🚀🚀 and accents: café, naïve, Zürich.',
  '\uFEFFusing namespace std; // a byte order mark first',
  '  indented\n\tcode {\n  return x ?? y;\n}\n',
  'x'.repeat(5_000),
];

test('the rank table read from the .tiktoken file equals the library module, entry by entry', () => {
  const path = createRequire(import.meta.url).resolve('gpt-tokenizer/data/o200k_base.tiktoken');
  const ranks = parseTiktokenRanks(readFileSync(path));
  assert.equal(ranks.length, libraryRanks.length);
  let differing = 0;
  for (let rank = 0; rank < ranks.length; rank += 1) {
    const ours = ranks[rank];
    const theirs = libraryRanks[rank];
    if (typeof ours === 'string' ? ours !== theirs : JSON.stringify(ours) !== JSON.stringify(theirs)) differing += 1;
  }
  assert.equal(differing, 0);
});

test('counts and tokens are exactly the library module\'s', () => {
  const encoding = loadO200kEncoding();
  for (const text of TEXTS) {
    assert.equal(encoding.countTokens(text), libraryCount(text), text.slice(0, 40));
    assert.deepEqual(encoding.encode(text), libraryEncode(text));
    assert.equal(encoding.decode(encoding.encode(text)), text);
  }
});

test('UTF-8 validity matches TextDecoder\'s fatal mode', () => {
  const fatal = new TextDecoder('utf-8', { fatal: true });
  const cases = [[0x41], [0xc3, 0xa9], [0xc0, 0x80], [0xc2], [0xe2, 0x82, 0xac], [0xe0, 0x80, 0x80], [0xed, 0xa0, 0x80], [0xf0, 0x9f, 0x9a, 0x80], [0xf4, 0x90, 0x80, 0x80], [0xf5, 0x80, 0x80, 0x80], [0x80], [0xe2, 0x82]];
  for (const bytes of cases) {
    let valid = true;
    try {
      fatal.decode(new Uint8Array(bytes));
    } catch {
      valid = false;
    }
    assert.equal(isWellFormedUtf8(new Uint8Array(bytes), bytes.length), valid, JSON.stringify(bytes));
  }
});
