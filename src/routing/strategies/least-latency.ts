import type { Strategy } from './strategy.js';

/**
 * Fastest first by the moving average of time to first byte. A target never measured goes first
 * (it must be measured once); a small share of requests lead with another target so a slow one
 * that recovered is noticed.
 */
export const leastLatency: Strategy = (targets, context) => {
  const latency = (id: string) => context.board.get(id).latencyMs ?? -1;
  const ordered = targets.slice().sort((a, b) => latency(a.id) - latency(b.id));
  if (ordered.length > 1 && context.random() < context.probeRatio) {
    const index = 1 + Math.floor(context.random() * (ordered.length - 1));
    const [probe] = ordered.splice(index, 1);
    if (probe) ordered.unshift(probe);
  }
  return ordered;
};
