import type { LimitsConfig } from '../../config/limits-schema.js';
import type { PlanConfig } from '../../config/identity-schema.js';
import type { ReserveItem } from '../../state/state-store.js';
import type { Expected, LimitDef } from './limit-defs.js';
import { resetText, windowAt } from './windows.js';

/** A counter this request reserves on, with the definition that made it. */
export interface PlannedItem {
  def: LimitDef;
  /** Whose limit it is, for messages: "plan 'free'". */
  label: string;
  reserve: ReserveItem;
  windowEndMs: number;
  /** How this item's budget treats an answer that would overrun it (its limit set's, else the config's). */
  overrun: 'cut' | 'finish';
}

export interface ItemContext {
  /** Whose counters: `key:<key id>`. */
  scope: string;
  label: string;
  conversationKey: string | undefined;
  now: number;
  config: LimitsConfig;
  /** The default overrun mode; finish: budgets only check that something is left (1 token), answers may overrun them. */
  outputMode: 'cut' | 'finish';
}

type Limits = NonNullable<PlanConfig['limits']>;

/** The counters and amounts for one reservation, window keys computed on the store's clock. */
export function buildItems(defs: readonly LimitDef[], limits: Limits, expected: Expected, context: ItemContext): PlannedItem[] {
  const overrun = limits.stream_overrun ?? context.outputMode;
  const finishExpected: Expected = { inputTokens: expected.inputTokens, maxOutputTokens: Math.min(1, expected.maxOutputTokens), maxCost: expected.maxCost > 0 ? expected.maxCost * 1e-6 : 0 };
  return defs.map((def) => {
    let key: string;
    let endMs: number;
    if (def.window === 'concurrent') {
      key = `${def.counter}:${context.scope}`;
      endMs = context.now + context.config.reservation_ttl_s * 1000;
    } else if (def.window === 'conversation') {
      key = `${def.counter}:${context.conversationKey}`;
      endMs = context.now + context.config.conversation_ttl_s * 1000;
    } else {
      const window = windowAt(def.window, context.now, context.config.time_zone);
      key = `${def.counter}:${context.scope}:${window.id}`;
      endMs = window.endMs;
    }
    const basis = overrun === 'finish' && def.kind === 'budget' && def.scalesWithOutput ? finishExpected : expected;
    const limit = limits[def.field] as number;
    return { def, label: context.label, windowEndMs: endMs, overrun, reserve: { key, limit, amount: def.reserve(basis), expiresAtMs: endMs, kind: def.kind } };
  });
}

/** OpenAI's x-ratelimit-* headers for the request and token limits a plan has. */
export function rateLimitHeaders(items: readonly PlannedItem[], used: readonly number[], now: number): Record<string, string> {
  const headers: Record<string, string> = {};
  // The tightest counter of each family speaks for it (per minute or per second).
  let requests = -1;
  let tokens = -1;
  for (let index = 0; index < items.length; index += 1) {
    const item = items[index] as PlannedItem;
    const family = item.def.header;
    if (family === undefined) continue;
    const remaining = item.reserve.limit - (used[index] ?? 0);
    if (family === 'requests' && (requests < 0 || remaining < item.reserve.limit - (used[requests] ?? 0))) requests = index;
    if (family === 'tokens' && (tokens < 0 || remaining < item.reserve.limit - (used[tokens] ?? 0))) tokens = index;
  }
  if (requests >= 0) setFamily(headers, 'requests', items[requests] as PlannedItem, used[requests] ?? 0, now);
  if (tokens >= 0) setFamily(headers, 'tokens', items[tokens] as PlannedItem, used[tokens] ?? 0, now);
  return headers;
}

function setFamily(headers: Record<string, string>, family: 'requests' | 'tokens', item: PlannedItem, used: number, now: number): void {
  headers[`x-ratelimit-limit-${family}`] = String(item.reserve.limit);
  headers[`x-ratelimit-remaining-${family}`] = String(Math.max(0, Math.floor(item.reserve.limit - used)));
  headers[`x-ratelimit-reset-${family}`] = resetText(item.windowEndMs - now);
}
