import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BreakerBoard } from './breakers.js';

const OPTIONS = { consecutive_failures: 3, error_rate: 0.5, window_ms: 10_000, min_requests: 10, eject_ms: 1000, max_eject_ms: 4000, half_open_probes: 1 };

function board() {
  const clock = { now: 1_000_000 };
  return { clock, board: new BreakerBoard(OPTIONS, () => clock.now) };
}

function fail(board: BreakerBoard, id: string, times = 1): void {
  for (let i = 0; i < times; i += 1) board.fail(board.begin(id, false, 0.2)!);
}

function succeed(board: BreakerBoard, id: string, times = 1): void {
  for (let i = 0; i < times; i += 1) board.succeed(board.begin(id, false, 0.2)!, 10);
}

describe('circuit breakers', () => {
  it('opens after N consecutive failures; a success in between resets the count', () => {
    const { board: b } = board();
    fail(b, 't', 2);
    succeed(b, 't');
    fail(b, 't', 2);
    assert.equal(b.isAvailable('t'), true);
    fail(b, 't');
    assert.equal(b.isAvailable('t'), false);
  });

  it('opens on an error rate over the window once it has enough requests', () => {
    const { board: b } = board();
    let openedAfter = 0;
    for (let round = 1; round <= 6 && openedAfter === 0; round += 1) {
      succeed(b, 't');
      fail(b, 't', 2); // never 3 in a row
      if (!b.isAvailable('t')) openedAfter = round;
    }
    // Rounds 1-3 are 9 requests (under min_requests); round 4 brings 12 at a two-thirds failure rate.
    assert.equal(openedAfter, 4);
  });

  it('lets one half-open probe through after the ejection time; success closes, failure reopens for longer', () => {
    const { clock, board: b } = board();
    fail(b, 't', 3);
    clock.now += 999;
    assert.equal(b.isAvailable('t'), false);
    clock.now += 1;
    assert.equal(b.isAvailable('t'), true);
    const probe = b.begin('t', false, 0.2)!;
    assert.equal(probe.probe, true);
    assert.equal(b.isAvailable('t'), false, 'only one probe at a time');
    b.fail(probe);
    clock.now += 1000;
    assert.equal(b.isAvailable('t'), false, 'the second ejection is twice as long');
    clock.now += 1000;
    b.succeed(b.begin('t', false, 0.2)!, 5);
    assert.equal(b.report()[0]?.state, 'closed');
  });

  it('caps the growing ejection time', () => {
    const { clock, board: b } = board();
    for (let opening = 0; opening < 5; opening += 1) {
      fail(b, 't', opening === 0 ? 3 : 1);
      clock.now += Math.min(4000, 1000 * 2 ** opening);
    }
    assert.equal(b.isAvailable('t'), true);
  });

  it('holds retries to the budget: about ratio x requests, with a small starting credit', () => {
    const { board: b } = board();
    let retries = 0;
    for (let i = 0; i < 100; i += 1) {
      b.release(b.begin('t', false, 0.2)!);
      const retry = b.begin('t', true, 0.2);
      if (retry) {
        retries += 1;
        b.release(retry);
      }
    }
    assert.ok(retries >= 19 && retries <= 21, `retries: ${retries}`);
  });

  it('keeps a target out for its Retry-After', () => {
    const { clock, board: b } = board();
    const ticket = b.begin('t', false, 0.2)!;
    b.release(ticket);
    b.coolDown(ticket.health, 2);
    assert.equal(b.isCooling('t'), true);
    clock.now += 2000;
    assert.equal(b.isCooling('t'), false);
  });
});
