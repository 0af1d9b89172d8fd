import type { StrategyName } from '../../config/routing-schema.js';
import { leastBusy } from './least-busy.js';
import { leastLatency } from './least-latency.js';
import { lowestCost } from './lowest-cost.js';
import { priority } from './priority.js';
import type { Strategy } from './strategy.js';
import { weighted } from './weighted.js';

export type { Strategy, StrategyContext } from './strategy.js';

export const STRATEGY_BY_NAME: Readonly<Record<StrategyName, Strategy>> = {
  priority,
  weighted,
  'least-latency': leastLatency,
  'lowest-cost': lowestCost,
  'least-busy': leastBusy,
};
