/**
 * How one OpenAI-speaking server differs from OpenAI's own API. The OpenAI adapter is written once
 * against this profile; OpenAI and each compatible vendor are declarative entries, not copies.
 */
export interface OpenAIWireProfile {
  /** Field used for the output cap when the gateway builds the body itself. */
  maxTokensField: 'max_tokens' | 'max_completion_tokens';
  /** `stream_options`: ask with include_usage; `automatic`: the vendor always sends usage. */
  streamUsage: 'stream_options' | 'automatic';
  /** Request fields the vendor refuses: the gateway answers a clear 400 instead of forwarding. */
  rejectedFields: readonly string[];
  /** Largest `n` (choices) the vendor accepts. */
  maxChoices?: number;
  /** The vendor refuses `messages[].name`; it is dropped (it only labels participants). */
  dropMessageNames: boolean;
  /** OpenAI field name -> the vendor's name for the same thing. */
  renamedFields: Readonly<Record<string, string>>;
  /** The vendor's spelling of tool_choice "required". */
  toolChoiceRequired: 'required' | 'any';
  /** The vendor serves `/embeddings`. */
  embeddings: boolean;
}

/** OpenAI's own API. */
export const OPENAI_PROFILE: OpenAIWireProfile = {
  maxTokensField: 'max_completion_tokens',
  streamUsage: 'stream_options',
  rejectedFields: [],
  dropMessageNames: false,
  renamedFields: {},
  toolChoiceRequired: 'required',
  embeddings: true,
};
