import type { BreakerBoard } from '../breakers.js';
import type { RoutedTarget } from '../router.js';

/** What a strategy may consult to order one request's targets. */
export interface StrategyContext {
  board: BreakerBoard;
  /** This request's estimated cost on a target; undefined when the price is unknown. */
  costOf(target: RoutedTarget): number | undefined;
  /** least-latency: share of requests that go to a slower target first, to keep measuring it. */
  probeRatio: number;
  random: () => number;
}

/** Orders a group's targets, best first. Returns a new array; never drops a target. */
export type Strategy = (targets: readonly RoutedTarget[], context: StrategyContext) => RoutedTarget[];
