import { z } from 'zod';

/**
 * Config for the audit log (src/audit, docs/audit.md). Admin actions are always recorded; these
 * settings shape how policy denials and guardrail actions, which can be frequent, are batched.
 * Read at start: a reload keeps the running values.
 */
export const auditSchema = z
  .strictObject({
    denials: z
      .boolean()
      .default(true)
      .describe('Record policy denials (access denials, limit and budget refusals) and guardrail actions in the audit log.'),
    flush_ms: z
      .number()
      .int()
      .min(10)
      .max(60_000)
      .default(250)
      .describe('How often buffered denials and guardrail actions are appended, as one transaction; a crash loses at most this much.'),
    max_pending: z
      .number()
      .int()
      .min(1)
      .max(1_000_000)
      .default(10_000)
      .describe('Most distinct pending entries (same caller, action, model and reason within one flush count once). Past it new ones are counted, not kept, and the count is logged as an `audit.overflow` entry.'),
  })
  .prefault({})
  .describe('The tamper-evident audit log: admin actions, policy denials and guardrail actions, chained by hash (docs/audit.md).');

export type AuditConfig = z.output<typeof auditSchema>;
