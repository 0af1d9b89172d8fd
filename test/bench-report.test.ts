import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { check } from '../bench/report.js';

describe('bench target checks', () => {
  it('a value just under its minimum is shown with enough digits to read as missed', () => {
    const result = check('Redis mode throughput vs embedded', 1962.4 / 2809.2, 0.7, 'min', 'x', 'why');
    assert.equal(result.met, false);
    assert.equal(result.value, 0.6986);
    assert.equal(result.note, 'why');
  });

  it('a value just over its maximum is shown with enough digits to read as missed', () => {
    const result = check('added latency', 300.004, 300, 'max', 'µs');
    assert.equal(result.met, false);
    assert.equal(result.value, 300.004);
  });

  it('otherwise two decimals, and a met target carries no note', () => {
    assert.deepEqual(check('throughput', 0.71234, 0.7, 'min', 'x', 'why'), { name: 'throughput', value: 0.71, target: 0.7, direction: 'min', unit: 'x', met: true });
    assert.equal(check('latency', 931.6249, 300, 'max', 'µs').value, 931.62);
    assert.equal(check('exactly at the line', 0.7, 0.7, 'min', 'x').met, true);
  });

  it('an unknown value is not met and shows as null', () => {
    const result = check('not run', null, 10, 'min', 'x', 'skipped');
    assert.equal(result.value, null);
    assert.equal(result.met, false);
  });
});
