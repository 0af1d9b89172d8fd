import type { CounterKind } from '../../state/state-store.js';
import type { WindowUnit } from './windows.js';

/** What one request is expected to use, known at admission. */
export interface Expected {
  inputTokens: number;
  maxOutputTokens: number;
  /** Worst-case cost in dollars (0 without a price). */
  maxCost: number;
}

/** What it actually used, known at settle. */
export interface Actual {
  inputTokens: number;
  outputTokens: number;
  cost: number;
}

/** The plan fields limits are read from (plans.<name>.limits). */
export type LimitField =
  | 'requests_per_second'
  | 'requests_per_minute'
  | 'concurrent_requests'
  | 'input_tokens_per_minute'
  | 'output_tokens_per_minute'
  | 'tokens_per_minute'
  | 'tokens_per_day'
  | 'tokens_per_month'
  | 'spend_per_day_usd'
  | 'spend_per_month_usd'
  | 'conversation_output_tokens';

/** One kind of limit: its counter, window, what a request reserves and what settle books. */
export interface LimitDef {
  field: LimitField;
  counter: string;
  /** `concurrent`: no window, the slot is given back at settle; `conversation`: per conversation id. */
  window: WindowUnit | 'concurrent' | 'conversation';
  kind: CounterKind;
  reserve(expected: Expected): number;
  actual(used: Actual): number;
  /** Whether the reservation grows with max output tokens (so a budget can clamp the answer). */
  scalesWithOutput: boolean;
  /** Which x-ratelimit-* header family reports it. */
  header?: 'requests' | 'tokens';
  /** For messages: "10 requests per minute". */
  describe(limit: number): string;
}

const one = () => 1;
const tokens = (expected: Expected) => expected.inputTokens + expected.maxOutputTokens;
const usedTokens = (used: Actual) => used.inputTokens + used.outputTokens;

export const LIMIT_DEFS: readonly LimitDef[] = [
  { field: 'requests_per_second', counter: 'rps', window: 'second', kind: 'rate', reserve: one, actual: one, scalesWithOutput: false, header: 'requests', describe: (n) => `${n} requests per second` },
  { field: 'requests_per_minute', counter: 'rpm', window: 'minute', kind: 'rate', reserve: one, actual: one, scalesWithOutput: false, header: 'requests', describe: (n) => `${n} requests per minute` },
  { field: 'concurrent_requests', counter: 'conc', window: 'concurrent', kind: 'rate', reserve: one, actual: () => 0, scalesWithOutput: false, describe: (n) => `${n} concurrent requests` },
  { field: 'input_tokens_per_minute', counter: 'itpm', window: 'minute', kind: 'rate', reserve: (e) => e.inputTokens, actual: (u) => u.inputTokens, scalesWithOutput: false, describe: (n) => `${n} input tokens per minute` },
  { field: 'output_tokens_per_minute', counter: 'otpm', window: 'minute', kind: 'rate', reserve: (e) => e.maxOutputTokens, actual: (u) => u.outputTokens, scalesWithOutput: true, describe: (n) => `${n} output tokens per minute` },
  { field: 'tokens_per_minute', counter: 'tpm', window: 'minute', kind: 'rate', reserve: tokens, actual: usedTokens, scalesWithOutput: true, header: 'tokens', describe: (n) => `${n} tokens per minute` },
  { field: 'tokens_per_day', counter: 'tpd', window: 'day', kind: 'budget', reserve: tokens, actual: usedTokens, scalesWithOutput: true, describe: (n) => `${n} tokens per day` },
  { field: 'tokens_per_month', counter: 'tpmo', window: 'month', kind: 'budget', reserve: tokens, actual: usedTokens, scalesWithOutput: true, describe: (n) => `${n} tokens per month` },
  { field: 'spend_per_day_usd', counter: 'usdd', window: 'day', kind: 'budget', reserve: (e) => e.maxCost, actual: (u) => u.cost, scalesWithOutput: true, describe: (n) => `$${n} per day` },
  { field: 'spend_per_month_usd', counter: 'usdmo', window: 'month', kind: 'budget', reserve: (e) => e.maxCost, actual: (u) => u.cost, scalesWithOutput: true, describe: (n) => `$${n} per month` },
  { field: 'conversation_output_tokens', counter: 'conv', window: 'conversation', kind: 'budget', reserve: (e) => e.maxOutputTokens, actual: (u) => u.outputTokens, scalesWithOutput: true, describe: (n) => `${n} output tokens per conversation` },
];
