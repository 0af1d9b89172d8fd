import type { LimitsConfig } from '../../config/limits-schema.js';
import type { PlannedItem } from './items.js';

export type LadderStep = { kind: 'full' } | { kind: 'shorter' } | { kind: 'cheaper' };

/**
 * Where a conversation stands on the degrade ladder: full answers, then shorter answers, then the
 * plan's cheaper model; the refusal itself comes from the budget counter when nothing is left.
 */
export function ladderStep(ladder: LimitsConfig['ladder'], budget: number, used: number): LadderStep {
  const left = Math.max(0, budget - used) / budget;
  if (left < ladder.cheaper_below) return { kind: 'cheaper' };
  if (left < ladder.shorter_below) return { kind: 'shorter' };
  return { kind: 'full' };
}

/**
 * What this instance last learned about each conversation's use, so the ladder step needs no extra
 * round trip. The budget itself is enforced by the shared counter; this only picks the step, and a
 * refusal from the counter corrects it.
 */
export class ConversationMemory {
  private readonly usedByKey = new Map<string, number>();

  constructor(private readonly maxEntries: number) {}

  used(key: string): number {
    return this.usedByKey.get(key) ?? 0;
  }

  set(key: string, used: number): void {
    this.usedByKey.delete(key);
    this.usedByKey.set(key, used);
    if (this.usedByKey.size > this.maxEntries) this.usedByKey.delete(this.usedByKey.keys().next().value as string);
  }

  /** After a reservation: the counter's use, less this request's reservation still unknown. */
  reserved(key: string, items: readonly PlannedItem[], used: readonly number[]): void {
    const index = items.findIndex((item) => item.def.window === 'conversation');
    if (index >= 0) this.set(key, (used[index] ?? 0) - (items[index]?.reserve.amount ?? 0));
  }
}
