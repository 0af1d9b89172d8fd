import { z } from 'zod';

/**
 * How requests find a target: per-model strategy and fallbacks, prompt-aware rules, retries and
 * circuit breakers (docs/routing.md). The per-model and per-target fields are spread into the
 * `models` schema; the `routing` block holds what is shared.
 */

/** Upstream failure classes that fallbacks are chosen by. */
export const ERROR_CLASSES = ['rate_limited', 'overloaded', 'timeout', 'connection', 'context_window', 'content_filter'] as const;
export type ErrorClass = (typeof ERROR_CLASSES)[number];

/** Classes a fallback covers when it names none: the transient ones, plus a prompt too long for the model. */
export const DEFAULT_FALLBACK_CLASSES: readonly ErrorClass[] = ['rate_limited', 'overloaded', 'timeout', 'connection', 'context_window'];

export const STRATEGIES = ['priority', 'weighted', 'least-latency', 'lowest-cost', 'least-busy'] as const;
export type StrategyName = (typeof STRATEGIES)[number];

const fallbackSchema = z.strictObject({
  model: z.string().min(1).describe('A public model name (group) to try next.'),
  on: z
    .array(z.enum(ERROR_CLASSES))
    .min(1)
    .default([...DEFAULT_FALLBACK_CLASSES])
    .describe('Error classes that lead here. content_filter is never included unless named.'),
});

export const fallbackListSchema = z.array(fallbackSchema).default([]);

/** Fields every model target gains. */
export const targetRoutingFields = {
  name: z
    .string()
    .regex(/^[\w./:@-]+$/, 'letters, digits and . / : @ - _ only')
    .optional()
    .describe('A label for rules, headers and records; defaults to provider/model.'),
  weight: z.number().positive().default(1).describe('Share of traffic under the weighted strategy.'),
  context_window: z
    .number()
    .int()
    .positive()
    .optional()
    .describe('Tokens the upstream model accepts (prompt plus answer); targets too small for the estimated prompt are skipped.'),
};

/** Fields every model (group) gains. */
export const modelRoutingFields = {
  strategy: z
    .enum(STRATEGIES)
    .default('priority')
    .describe('How targets are ordered: priority (as listed), weighted, least-latency, lowest-cost, least-busy.'),
  fallbacks: fallbackListSchema.describe('Other models to try, in order, after every target of this one failed with a listed class.'),
};

const ruleMatchSchema = z
  .strictObject({
    min_prompt_tokens: z.number().int().nonnegative().optional().describe('Estimated prompt tokens at least this.'),
    max_prompt_tokens: z.number().int().nonnegative().optional().describe('Estimated prompt tokens at most this.'),
    keywords: z.array(z.string().min(1)).min(1).optional().describe('Any of these words or phrases in the last user message (case-insensitive).'),
    pattern: z.string().min(1).optional().describe('A regular expression the last user message matches (case-insensitive).'),
    metadata: z.record(z.string(), z.string()).optional().describe('Request metadata fields (body `metadata`) with these exact values.'),
    headers: z.record(z.string(), z.string()).optional().describe('Request headers with these exact values (names are case-insensitive).'),
    endpoints: z.array(z.enum(['chat', 'embeddings'])).min(1).optional().describe('Only these endpoints.'),
    plans: z.array(z.string().min(1)).min(1).optional().describe("The caller's plan is one of these."),
    teams: z.array(z.string().min(1)).min(1).optional().describe("The caller's team is one of these."),
  })
  .refine((match) => match.pattern === undefined || isRegex(match.pattern), { message: 'pattern is not a valid regular expression', path: ['pattern'] })
  .describe('Every condition given must hold.');

const ruleSchema = z
  .strictObject({
    name: z.string().min(1).describe('Named in headers and records when the rule decides.'),
    models: z.array(z.string().min(1)).min(1).optional().describe('Requested public models the rule applies to; all when omitted.'),
    when: ruleMatchSchema.prefault({}),
    use_model: z.string().min(1).optional().describe('Serve from this model (group) instead.'),
    only_targets: z.array(z.string().min(1)).min(1).optional().describe('Keep only these targets (by name) of the model.'),
    add_models: z.array(z.string().min(1)).min(1).optional().describe("Add these models' targets after the model's own."),
  })
  .refine((rule) => rule.use_model !== undefined || rule.only_targets !== undefined || rule.add_models !== undefined, 'give use_model, only_targets or add_models')
  .describe('A prompt-aware or context-aware routing rule; the first that matches decides.');

export const routingSchema = z
  .strictObject({
    rules: z.array(ruleSchema).default([]).describe('Evaluated in order before the strategy; the first match applies.'),
    fallbacks: fallbackListSchema.describe("Tried after a model's own fallbacks, for every model."),
    retries: z
      .strictObject({
        attempts: z.number().int().min(0).max(5).default(1).describe('Extra tries of the same target after a transient failure.'),
        max_total_attempts: z.number().int().min(1).max(20).default(5).describe('Most upstream attempts for one request, fallbacks included.'),
        backoff_ms: z.number().int().nonnegative().default(50).describe('First backoff before a retry; doubles each time, with full jitter.'),
        max_backoff_ms: z.number().int().nonnegative().default(1000).describe('Longest backoff.'),
        budget_ratio: z
          .number()
          .min(0)
          .max(1)
          .default(0.2)
          .describe("Retries per target are held to about this share of the target's requests."),
        max_retry_after_s: z
          .number()
          .int()
          .nonnegative()
          .default(60)
          .describe("Longest pause an upstream's Retry-After puts on a target (no request goes to it meanwhile); 0 ignores Retry-After for routing."),
      })
      .prefault({})
      .describe('Retries of one target; fallbacks move to other targets at once.'),
    breaker: z
      .strictObject({
        consecutive_failures: z.number().int().positive().default(5).describe('Open after this many failures in a row.'),
        error_rate: z.number().min(0).max(1).default(0.5).describe('...or when the failure share over the window exceeds this.'),
        window_ms: z.number().int().positive().default(10_000).describe('The sliding window for error_rate.'),
        min_requests: z.number().int().positive().default(20).describe('Requests in the window before error_rate counts.'),
        eject_ms: z.number().int().positive().default(5_000).describe('First open time; doubles on each reopening.'),
        max_eject_ms: z.number().int().positive().default(60_000).describe('Longest open time.'),
        half_open_probes: z.number().int().positive().default(1).describe('Requests let through at once to test an open target.'),
      })
      .prefault({})
      .describe('Circuit breakers per target. A group never ejects every target: when all are open, they are tried anyway.'),
    probe_ratio: z
      .number()
      .min(0)
      .max(0.5)
      .default(0.05)
      .describe('least-latency: share of requests sent to a slower target so its latency stays known.'),
  })
  .prefault({})
  .describe('Routing rules, retries, fallbacks and circuit breakers (docs/routing.md).');

export type RoutingConfig = z.output<typeof routingSchema>;
export type RoutingRuleConfig = RoutingConfig['rules'][number];
export type FallbackConfig = RoutingConfig['fallbacks'][number];

function isRegex(source: string): boolean {
  try {
    new RegExp(source, 'iu');
    return true;
  } catch {
    return false;
  }
}
