import type { CanonicalMessage, CanonicalRequest, ContentPart, Usage } from '../core/canonical.js';
import { loadO200kEncoding, type TokenEncoding } from './o200k-encoding.js';
import { TokenCountCache } from './token-count-cache.js';

/**
 * Token counts with a real tokenizer (o200k_base, the GPT-4o family). For other model families it
 * is a documented approximation (docs/architecture.md): close enough to hold limits before the
 * provider reports actual usage, which always wins at settle time.
 */

/**
 * The encoding is built on first use (about 0.1 s and 15 MB of idle RSS): a gateway whose config never
 * counts tokens (no token or spend limits, no mock provider) never pays for it. The gateway
 * preloads it at startup when the config will need it (`preloadTokenizer`), so no request waits.
 */
let encoding: TokenEncoding | undefined;

function tokenizer(): TokenEncoding {
  return (encoding ??= loadO200kEncoding());
}

/** Builds the encoding now, if not yet built (startup, when the config counts tokens). */
export function preloadTokenizer(): void {
  tokenizer();
}

/** Whether the encoding has been built (tests: a config that never counts tokens never loads it). */
export function tokenizerLoaded(): boolean {
  return encoding !== undefined;
}

/**
 * Texts up to this many characters are counted exactly. A longer one is counted on its first
 * EXACT_COUNT_CHARS characters and scaled by its length: counting runs on the event loop at about
 * 17 MB/s for prose (and slower for long runs without spaces), so a body at the 20 MB limit would
 * hold every other request for over a second. The scaled count stays within a percent or two for
 * natural text; it feeds limits, routing rules and estimates, which providers' reports correct.
 */
export const EXACT_COUNT_CHARS = 262_144;

function countTokens(text: string): number {
  if (text.length <= EXACT_COUNT_CHARS) return tokenizer().countTokens(text);
  const head = tokenizer().countTokens(text.slice(0, EXACT_COUNT_CHARS));
  return Math.ceil((head * text.length) / EXACT_COUNT_CHARS);
}

/** OpenAI's documented chat framing: about 3 tokens per message and 3 to prime the reply. */
const TOKENS_PER_MESSAGE = 3;
const TOKENS_PER_NAME = 1;
const REPLY_PRIMING_TOKENS = 3;
/** A low-detail image costs 85 tokens on OpenAI; we count every image so, as a floor. */
const TOKENS_PER_IMAGE = 85;

export function countTextTokens(text: string): number {
  return text.length === 0 ? 0 : countTokens(text);
}

/** Prompt texts repeat across requests (resent conversations, shared system prompts): 1M characters per generation. */
const promptTexts = new TokenCountCache(countTokens, 1_000_000);

export function encodeText(text: string): number[] {
  return tokenizer().encode(text);
}

export function decodeTokens(tokens: number[]): string {
  return tokenizer().decode(tokens);
}

function countContentTokens(content: string | ContentPart[] | null): number {
  if (content === null) return 0;
  if (typeof content === 'string') return promptTexts.tokens(content);
  let total = 0;
  for (const part of content) {
    if (part.type === 'text') total += promptTexts.tokens(part.text);
    else if (part.type === 'image') total += TOKENS_PER_IMAGE;
    else total += countTextTokens(JSON.stringify(part.value));
  }
  return total;
}

function countMessageTokens(message: CanonicalMessage): number {
  let total = TOKENS_PER_MESSAGE + countContentTokens(message.content);
  if (message.name !== undefined) total += TOKENS_PER_NAME + countTextTokens(message.name);
  for (const call of message.toolCalls ?? []) total += countTextTokens(call.name) + countTextTokens(call.arguments);
  return total;
}

/** Estimated prompt tokens of a chat request, tools included. */
export function estimatePromptTokens(request: CanonicalRequest): number {
  let total = REPLY_PRIMING_TOKENS;
  for (const message of request.messages) total += countMessageTokens(message);
  for (const tool of request.tools ?? []) {
    total += countTextTokens(tool.name) + countTextTokens(tool.description ?? '');
    if (tool.parameters) total += promptTexts.tokens(JSON.stringify(tool.parameters));
  }
  return total;
}

/**
 * The prompt's token count, counted at most once and only if asked. Once counted, the request is
 * let go: a stream lives for minutes and should not keep its prompt (which can be hundreds of KB)
 * alive just in case the provider reports no usage. Limits and prompt-size rules count it at
 * admission, so under them nothing downstream holds the prompt.
 */
export function promptTokenCounter(request: CanonicalRequest): () => number {
  const state: { request: CanonicalRequest | undefined; tokens: number } = { request, tokens: 0 };
  return () => {
    if (state.request !== undefined) {
      state.tokens = estimatePromptTokens(state.request);
      state.request = undefined;
    }
    return state.tokens;
  };
}

/** Usage the gateway counts itself when a provider reports none: marked estimated. */
export function estimatedUsage(promptTokens: () => number, outputText: string): Usage {
  return { inputTokens: promptTokens(), outputTokens: countTextTokens(outputText), estimated: true };
}

/** Tokens of an embeddings input (strings are tokenized; token arrays are counted as given). */
export function countEmbeddingInputTokens(input: string | string[] | number[] | number[][]): number {
  if (typeof input === 'string') return countTextTokens(input);
  let total = 0;
  for (const item of input) {
    if (typeof item === 'string') total += countTextTokens(item);
    else if (typeof item === 'number') total += 1;
    else total += item.length;
  }
  return total;
}
