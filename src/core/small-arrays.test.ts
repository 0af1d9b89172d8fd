import assert from 'node:assert/strict';
import { test } from 'node:test';
import { appended } from './small-arrays.js';

test('appends to a copy, leaving the list given unchanged, nested arrays as one item', () => {
  const first = appended(undefined, 'a');
  assert.deepEqual(first, ['a']);
  const second = appended(first, 'b');
  assert.deepEqual(second, ['a', 'b']);
  assert.deepEqual(first, ['a']);
  assert.deepEqual(appended<number[]>([[1]], [2, 3]), [[1], [2, 3]]);
  assert.deepEqual(appended([], 1), [1]);
  assert.deepEqual(appended(appended(second, 'c'), 'd'), ['a', 'b', 'c', 'd']);
  assert.deepEqual(appended([undefined], 2), [undefined, 2]);
});
