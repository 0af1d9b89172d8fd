/**
 * The price catalog: US dollars per million tokens for each provider model, used to turn usage
 * into cost at settle time and to size budget reservations before a request goes out.
 *
 * Data source: @pydantic/genai-prices (MIT, Pydantic team; zero dependencies, ESM, Node >= 20,
 * about 2 MB unpacked). Its price data is bundled in the package and read offline; it only goes
 * to the network through `updatePrices`, which we never call. Released every week or two (0.1.8,
 * 2026-09-23, at the time of choosing), it covers every provider we speak to (OpenAI, Anthropic,
 * Google, AWS Bedrock with regional rates, Groq, Mistral, Together, DeepSeek, OpenRouter), with
 * cache-read/write and long-context tiers. tokenlens was the alternative: 4 packages and 4.7 MB,
 * data synced from models.dev, its newest model entries in 1.3.1 dated September 2025.
 * Operators fix or add prices with `pricing.overrides`; upgrading the package refreshes the rest.
 */
import type { ModelPriceOverride } from '../../config/pricing-schema.js';
import type { OpenAICompatibleVendorName } from '../../config/vendor-names.js';
import { bedrockModelRef, undatedModelName } from './model-names.js';
import { packagePrice } from './package-prices.js';

/** Dollars per million tokens. Shared, frozen objects: the catalog hands out the same one each time. */
export interface ModelPrice {
  inputPerMTok: number;
  outputPerMTok: number;
  /** Prompt-cache reads; without it cached tokens cost the input rate. */
  cachedInputPerMTok?: number;
  /** Prompt-cache writes, which Anthropic bills above the input rate; else the input rate. */
  cacheWriteInputPerMTok?: number;
  /** Long-context rates (Gemini, Claude 1M), ascending: past a threshold the whole request costs more. */
  tiers?: readonly PriceTier[];
}

/** One set of rates, without tiers. */
export type PriceRates = Omit<ModelPrice, 'tiers'>;

/** Rates for requests whose input tokens exceed `aboveInputTokens`. */
export interface PriceTier extends PriceRates {
  aboveInputTokens: number;
}

/** Override values as config spells them (snake_case), see config/pricing-schema.ts. */
export type { ModelPriceOverride };

/** Where a model is served, beyond its provider type: both can key an override. */
export interface PriceTarget {
  /** The provider's name in config (`providers.<name>`). */
  providerName?: string;
  /** For openai-compatible providers: which vendor serves it (without it: generic, unpriced). */
  vendor?: OpenAICompatibleVendorName | string;
}

/** Token counts as OpenAI reports them: cached and cache-written tokens are part of inputTokens. */
export interface TokenUsage {
  inputTokens: number;
  outputTokens: number;
  cachedInputTokens?: number;
  cacheCreationTokens?: number;
}

const ZERO_PRICE: ModelPrice = Object.freeze({ inputPerMTok: 0, outputPerMTok: 0, cachedInputPerMTok: 0 });

/** Provider types whose models the package prices under one of its provider ids. */
const TYPE_SOURCES = new Map<string, string>([
  ['openai', 'openai'],
  ['azure-openai', 'openai'], // Azure's list prices follow OpenAI's
  ['anthropic', 'anthropic'],
  ['gemini', 'google'],
]);

/** Hosted OpenAI-compatible vendors; vllm, ollama and generic run your own hardware: no list price. */
const VENDOR_SOURCES = new Map<string, string>([
  ['groq', 'groq'],
  ['mistral', 'mistral'],
  ['together', 'together'],
  ['deepseek', 'deepseek'],
  ['openrouter', 'openrouter'],
]);

/** Bedrock model vendors whose own price list stands in when Bedrock's lacks a model. */
const BEDROCK_VENDOR_SOURCES = new Map<string, string>([
  ['anthropic', 'anthropic'],
  ['mistral', 'mistral'],
  ['deepseek', 'deepseek'],
  ['cohere', 'cohere'],
  ['openai', 'openai'],
]);

/** Bounds the lookup cache should clients send endless model names; refilling is cheap. */
const MAX_CACHED_LOOKUPS = 10_000;
const PER_MTOK = 1_000_000;

function withUndated(source: string, model: string): Array<[string, string]> {
  const undated = undatedModelName(model);
  return undated === undefined ? [[source, model]] : [[source, model], [source, undated]];
}

/** The package lookups to try, in order: (package provider id, model name). */
function packageCandidates(providerType: string, model: string, vendor: string | undefined): Array<[string, string]> {
  if (providerType === 'bedrock') {
    // Bedrock's own list first: it carries regional premiums the vendor's list does not.
    const candidates: Array<[string, string]> = [['aws', model]];
    const ref = bedrockModelRef(model);
    const source = ref === undefined ? undefined : BEDROCK_VENDOR_SOURCES.get(ref.vendor);
    if (ref !== undefined && source !== undefined) candidates.push(...withUndated(source, ref.model));
    return candidates;
  }
  // A vendor name may stand in for `openai-compatible` plus that vendor.
  const source =
    providerType === 'openai-compatible'
      ? VENDOR_SOURCES.get(vendor ?? 'generic')
      : (TYPE_SOURCES.get(providerType) ?? VENDOR_SOURCES.get(providerType));
  return source === undefined ? [] : withUndated(source, model);
}

function toModelPrice(override: ModelPriceOverride): ModelPrice {
  const price: ModelPrice = { inputPerMTok: override.input_per_mtok, outputPerMTok: override.output_per_mtok };
  if (override.cached_input_per_mtok !== undefined) price.cachedInputPerMTok = override.cached_input_per_mtok;
  return Object.freeze(price);
}

/** The rates that apply to a request of `inputTokens`: the highest tier it passes, else the base. */
function ratesFor(price: ModelPrice, inputTokens: number): PriceRates {
  let rates: PriceRates = price;
  for (const tier of price.tiers ?? []) if (inputTokens > tier.aboveInputTokens) rates = tier;
  return rates;
}

function clamp(value: number, max: number): number {
  return Math.min(Math.max(value, 0), max);
}

/**
 * Answers "what does this model cost here?" on every request, so each answer is worked out once
 * and kept. Overrides from config win over the package's data; see `price` for the order.
 */
export class PriceCatalog {
  readonly #overrides = new Map<string, ModelPrice>();
  readonly #cache = new Map<string, ModelPrice | null>();
  /** Dated price changes resolve as of construction; a config reload builds a new catalog. */
  readonly #now = new Date();

  constructor(overrides: Record<string, ModelPriceOverride>) {
    for (const [key, value] of Object.entries(overrides)) this.#overrides.set(key, toModelPrice(value));
  }

  /**
   * The price of `model` (the upstream name) at a provider of type `providerType`, or undefined
   * when nobody knows it (the `pricing.unknown_price` setting decides what then happens).
   * Order: overrides `<provider name>/<model>`, `<vendor>/<model>`, `<provider type>/<model>`,
   * `<model>`, then the same for the model without its date, then the package (dated name, then
   * undated; Bedrock ids also as their vendor's model). Mock models cost 0 unless overridden.
   */
  price(providerType: string, model: string, target: PriceTarget = {}): ModelPrice | undefined {
    const key = `${providerType}\u0000${target.providerName ?? ''}\u0000${target.vendor ?? ''}\u0000${model}`;
    const cached = this.#cache.get(key);
    if (cached !== undefined) return cached ?? undefined;
    const found = this.#resolve(providerType, model, target);
    if (this.#cache.size >= MAX_CACHED_LOOKUPS) this.#cache.clear();
    this.#cache.set(key, found ?? null);
    return found;
  }

  /**
   * Dollars for actual usage. Cached tokens are a subset of input tokens and cost the cached
   * rate when known; cache-written tokens likewise cost the cache-write rate when known.
   */
  cost(price: ModelPrice, usage: TokenUsage): number {
    const input = Math.max(usage.inputTokens, 0);
    const rates = ratesFor(price, input);
    const cached = clamp(usage.cachedInputTokens ?? 0, input);
    const written = clamp(usage.cacheCreationTokens ?? 0, input - cached);
    const fresh = input - cached - written;
    const dollars =
      fresh * rates.inputPerMTok +
      cached * (rates.cachedInputPerMTok ?? rates.inputPerMTok) +
      written * (rates.cacheWriteInputPerMTok ?? rates.inputPerMTok) +
      Math.max(usage.outputTokens, 0) * rates.outputPerMTok;
    return dollars / PER_MTOK;
  }

  /**
   * The most a request can cost, to reserve against a budget before sending it: no cache
   * discount, every input token at the dearer of the input and cache-write rates, and the full
   * output allowance.
   */
  maxCost(price: ModelPrice, estimatedInputTokens: number, maxOutputTokens: number): number {
    const input = Math.max(estimatedInputTokens, 0);
    const rates = ratesFor(price, input);
    const inputRate = Math.max(rates.inputPerMTok, rates.cacheWriteInputPerMTok ?? 0);
    return (input * inputRate + Math.max(maxOutputTokens, 0) * rates.outputPerMTok) / PER_MTOK;
  }

  #resolve(providerType: string, model: string, target: PriceTarget): ModelPrice | undefined {
    const undated = undatedModelName(model);
    const override = this.#override(providerType, model, target) ?? (undated === undefined ? undefined : this.#override(providerType, undated, target));
    if (override !== undefined) return override;
    if (providerType === 'mock') return ZERO_PRICE;
    for (const [source, name] of packageCandidates(providerType, model, target.vendor)) {
      const price = packagePrice(source, name, this.#now);
      if (price !== undefined) return Object.freeze(price);
    }
    return undefined;
  }

  #override(providerType: string, model: string, target: PriceTarget): ModelPrice | undefined {
    for (const prefix of [target.providerName, target.vendor, providerType]) {
      if (prefix === undefined || prefix === '') continue;
      const price = this.#overrides.get(`${prefix}/${model}`);
      if (price !== undefined) return price;
    }
    return this.#overrides.get(model);
  }
}
