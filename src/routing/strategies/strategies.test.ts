import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BreakerBoard } from '../breakers.js';
import type { RoutedTarget } from '../router.js';
import { STRATEGY_BY_NAME, type StrategyContext } from './index.js';

const target = (name: string, weight = 1): RoutedTarget =>
  ({ id: name, name, providerName: 'p', model: name, params: undefined, weight, contextWindow: undefined, adapter: undefined }) as unknown as RoutedTarget;

function context(overrides: Partial<StrategyContext> = {}): StrategyContext {
  const board = new BreakerBoard({ consecutive_failures: 5, error_rate: 0.5, window_ms: 10_000, min_requests: 20, eject_ms: 1000, max_eject_ms: 1000, half_open_probes: 1 });
  return { board, costOf: () => undefined, probeRatio: 0, random: Math.random, ...overrides };
}

const names = (targets: RoutedTarget[]) => targets.map((entry) => entry.name);

describe('strategies', () => {
  it('priority keeps the configured order', () => {
    assert.deepEqual(names(STRATEGY_BY_NAME.priority([target('a'), target('b')], context())), ['a', 'b']);
  });

  it('weighted leads with each target in proportion to its weight', () => {
    const counts = { a: 0, b: 0 };
    for (let i = 0; i < 4000; i += 1) counts[STRATEGY_BY_NAME.weighted([target('a', 3), target('b', 1)], context())[0]?.name as 'a' | 'b'] += 1;
    const share = counts.a / 4000;
    assert.ok(share > 0.7 && share < 0.8, `share of a: ${share}`);
  });

  it('least-latency puts unmeasured targets first, then the fastest, and probes a slower one now and then', () => {
    const ctx = context();
    const [a, b, c] = [target('a'), target('b'), target('c')];
    ctx.board.succeed(ctx.board.begin('a', false, 0.2)!, 50);
    ctx.board.succeed(ctx.board.begin('b', false, 0.2)!, 10);
    assert.deepEqual(names(STRATEGY_BY_NAME['least-latency']([a, b, c], ctx)), ['c', 'b', 'a']);
    ctx.board.succeed(ctx.board.begin('c', false, 0.2)!, 30);
    assert.deepEqual(names(STRATEGY_BY_NAME['least-latency']([a, b, c], ctx)), ['b', 'c', 'a']);
    let probes = 0;
    const probing = { ...ctx, probeRatio: 0.1 };
    for (let i = 0; i < 2000; i += 1) if (STRATEGY_BY_NAME['least-latency']([a, b, c], probing)[0]?.name !== 'b') probes += 1;
    assert.ok(probes > 120 && probes < 280, `probes: ${probes}`);
  });

  it('lowest-cost puts the cheapest first and unknown prices last', () => {
    const prices: Record<string, number | undefined> = { a: 2, b: undefined, c: 1 };
    const ordered = STRATEGY_BY_NAME['lowest-cost']([target('a'), target('b'), target('c')], context({ costOf: (entry) => prices[entry.name] }));
    assert.deepEqual(names(ordered), ['c', 'a', 'b']);
  });

  it('least-busy puts the target with fewest requests in flight first', () => {
    const ctx = context();
    ctx.board.begin('a', false, 0.2);
    ctx.board.begin('a', false, 0.2);
    ctx.board.begin('b', false, 0.2);
    assert.deepEqual(names(STRATEGY_BY_NAME['least-busy']([target('a'), target('b'), target('c')], ctx)), ['c', 'b', 'a']);
  });
});
