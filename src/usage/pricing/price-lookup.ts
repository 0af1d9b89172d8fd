import type { Config } from '../../config/schema.js';
import { PriceCatalog, type ModelPrice } from './price-catalog.js';

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
  // Resolved prices per provider and model: the catalog's own lookup composes several keys.
  const resolved = new Map<string, ModelPrice | null>();
  return {
    costOf(served, usage) {
      const key = `${served.providerName}\u0000${served.providerType}\u0000${served.model}`;
      let price = resolved.get(key);
      if (price === undefined) {
        price = catalog.price(served.providerType, served.model, { providerName: served.providerName, vendor: vendors.get(served.providerName) }) ?? null;
        if (resolved.size < 10_000) resolved.set(key, price);
      }
      return price === null ? undefined : catalog.cost(price, usage);
    },
  };
}
