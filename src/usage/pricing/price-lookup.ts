import type { Config } from '../../config/schema.js';
import { PriceCatalog } from './price-catalog.js';

export interface PricedModel {
  providerName: string;
  providerType: string;
  model: string;
}

export interface PriceLookup {
  /** Dollars for this use of this model; undefined when its price is unknown. */
  costOf(served: PricedModel, usage: { inputTokens: number; outputTokens: number; cachedInputTokens?: number }): number | undefined;
}

/** The catalog with the config's overrides, keyed the way targets name their models. */
export function createPriceLookup(config: Config): PriceLookup {
  const catalog = new PriceCatalog(config.pricing.overrides);
  const vendors = new Map<string, string>();
  for (const [name, provider] of Object.entries(config.providers)) if (provider.type === 'openai-compatible') vendors.set(name, provider.vendor);
  return {
    costOf(served, usage) {
      const price = catalog.price(served.providerType, served.model, { providerName: served.providerName, vendor: vendors.get(served.providerName) });
      return price === undefined ? undefined : catalog.cost(price, usage);
    },
  };
}
