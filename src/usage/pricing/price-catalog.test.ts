import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pricingSchema } from '../../config/pricing-schema.js';
import { bedrockModelRef, undatedModelName } from './model-names.js';
import { packagePrice } from './package-prices.js';
import { PriceCatalog, type ModelPrice } from './price-catalog.js';

// Expected values are @pydantic/genai-prices 0.1.8's data (read from the package, Nov 2026).
// A package upgrade that changes a list price should fail here and be looked at.

const catalog = new PriceCatalog({});

function near(actual: number, expected: number): void {
  assert.ok(Math.abs(actual - expected) < 1e-12, `expected ${expected}, got ${actual}`);
}

function rates(price: ModelPrice | undefined): Omit<ModelPrice, 'tiers'> | undefined {
  if (price === undefined) return undefined;
  const { tiers: _tiers, ...rest } = price;
  return rest;
}

describe('PriceCatalog: package prices per provider family', () => {
  it('prices OpenAI models, Azure like OpenAI', () => {
    assert.deepEqual(catalog.price('openai', 'gpt-4o-mini'), { inputPerMTok: 0.15, outputPerMTok: 0.6, cachedInputPerMTok: 0.075 });
    assert.deepEqual(catalog.price('openai', 'gpt-4o'), { inputPerMTok: 2.5, outputPerMTok: 10, cachedInputPerMTok: 1.25 });
    assert.deepEqual(catalog.price('openai', 'gpt-5'), { inputPerMTok: 1.25, outputPerMTok: 10, cachedInputPerMTok: 0.125 });
    assert.deepEqual(catalog.price('azure-openai', 'gpt-4o-mini'), catalog.price('openai', 'gpt-4o-mini'));
  });

  it('prices Anthropic models with cache reads and writes', () => {
    assert.deepEqual(catalog.price('anthropic', 'claude-3-5-sonnet-20240620'), {
      inputPerMTok: 3,
      outputPerMTok: 15,
      cachedInputPerMTok: 0.3,
      cacheWriteInputPerMTok: 3.75,
    });
    assert.deepEqual(rates(catalog.price('anthropic', 'claude-3-haiku-20240307')), {
      inputPerMTok: 0.25,
      outputPerMTok: 1.25,
      cachedInputPerMTok: 0.03,
      cacheWriteInputPerMTok: 0.3,
    });
  });

  it('keeps long-context tiers (Claude Sonnet 4.5, Gemini 2.5 Pro)', () => {
    const sonnet = catalog.price('anthropic', 'claude-sonnet-4-5-20250929');
    assert.equal(sonnet?.inputPerMTok, 3);
    assert.equal(sonnet?.outputPerMTok, 15);
    assert.deepEqual(sonnet?.tiers, [
      { aboveInputTokens: 200_000, inputPerMTok: 6, outputPerMTok: 22.5, cachedInputPerMTok: 0.6, cacheWriteInputPerMTok: 7.5 },
    ]);
    const pro = catalog.price('gemini', 'gemini-2.5-pro');
    assert.deepEqual(rates(pro), { inputPerMTok: 1.25, outputPerMTok: 10, cachedInputPerMTok: 0.125 });
    assert.deepEqual(pro?.tiers, [{ aboveInputTokens: 200_000, inputPerMTok: 2.5, outputPerMTok: 15, cachedInputPerMTok: 0.25 }]);
  });

  it('prices Gemini models', () => {
    assert.deepEqual(catalog.price('gemini', 'gemini-2.0-flash'), { inputPerMTok: 0.1, outputPerMTok: 0.4, cachedInputPerMTok: 0.025 });
    assert.deepEqual(catalog.price('gemini', 'gemini-2.5-flash'), { inputPerMTok: 0.3, outputPerMTok: 2.5, cachedInputPerMTok: 0.03 });
  });

  it('prices hosted OpenAI-compatible vendors', () => {
    assert.deepEqual(catalog.price('openai-compatible', 'mistral-large-latest', { vendor: 'mistral' }), { inputPerMTok: 2, outputPerMTok: 6 });
    assert.deepEqual(catalog.price('openai-compatible', 'llama-3.3-70b-versatile', { vendor: 'groq' }), { inputPerMTok: 0.59, outputPerMTok: 0.79 });
    assert.deepEqual(catalog.price('openai-compatible', 'meta-llama/Llama-3.3-70B-Instruct-Turbo', { vendor: 'together' }), {
      inputPerMTok: 0.88,
      outputPerMTok: 0.88,
    });
    assert.deepEqual(catalog.price('groq', 'llama-3.3-70b-versatile'), catalog.price('openai-compatible', 'llama-3.3-70b-versatile', { vendor: 'groq' }));
    assert.deepEqual(catalog.price('openai-compatible', 'openai/gpt-4o-mini', { vendor: 'openrouter' }), {
      inputPerMTok: 0.15,
      outputPerMTok: 0.6,
      cachedInputPerMTok: 0.075,
    });
  });

  it('takes the dearest time-of-day window (DeepSeek peak hours), so caps are not overrun', () => {
    assert.deepEqual(catalog.price('openai-compatible', 'deepseek-chat', { vendor: 'deepseek' }), {
      inputPerMTok: 0.27,
      outputPerMTok: 1.1,
      cachedInputPerMTok: 0.07,
    });
  });

  it('gives self-hosted vendors no price unless overridden', () => {
    for (const vendor of ['vllm', 'ollama', 'generic']) {
      assert.equal(catalog.price('openai-compatible', 'gpt-4o-mini', { vendor }), undefined);
    }
    assert.equal(catalog.price('openai-compatible', 'gpt-4o-mini'), undefined, 'no vendor means generic');
  });
});

describe('PriceCatalog: model names', () => {
  it('falls back from an unknown dated snapshot to its base name', () => {
    assert.equal(packagePrice('openai', 'gpt-4o-mini-2099-01-01', new Date()), undefined, 'the package alone does not know it');
    assert.deepEqual(catalog.price('openai', 'gpt-4o-mini-2099-01-01'), catalog.price('openai', 'gpt-4o-mini'));
    assert.deepEqual(catalog.price('gemini', 'gemini-2.5-flash-20990101'), catalog.price('gemini', 'gemini-2.5-flash'));
    // Known snapshots keep their own price (the package matches them itself).
    assert.deepEqual(catalog.price('openai', 'gpt-4o-mini-2024-07-18'), catalog.price('openai', 'gpt-4o-mini'));
  });

  it('strips release dates only', () => {
    assert.equal(undatedModelName('gpt-4o-mini-2024-07-18'), 'gpt-4o-mini');
    assert.equal(undatedModelName('claude-3-5-sonnet-20240620'), 'claude-3-5-sonnet');
    assert.equal(undatedModelName('claude-3-5-sonnet@20240620'), 'claude-3-5-sonnet');
    assert.equal(undatedModelName('gpt-4o-mini'), undefined);
    assert.equal(undatedModelName('mistral-large-2411'), undefined);
  });

  it('prices Bedrock ids, with and without a cross-region prefix', () => {
    const expected = { inputPerMTok: 3, outputPerMTok: 15, cachedInputPerMTok: 0.3, cacheWriteInputPerMTok: 3.75 };
    assert.deepEqual(catalog.price('bedrock', 'anthropic.claude-3-5-sonnet-20240620-v1:0'), expected);
    assert.deepEqual(catalog.price('bedrock', 'us.anthropic.claude-3-5-sonnet-20240620-v1:0'), expected);
    // Bedrock's regional endpoints carry a 10% premium on newer Claude models.
    assert.equal(catalog.price('bedrock', 'jp.anthropic.claude-sonnet-4-5-20250929-v1:0')?.inputPerMTok, 3.3);
    assert.deepEqual(catalog.price('bedrock', 'meta.llama3-70b-instruct-v1:0'), { inputPerMTok: 2.65, outputPerMTok: 3.5 });
  });

  it('maps a Bedrock id its own list lacks to the vendor model', () => {
    assert.equal(packagePrice('aws', 'eu.anthropic.claude-haiku-4-5-v1:0', new Date()), undefined);
    assert.deepEqual(rates(catalog.price('bedrock', 'eu.anthropic.claude-haiku-4-5-v1:0')), rates(catalog.price('anthropic', 'claude-haiku-4-5')));
    assert.equal(catalog.price('bedrock', 'eu.anthropic.claude-haiku-4-5-v1:0')?.inputPerMTok, 1);
    assert.deepEqual(bedrockModelRef('us.anthropic.claude-3-5-sonnet-20240620-v1:0'), { vendor: 'anthropic', model: 'claude-3-5-sonnet-20240620' });
    assert.deepEqual(bedrockModelRef('arn:aws:bedrock:us-east-1:123:inference-profile/us.meta.llama3-3-70b-instruct-v1:0'), {
      vendor: 'meta',
      model: 'llama3-3-70b-instruct',
    });
    assert.deepEqual(bedrockModelRef('openai.gpt-oss-120b-1:0'), { vendor: 'openai', model: 'gpt-oss-120b' });
    assert.equal(bedrockModelRef('no-dots'), undefined);
  });

  it('returns undefined for unknown models and provider types', () => {
    assert.equal(catalog.price('openai', 'my-finetune'), undefined);
    assert.equal(catalog.price('anthropic', 'gpt-4o-mini'), undefined);
    assert.equal(catalog.price('bedrock', 'acme.unknown-model-v1:0'), undefined);
    assert.equal(catalog.price('unknown-type', 'gpt-4o-mini'), undefined);
  });

  it('prices the mock at zero unless overridden', () => {
    assert.deepEqual(catalog.price('mock', 'anything'), { inputPerMTok: 0, outputPerMTok: 0, cachedInputPerMTok: 0 });
    const priced = new PriceCatalog({ 'mock/mock-large': { input_per_mtok: 1, output_per_mtok: 2 } });
    assert.deepEqual(priced.price('mock', 'mock-large'), { inputPerMTok: 1, outputPerMTok: 2 });
    assert.equal(priced.cost(priced.price('mock', 'other')!, { inputTokens: 1000, outputTokens: 1000 }), 0);
  });
});

describe('PriceCatalog: overrides', () => {
  const overridden = new PriceCatalog({
    'prod-openai/gpt-4o-mini': { input_per_mtok: 1, output_per_mtok: 1 },
    'openai/gpt-4o-mini': { input_per_mtok: 2, output_per_mtok: 2, cached_input_per_mtok: 0.5 },
    'gpt-4o-mini': { input_per_mtok: 3, output_per_mtok: 3 },
    'groq/llama-3.3-70b-versatile': { input_per_mtok: 4, output_per_mtok: 4 },
    'my-vllm/llama-3.1-8b': { input_per_mtok: 0.01, output_per_mtok: 0.02 },
    'claude-3-5-sonnet': { input_per_mtok: 5, output_per_mtok: 5 },
    'claude-3-5-sonnet-20241022': { input_per_mtok: 6, output_per_mtok: 6 },
  });

  it('tries provider name, then provider type, then the bare model', () => {
    assert.equal(overridden.price('openai', 'gpt-4o-mini', { providerName: 'prod-openai' })?.inputPerMTok, 1);
    assert.deepEqual(overridden.price('openai', 'gpt-4o-mini', { providerName: 'other' }), {
      inputPerMTok: 2,
      outputPerMTok: 2,
      cachedInputPerMTok: 0.5,
    });
    assert.equal(overridden.price('azure-openai', 'gpt-4o-mini')?.inputPerMTok, 3);
    assert.equal(overridden.price('openai-compatible', 'gpt-4o-mini', { vendor: 'vllm' })?.inputPerMTok, 3);
  });

  it('keys vendors and named self-hosted providers', () => {
    assert.equal(overridden.price('openai-compatible', 'llama-3.3-70b-versatile', { vendor: 'groq' })?.inputPerMTok, 4);
    assert.deepEqual(overridden.price('openai-compatible', 'llama-3.1-8b', { providerName: 'my-vllm', vendor: 'vllm' }), {
      inputPerMTok: 0.01,
      outputPerMTok: 0.02,
    });
    assert.equal(overridden.price('openai-compatible', 'llama-3.1-8b', { providerName: 'other', vendor: 'vllm' }), undefined);
  });

  it('lets an undated override cover snapshots, and an exact one beat it', () => {
    assert.equal(overridden.price('anthropic', 'claude-3-5-sonnet-20240620')?.inputPerMTok, 5);
    assert.equal(overridden.price('anthropic', 'claude-3-5-sonnet-20241022')?.inputPerMTok, 6);
    assert.equal(overridden.price('openai', 'gpt-4o-mini-2024-07-18')?.inputPerMTok, 2);
  });

  it('leaves models without an override to the package', () => {
    assert.equal(overridden.price('openai', 'gpt-4o')?.inputPerMTok, 2.5);
  });

  it('builds from parsed config', () => {
    const config = pricingSchema.parse({ overrides: { 'gpt-4o': { input_per_mtok: 1, output_per_mtok: 4 } } });
    assert.equal(config.unknown_price, 'refuse');
    assert.equal(new PriceCatalog(config.overrides).price('openai', 'gpt-4o')?.outputPerMTok, 4);
    assert.deepEqual(pricingSchema.parse(undefined), { overrides: {}, unknown_price: 'refuse' });
    assert.equal(pricingSchema.safeParse({ overrides: { x: { input_per_mtok: -1, output_per_mtok: 0 } } }).success, false);
    assert.equal(pricingSchema.safeParse({ overrides: { x: { input_per_mtok: 1 } } }).success, false);
    assert.equal(pricingSchema.safeParse({ unknown_price: 'free' }).success, false);
    assert.equal(pricingSchema.safeParse({ extra: true }).success, false);
  });
});

describe('PriceCatalog: cost and maxCost', () => {
  const mini = catalog.price('openai', 'gpt-4o-mini')!;

  it('bills input, output and cached tokens (cached as a subset of input)', () => {
    near(catalog.cost(mini, { inputTokens: 1000, outputTokens: 500 }), (1000 * 0.15 + 500 * 0.6) / 1e6);
    near(catalog.cost(mini, { inputTokens: 1000, outputTokens: 500, cachedInputTokens: 400 }), (600 * 0.15 + 400 * 0.075 + 500 * 0.6) / 1e6);
    near(catalog.cost(mini, { inputTokens: 0, outputTokens: 0 }), 0);
  });

  it('bills cached tokens at the input rate when no cached rate is known', () => {
    const flat: ModelPrice = { inputPerMTok: 2, outputPerMTok: 8 };
    near(catalog.cost(flat, { inputTokens: 1000, outputTokens: 100, cachedInputTokens: 400 }), (1000 * 2 + 100 * 8) / 1e6);
  });

  it('never bills more cached tokens than input tokens', () => {
    near(catalog.cost(mini, { inputTokens: 100, outputTokens: 0, cachedInputTokens: 500 }), (100 * 0.075) / 1e6);
  });

  it('bills cache writes at the cache-write rate', () => {
    const sonnet = catalog.price('anthropic', 'claude-3-5-sonnet-20240620')!;
    const usage = { inputTokens: 10_000, outputTokens: 1000, cachedInputTokens: 2000, cacheCreationTokens: 3000 };
    near(catalog.cost(sonnet, usage), (5000 * 3 + 2000 * 0.3 + 3000 * 3.75 + 1000 * 15) / 1e6);
  });

  it('bills a long-context request at its tier for every token', () => {
    const pro = catalog.price('gemini', 'gemini-2.5-pro')!;
    near(catalog.cost(pro, { inputTokens: 200_000, outputTokens: 1000 }), (200_000 * 1.25 + 1000 * 10) / 1e6);
    near(catalog.cost(pro, { inputTokens: 250_000, outputTokens: 1000 }), (250_000 * 2.5 + 1000 * 15) / 1e6);
  });

  it('maxCost reserves the worst case', () => {
    near(catalog.maxCost(mini, 1000, 500), (1000 * 0.15 + 500 * 0.6) / 1e6);
    const sonnet = catalog.price('anthropic', 'claude-3-5-sonnet-20240620')!;
    near(catalog.maxCost(sonnet, 1000, 4096), (1000 * 3.75 + 4096 * 15) / 1e6);
    const pro = catalog.price('gemini', 'gemini-2.5-pro')!;
    near(catalog.maxCost(pro, 300_000, 8192), (300_000 * 2.5 + 8192 * 15) / 1e6);
    assert.ok(catalog.maxCost(mini, 1000, 500) >= catalog.cost(mini, { inputTokens: 1000, outputTokens: 500, cachedInputTokens: 900 }));
  });
});

describe('PriceCatalog: lookup cache', () => {
  it('returns the same frozen object for repeated lookups', () => {
    const fresh = new PriceCatalog({ 'gpt-4o': { input_per_mtok: 1, output_per_mtok: 1 } });
    const first = fresh.price('openai', 'gpt-4o-mini');
    assert.ok(first !== undefined);
    assert.equal(fresh.price('openai', 'gpt-4o-mini'), first);
    assert.ok(Object.isFrozen(first));
    assert.equal(fresh.price('openai', 'gpt-4o'), fresh.price('openai', 'gpt-4o'));
    assert.equal(fresh.price('mock', 'a'), fresh.price('mock', 'b'));
  });

  it('keeps lookups for different targets apart', () => {
    const fresh = new PriceCatalog({ 'a/gpt-4o': { input_per_mtok: 9, output_per_mtok: 9 } });
    assert.equal(fresh.price('openai', 'gpt-4o', { providerName: 'a' })?.inputPerMTok, 9);
    assert.equal(fresh.price('openai', 'gpt-4o', { providerName: 'b' })?.inputPerMTok, 2.5);
    assert.equal(fresh.price('openai', 'gpt-4o')?.inputPerMTok, 2.5);
  });
});
