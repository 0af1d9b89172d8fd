import type { Strategy } from './strategy.js';

/** Cheapest first for this request's estimated tokens; targets without a known price go last, in order. */
export const lowestCost: Strategy = (targets, context) =>
  targets
    .map((target, index) => ({ target, index, cost: context.costOf(target) ?? Number.POSITIVE_INFINITY }))
    .sort((a, b) => a.cost - b.cost || a.index - b.index)
    .map((entry) => entry.target);
