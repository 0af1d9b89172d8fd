import { z } from 'zod';

/** Config for usage analytics (/admin/v1/usage and `breakerbox usage`; docs/analytics.md). */
export const analyticsSchema = z
  .strictObject({
    rollup_interval_ms: z
      .number()
      .int()
      .min(0)
      .max(3_600_000)
      .default(5_000)
      .describe(
        'How often this instance folds new ledger rows into the hourly and daily usage rollups. Answers also read rows not folded yet, so this bounds work per run, not staleness. 0 stops the job on this instance (e.g. to run it on one instance of many).',
      ),
  })
  .prefault({})
  .describe('Usage analytics over the ledger: rollups kept by a background job.');

export type AnalyticsConfig = z.output<typeof analyticsSchema>;
