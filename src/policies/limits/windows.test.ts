import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { resetText, secondsUntil, windowAt } from './windows.js';

describe('limit windows', () => {
  it('fixed windows align to the epoch', () => {
    const now = Date.UTC(2026, 10, 28, 12, 30, 15, 500);
    assert.deepEqual(windowAt('minute', now, 'UTC'), { id: `m${Math.floor(now / 60_000)}`, endMs: Date.UTC(2026, 10, 28, 12, 31) });
    assert.equal(windowAt('second', now, 'UTC').endMs, Date.UTC(2026, 10, 28, 12, 30, 16));
  });

  it('calendar windows follow the time zone', () => {
    const now = Date.UTC(2026, 10, 28, 23, 30); // 00:30 on the 29th in Berlin (UTC+1 in winter)
    assert.deepEqual(windowAt('day', now, 'UTC'), { id: 'd2026-11-28', endMs: Date.UTC(2026, 10, 29) });
    assert.deepEqual(windowAt('day', now, 'Europe/Berlin'), { id: 'd2026-11-29', endMs: Date.UTC(2026, 10, 29, 23) });
    assert.deepEqual(windowAt('month', now, 'UTC'), { id: 'M2026-11', endMs: Date.UTC(2026, 11, 1) });
    assert.deepEqual(windowAt('month', Date.UTC(2026, 11, 31, 23, 30), 'Europe/Berlin'), { id: 'M2027-01', endMs: Date.UTC(2027, 0, 31, 23) });
    assert.equal(windowAt('day', Date.UTC(2026, 6, 1, 3), 'America/New_York').endMs, Date.UTC(2026, 6, 1, 4), 'summer offset -4h');
  });

  it('formats resets as OpenAI does and never offers a zero Retry-After', () => {
    assert.equal(resetText(1), '1s');
    assert.equal(resetText(360_000), '6m0s');
    assert.equal(resetText(7_384_000), '2h3m4s');
    assert.equal(secondsUntil(1000, 999), 1);
    assert.equal(secondsUntil(5000, 1000), 4);
  });
});
