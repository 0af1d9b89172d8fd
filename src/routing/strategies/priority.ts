import type { Strategy } from './strategy.js';

/** Failover order: the targets as configured. */
export const priority: Strategy = (targets) => targets.slice();
