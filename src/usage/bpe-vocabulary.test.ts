import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BpeVocabulary } from './bpe-vocabulary.js';

const line = (text: string, rank: number): string => `${Buffer.from(text).toString('base64')} ${rank}`;

test('reads a rank file: lookups by bytes, bytes by rank, holes and CRLF endings', () => {
  const vocabulary = BpeVocabulary.fromTiktoken(Buffer.from([line('a', 0), line('b', 1), line('ab', 4), '', line('héllo', 2)].join('\r\n') + '\n'));
  assert.equal(vocabulary.size, 5);
  const source = Buffer.from('xabhéllo');
  assert.equal(vocabulary.rankOf(source, 1, 3), 4);
  assert.equal(vocabulary.pairRankAt(source, 1), 4);
  assert.equal(vocabulary.rankOf(source, 1, 2), 0);
  assert.equal(vocabulary.rankOf(source, 3, source.length), 2);
  assert.equal(vocabulary.rankOf(source, 0, 2), -1);
  assert.equal(vocabulary.pairRankAt(source, 0), -1);
  assert.equal(Buffer.from(vocabulary.bytesOf(2) as Uint8Array).toString(), 'héllo');
  assert.equal(vocabulary.bytesOf(3), undefined, 'a hole in the ranks');
  assert.equal(vocabulary.bytesOf(5), undefined);
  assert.equal(vocabulary.bytesOf(1.5), undefined);
});

test('refuses a malformed rank file with the line that is wrong', () => {
  assert.throws(() => BpeVocabulary.fromTiktoken(Buffer.from(`${line('a', 0)}\nYg==\n`)), /line 2 has no rank/);
  assert.throws(() => BpeVocabulary.fromTiktoken(Buffer.from(`${line('a', 0)}\nYg== 1x\n`)), /line 2 has a rank that is not a number/);
  assert.throws(() => BpeVocabulary.fromTiktoken(Buffer.from(`${line('a', 0)}\n*** 1\n`)), /line 2 is not "<base64> <rank>"/);
  assert.throws(() => BpeVocabulary.fromTiktoken(Buffer.from(`${line('a', 0)}\n${line('b', 0)}\n`)), /lists rank 0 twice/);
  assert.throws(() => BpeVocabulary.fromTiktoken(Buffer.from(`${line('a', 0)}\n${line('a', 1)}\n`)), /same bytes twice/);
});
