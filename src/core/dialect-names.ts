/**
 * Wire-format names shared by client dialects and providers: a provider whose native dialect equals
 * the client's can pass the body and answer through (the passthrough fast path).
 */
export const OPENAI_CHAT_DIALECT = 'openai-chat';
export const ANTHROPIC_MESSAGES_DIALECT = 'anthropic-messages';
