import type { Strategy } from './strategy.js';

/** Fewest requests in flight on this instance first; ties keep the configured order. */
export const leastBusy: Strategy = (targets, context) =>
  targets
    .map((target, index) => ({ target, index, busy: context.board.get(target.id).inFlight }))
    .sort((a, b) => a.busy - b.busy || a.index - b.index)
    .map((entry) => entry.target);
