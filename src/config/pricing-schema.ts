import { z } from 'zod';

/**
 * Config for the price catalog (usage/pricing): prices come from a bundled price list; these
 * settings correct it (negotiated rates, self-hosted models) and say what an unpriced model does.
 */

const rate = z.number().nonnegative();

export const modelPriceOverrideSchema = z
  .strictObject({
    input_per_mtok: rate.describe('US dollars per million input tokens.'),
    output_per_mtok: rate.describe('US dollars per million output tokens.'),
    cached_input_per_mtok: rate
      .optional()
      .describe('US dollars per million input tokens read from the prompt cache; the input rate when omitted.'),
  })
  .describe('A model\'s price, replacing the bundled one.');

export const pricingSchema = z
  .strictObject({
    overrides: z
      .record(z.string().min(1), modelPriceOverrideSchema)
      .default({})
      .describe(
        'Prices that win over the bundled price list. Keys: `<provider name>/<model>`, `<provider type or vendor>/<model>` or a bare upstream model name, tried in that order; a key without a date also covers the dated snapshots (gpt-4o-mini covers gpt-4o-mini-2024-07-18).',
      ),
    unknown_price: z
      .enum(['refuse', 'zero'])
      .default('refuse')
      .describe(
        'What happens when a model has no price: refuse requests from principals with a spend cap, or count zero and log a warning.',
      ),
  })
  .prefault({})
  .describe('Model prices used for cost accounting and spend caps.');

export type PricingConfig = z.output<typeof pricingSchema>;
/** One override entry as written in config; the price catalog converts it once at startup. */
export type ModelPriceOverride = z.output<typeof modelPriceOverrideSchema>;
