import type { OpenAICompatibleVendorName } from '../../config/vendor-names.js';
import { OPENAI_PROFILE, type OpenAIWireProfile } from '../openai/wire-profile.js';

/** Most servers take OpenAI's body as is; they differ mainly in the output-cap field name. */
const BASE: OpenAIWireProfile = { ...OPENAI_PROFILE, maxTokensField: 'max_tokens' };

/**
 * Known quirks per vendor, from each vendor's published OpenAI-compatibility notes. Anything not
 * listed behaves like OpenAI. Add a vendor by adding an entry, not by copying the adapter.
 */
export const VENDOR_PROFILES: Record<OpenAICompatibleVendorName, OpenAIWireProfile> = {
  generic: BASE,
  vllm: BASE,
  ollama: BASE,
  groq: {
    ...BASE,
    // Groq answers 400 to these; we say so before spending a round trip.
    rejectedFields: ['logprobs', 'logit_bias', 'top_logprobs'],
    maxChoices: 1,
    dropMessageNames: true,
    embeddings: false,
  },
  mistral: {
    ...BASE,
    // Mistral sends usage in the last chunk unasked, and names the seed differently.
    streamUsage: 'automatic',
    renamedFields: { seed: 'random_seed' },
    toolChoiceRequired: 'any',
  },
  together: BASE,
  deepseek: { ...BASE, embeddings: false },
  openrouter: BASE,
};
