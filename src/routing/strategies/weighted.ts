import type { Strategy } from './strategy.js';

/**
 * A weighted random order: each target gets the key u^(1/weight) and the largest key goes first,
 * so a target with weight 3 leads three times as often as one with weight 1, and the rest of the
 * order is a fair fallback sequence too.
 */
export const weighted: Strategy = (targets, context) =>
  targets
    .map((target) => ({ target, key: context.random() ** (1 / target.weight) }))
    .sort((a, b) => b.key - a.key)
    .map((entry) => entry.target);
