import { calcPrice, type ModelInfo, type ModelPrice as PackageRates } from '@pydantic/genai-prices';
import type { ModelPrice, PriceRates, PriceTier } from './price-catalog.js';

/**
 * Reads one model's rates from @pydantic/genai-prices' bundled data (no network: we never call
 * its updatePrices) and turns them into our flat ModelPrice. The package's own matcher finds the
 * model (it knows snapshots and aliases); the shape conversion below is ours.
 */

type RateValue = PackageRates[string];

/** The package's per-field price: flat, or a base rate with long-context tiers. */
function rateAt(value: RateValue, inputTokens: number): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value === 'number') return value;
  // A tier applies to the whole request once its input exceeds `start` (Gemini, Claude 1M).
  let rate = value.base;
  for (const tier of value.tiers) if (inputTokens > tier.start) rate = tier.price;
  return rate;
}

function ratesAt(prices: PackageRates, inputTokens: number): PriceRates | undefined {
  const input = rateAt(prices['input_mtok'], inputTokens);
  const output = rateAt(prices['output_mtok'], inputTokens);
  // Models priced per image, page or request only have no token rate we could charge.
  if (input === undefined && output === undefined) return undefined;
  const rates: PriceRates = { inputPerMTok: input ?? 0, outputPerMTok: output ?? 0 };
  const cached = rateAt(prices['cache_read_mtok'], inputTokens);
  if (cached !== undefined) rates.cachedInputPerMTok = cached;
  const cacheWrite = rateAt(prices['cache_write_mtok'], inputTokens);
  if (cacheWrite !== undefined) rates.cacheWriteInputPerMTok = cacheWrite;
  return rates;
}

const TOKEN_PRICE_KEYS = ['input_mtok', 'output_mtok', 'cache_read_mtok', 'cache_write_mtok'] as const;

function toModelPrice(prices: PackageRates): ModelPrice | undefined {
  const base = ratesAt(prices, 0);
  if (base === undefined) return undefined;
  const starts = new Set<number>();
  for (const key of TOKEN_PRICE_KEYS) {
    const value = prices[key];
    if (typeof value === 'object') for (const tier of value.tiers) starts.add(tier.start);
  }
  if (starts.size === 0) return base;
  const tiers: PriceTier[] = [];
  for (const start of [...starts].sort((a, b) => a - b)) {
    const rates = ratesAt(prices, start + 1);
    if (rates !== undefined) tiers.push(Object.freeze({ aboveInputTokens: start, ...rates }));
  }
  return { ...base, tiers: Object.freeze(tiers) };
}

/**
 * The rate sets in force now. Dated changes resolve to the latest one started; time-of-day
 * windows (DeepSeek's peak hours) are all kept, so the caller can take the dearest: a spend cap
 * must not be overrun because a request crossed into peak time.
 */
function currentRateSets(info: ModelInfo, now: Date): PackageRates[] {
  if (!Array.isArray(info.prices)) return [info.prices];
  let base: PackageRates | undefined;
  const windows: PackageRates[] = [];
  for (const entry of info.prices) {
    const constraint = entry.constraint;
    if (constraint === undefined) base = entry.prices;
    else if (constraint.type === 'start_date') {
      if (now >= new Date(constraint.start_date)) base = entry.prices;
    } else windows.push(entry.prices);
  }
  base ??= info.prices[0]?.prices;
  return base === undefined ? windows : [base, ...windows];
}

function dearest(prices: ModelPrice[]): ModelPrice | undefined {
  let best: ModelPrice | undefined;
  for (const price of prices) {
    if (best === undefined || price.inputPerMTok + price.outputPerMTok > best.inputPerMTok + best.outputPerMTok) best = price;
  }
  return best;
}

/**
 * The package's price of `model` at `providerId` (its provider ids: openai, anthropic, google,
 * aws, groq, mistral, together, deepseek, openrouter, ...), or undefined when it has none.
 */
export function packagePrice(providerId: string, model: string, now: Date): ModelPrice | undefined {
  let info: ModelInfo;
  try {
    const result = calcPrice({}, model, { providerId, timestamp: now });
    if (result === null) return undefined;
    info = result.model;
  } catch {
    // The package throws on data it cannot price; to us that is an unknown model.
    return undefined;
  }
  const prices: ModelPrice[] = [];
  for (const rates of currentRateSets(info, now)) {
    const price = toModelPrice(rates);
    if (price !== undefined) prices.push(price);
  }
  return dearest(prices);
}
