import { z } from 'zod';
import type { CanonicalResponse, EmbeddingsResponse, FinishReason, ToolCall, Usage } from '../../core/canonical.js';
import { badResponse, parseUpstreamJson } from '../classify-status.js';

export { badResponse, parseUpstreamJson } from '../classify-status.js';

/** OpenAI response shapes, loosely validated: we check what we read and keep the rest untouched. */

const toolCallSchema = z.looseObject({
  id: z.string(),
  function: z.looseObject({ name: z.string(), arguments: z.string() }),
});

const chatResponseSchema = z.looseObject({
  id: z.string(),
  created: z.number().optional(),
  model: z.string(),
  choices: z.array(
    z.looseObject({
      index: z.number(),
      message: z.looseObject({
        content: z.string().nullish(),
        refusal: z.string().nullish(),
        tool_calls: z.array(toolCallSchema).nullish(),
      }),
      finish_reason: z.string().nullish(),
    }),
  ),
  usage: z.unknown().optional(),
});

/**
 * Reads an OpenAI usage object, checking each number it takes. Hand-written rather than a zod parse:
 * it runs on every answer and every usage chunk, and the schema parse cost several times more.
 * Undefined when the value is not a usage object.
 */
export function parseUsage(value: unknown): Usage | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const wire = value as Record<string, unknown>;
  const input = wire.prompt_tokens;
  const output = wire.completion_tokens;
  if ((input !== undefined && typeof input !== 'number') || (output !== undefined && typeof output !== 'number')) return undefined;
  const usage: Usage = { inputTokens: input ?? 0, outputTokens: output ?? 0 };
  const cached = numberAt(wire.prompt_tokens_details, 'cached_tokens') ?? (typeof wire.prompt_cache_hit_tokens === 'number' ? wire.prompt_cache_hit_tokens : undefined);
  if (cached !== undefined) usage.cachedInputTokens = cached;
  const reasoning = numberAt(wire.completion_tokens_details, 'reasoning_tokens');
  if (reasoning !== undefined) usage.reasoningTokens = reasoning;
  return usage;
}

function numberAt(value: unknown, key: string): number | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const found = (value as Record<string, unknown>)[key];
  return typeof found === 'number' ? found : undefined;
}

export function decodeFinishReason(reason: string | null | undefined): FinishReason {
  switch (reason) {
    case 'length':
    case 'tool_calls':
    case 'content_filter':
      return reason;
    case 'function_call':
      return 'tool_calls';
    default:
      return 'stop';
  }
}



/**
 * The passthrough fast path: checks the answer is a chat completion (an object with a `choices`
 * array) and reads its usage, without validating every choice. Undefined when usage is absent.
 */
export function readChatUsage(text: string, provider: string): Usage | undefined {
  const json = parseUpstreamJson(text, provider, 'a response');
  if (typeof json !== 'object' || json === null || !Array.isArray((json as { choices?: unknown }).choices)) {
    throw badResponse(provider, 'a response that is not a chat completion');
  }
  const usage = (json as { usage?: unknown }).usage;
  return usage === undefined || usage === null ? undefined : parseUsage(usage);
}

/** Parses an OpenAI chat completion; `usageMissing` tells the caller to estimate usage. */
export function parseChatResponse(text: string, provider: string): { response: CanonicalResponse; usageMissing: boolean } {
  const parsed = chatResponseSchema.safeParse(parseUpstreamJson(text, provider, 'a response'));
  if (!parsed.success) throw badResponse(provider, 'a response that is not a chat completion');
  const body = parsed.data;
  const response: CanonicalResponse = {
    id: body.id,
    model: body.model,
    created: body.created ?? Math.floor(Date.now() / 1000),
    choices: body.choices.map((choice) => {
      const toolCalls: ToolCall[] | undefined = choice.message.tool_calls?.map((call) => ({
        id: call.id,
        name: call.function.name,
        arguments: call.function.arguments,
      }));
      return {
        index: choice.index,
        content: choice.message.content ?? null,
        finishReason: decodeFinishReason(choice.finish_reason),
        ...(toolCalls && toolCalls.length > 0 ? { toolCalls } : {}),
        ...(choice.message.refusal ? { refusal: choice.message.refusal } : {}),
      };
    }),
    usage: { inputTokens: 0, outputTokens: 0 },
  };
  const usage = parseUsage(body.usage);
  if (usage) response.usage = usage;
  return { response, usageMissing: usage === undefined };
}

const embeddingsResponseSchema = z.looseObject({
  model: z.string().optional(),
  data: z.array(z.looseObject({ index: z.number(), embedding: z.union([z.array(z.number()), z.string()]) })),
  usage: z.looseObject({ prompt_tokens: z.number().optional() }).nullish(),
});

export function parseEmbeddingsResponse(text: string, provider: string, fallbackModel: string): EmbeddingsResponse {
  const parsed = embeddingsResponseSchema.safeParse(parseUpstreamJson(text, provider, 'an embeddings response'));
  if (!parsed.success) throw badResponse(provider, 'an embeddings response of the wrong shape');
  return {
    model: parsed.data.model ?? fallbackModel,
    data: parsed.data.data.map((item) => ({ index: item.index, embedding: item.embedding })),
    usage: { inputTokens: parsed.data.usage?.prompt_tokens ?? 0 },
  };
}
