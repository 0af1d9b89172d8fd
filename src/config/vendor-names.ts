/**
 * OpenAI-compatible servers with a known profile (providers/openai-compatible/vendors.ts holds the
 * quirks). Kept here so the config schema can validate the name without importing providers.
 */
export const OPENAI_COMPATIBLE_VENDOR_NAMES = [
  'generic',
  'vllm',
  'ollama',
  'groq',
  'mistral',
  'together',
  'deepseek',
  'openrouter',
] as const;

export type OpenAICompatibleVendorName = (typeof OPENAI_COMPATIBLE_VENDOR_NAMES)[number];

/** Hosted vendors' API base URLs, used when `base_url` is omitted. Self-hosted servers need one. */
export const VENDOR_DEFAULT_BASE_URLS: Partial<Record<OpenAICompatibleVendorName, string>> = {
  ollama: 'http://127.0.0.1:11434/v1',
  groq: 'https://api.groq.com/openai/v1',
  mistral: 'https://api.mistral.ai/v1',
  together: 'https://api.together.xyz/v1',
  deepseek: 'https://api.deepseek.com/v1',
  openrouter: 'https://openrouter.ai/api/v1',
};
