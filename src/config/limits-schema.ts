import { z } from 'zod';
import { planLimitsSchema } from './identity-schema.js';

/**
 * How limits and budgets are kept and enforced. What each plan allows is under `plans.<name>.limits`;
 * this block says where the counters live and how edge cases behave.
 */
function isTimeZone(name: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: name });
    return true;
  } catch {
    return false;
  }
}

export const limitsSchema = z
  .strictObject({
    backend: z.enum(['memory', 'redis']).default('memory').describe('memory: one instance. redis: exact limits across instances.'),
    redis_url: z.string().min(1).optional().describe('Redis URL, e.g. ${env:REDIS_URL}. Required for the redis backend.'),
    redis_prefix: z.string().regex(/^[\w:.-]{1,64}$/).default('bb').describe('Prefix of every Redis key (all keys share one hash tag, so Redis Cluster works).'),
    redis_timeout_ms: z.number().int().positive().max(5000).default(200).describe('Longest wait for Redis; past it the outage policy applies.'),
    instances: z
      .number()
      .int()
      .positive()
      .default(1)
      .describe('Gateway instances sharing the limits. While Redis is down, each instance enforces rate limits at limit / instances; budgets refuse.'),
    time_zone: z
      .string()
      .default('UTC')
      .refine(isTimeZone, 'unknown time zone; use an IANA name such as UTC or Europe/Berlin')
      .describe('Time zone of daily and monthly windows (an IANA name such as Europe/Berlin).'),
    reservation_ttl_s: z
      .number()
      .int()
      .positive()
      .default(900)
      .describe('A reservation not settled by then lapses (a crashed instance frees its share). Keep it above the longest request.'),
    default_max_output_tokens: z
      .number()
      .int()
      .positive()
      .default(4096)
      .describe('Output tokens reserved when a request sets no max_tokens and its plan no max_output_tokens_per_request.'),
    output_cap: z
      .enum(['clamp', 'refuse'])
      .default('clamp')
      .describe('A request asking for more than max_output_tokens_per_request: clamp its max_tokens, or refuse it with 400.'),
    stream_overrun: z
      .enum(['cut', 'finish'])
      .default('cut')
      .describe('When an output budget runs out: cut (max_tokens is clamped to what is left, so an answer never overspends) or finish (answers run to their own end; later requests are refused).'),
    conversation_header: z.string().default('x-bb-conversation-id').describe('Request header carrying the conversation id (also read from body metadata.conversation_id).'),
    conversation_ttl_s: z.number().int().positive().default(30 * 86_400).describe('How long a conversation\'s output counter is kept after its last use.'),
    routes: z
      .strictObject({
        chat: planLimitsSchema.optional().describe('Chat completions and messages, streaming or not.'),
        embeddings: planLimitsSchema.optional().describe('Embeddings.'),
      })
      .prefault({})
      .describe('Limits shared by every caller of a route: `chat` (chat completions and messages) or `embeddings`.'),
    ladder: z
      .strictObject({
        shorter_below: z.number().min(0).max(1).default(0.5).describe('Fraction of the conversation budget left under which answers are shortened.'),
        shorter_max_tokens: z.number().int().positive().default(512).describe('max_tokens of shortened answers.'),
        cheaper_below: z.number().min(0).max(1).default(0.2).describe("Fraction left under which the plan's degrade_to model serves."),
      })
      .prefault({})
      .describe('The degrade ladder as a conversation budget runs out: shorter answers, then a cheaper model, then 429.'),
  })
  .refine((limits) => limits.backend !== 'redis' || limits.redis_url !== undefined, { message: 'redis_url is required for the redis backend', path: ['redis_url'] })
  .prefault({})
  .describe('Where limit counters live and how limits behave at the edges.');

export type LimitsConfig = z.output<typeof limitsSchema>;
