import type { Usage } from '../../core/canonical.js';
import type { SettleItem, StateStore } from '../../state/state-store.js';
import type { PricedModel } from '../../usage/pricing/price-lookup.js';
import type { ConversationMemory } from './ladder.js';
import type { Actual, LimitDef } from './limit-defs.js';
import type { PlannedItem } from './items.js';

/** Where a settlement books: the state store, the conversation memory, and a place for warnings. */
export interface SettlementTarget {
  store: StateStore;
  conversations: ConversationMemory;
  warn(message: string): void;
}

export type CostOf = (usage: Usage | undefined, served: PricedModel | undefined) => number;

/**
 * What booking an admitted request's actual use needs, and nothing more: it lives as long as the
 * request, and a stream can stay open for minutes, thousands at a time. Keeping the planned items
 * (their definitions, labels, limits and reservation objects) measured about 1.8 KB per open
 * request; this keeps each counter's key, window end and how to measure its use.
 */
export class Settlement {
  private settled = false;
  private readonly keys: string[];
  private readonly expiresAtMs: number[];
  private readonly measures: Array<LimitDef['actual']>;
  /** The conversation budget's measure, when the request counts against one. */
  private readonly conversationMeasure: LimitDef['actual'] | undefined;

  constructor(
    private readonly target: SettlementTarget,
    private readonly requestId: string,
    items: readonly PlannedItem[],
    private readonly conversationKey: string | undefined,
    private readonly costOf: CostOf,
  ) {
    const count = items.length;
    this.keys = new Array<string>(count);
    this.expiresAtMs = new Array<number>(count);
    this.measures = new Array<LimitDef['actual']>(count);
    let conversationMeasure: LimitDef['actual'] | undefined;
    for (let index = 0; index < count; index += 1) {
      const item = items[index] as PlannedItem;
      this.keys[index] = item.reserve.key;
      this.expiresAtMs[index] = item.reserve.expiresAtMs;
      this.measures[index] = item.def.actual;
      if (item.def.window === 'conversation') conversationMeasure ??= item.def.actual;
    }
    this.conversationMeasure = conversationKey === undefined ? undefined : conversationMeasure;
  }

  /** Books what the request really used (once; later calls do nothing). Never throws. */
  settle(usage: Usage | undefined, served: PricedModel | undefined): void {
    if (this.settled) return;
    this.settled = true;
    const actual: Actual = { inputTokens: usage?.inputTokens ?? 0, outputTokens: usage?.outputTokens ?? 0, cost: this.costOf(usage, served) };
    const { store, conversations, warn } = this.target;
    if (this.conversationKey !== undefined && this.conversationMeasure !== undefined) {
      conversations.set(this.conversationKey, conversations.used(this.conversationKey) + this.conversationMeasure(actual));
    }
    const items: SettleItem[] = new Array<SettleItem>(this.keys.length);
    for (let index = 0; index < items.length; index += 1) {
      items[index] = { key: this.keys[index] as string, amount: (this.measures[index] as LimitDef['actual'])(actual), expiresAtMs: this.expiresAtMs[index] as number };
    }
    if (!store.settleNow) {
      store.settle(this.requestId, items).catch((error: unknown) => this.failed(warn, error));
      return;
    }
    try {
      store.settleNow(this.requestId, items);
    } catch (error) {
      this.failed(warn, error);
    }
  }

  private failed(warn: SettlementTarget['warn'], error: unknown): void {
    warn(`could not settle limits for request ${this.requestId}: ${(error as Error).message}`);
  }
}
