import assert from 'node:assert/strict';
import { test } from 'node:test';
import { applyHeapGrowth } from './heap-growth.js';

test('an explicit --heap-growing-percent on the node command line wins', () => {
  assert.equal(applyHeapGrowth(['--heap-growing-percent=0']), false);
  assert.equal(applyHeapGrowth(['--heap-growing-percent', '20']), false);
});

test('otherwise the gateway sets its own bound', () => {
  assert.equal(applyHeapGrowth(['--enable-source-maps']), true);
});
