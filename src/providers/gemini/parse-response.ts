import { z } from 'zod';
import type { CanonicalChoice, CanonicalRequest, CanonicalResponse, FinishReason, ReasoningBlock, ToolCall, Usage } from '../../core/canonical.js';
import { GatewayError } from '../../core/errors.js';
import { countTextTokens, estimatedUsage, promptTokenCounter } from '../../usage/token-estimate.js';
import { parseGeminiError, readGoogleError } from './parse-error.js';
import { badResponse } from '../classify-status.js';

export { badResponse } from '../classify-status.js';

/** GenerateContentResponse, loosely validated: what we read is checked, the rest left alone. */

const partSchema = z.looseObject({
  text: z.string().optional(),
  thought: z.boolean().optional(),
  functionCall: z
    .looseObject({
      id: z.string().optional(),
      name: z.string(),
      args: z.record(z.string(), z.unknown()).nullish(),
    })
    .optional(),
});

const candidateSchema = z.looseObject({
  index: z.number().optional(),
  content: z.looseObject({ parts: z.array(partSchema).optional() }).optional(),
  finishReason: z.string().optional(),
});

const usageSchema = z.looseObject({
  promptTokenCount: z.number().optional(),
  candidatesTokenCount: z.number().optional(),
  thoughtsTokenCount: z.number().optional(),
  cachedContentTokenCount: z.number().optional(),
  toolUsePromptTokenCount: z.number().optional(),
});

const responseSchema = z.looseObject({
  candidates: z.array(candidateSchema).optional(),
  promptFeedback: z.looseObject({ blockReason: z.string().optional() }).optional(),
  usageMetadata: usageSchema.optional(),
  modelVersion: z.string().optional(),
  responseId: z.string().optional(),
});

export type GeminiResponse = z.output<typeof responseSchema>;
export type GeminiCandidate = z.output<typeof candidateSchema>;
export type GeminiPart = z.output<typeof partSchema>;

export interface ParseContext {
  provider: string;
  secrets: readonly string[];
}


/**
 * Parses one GenerateContentResponse (a whole answer or one stream event). An embedded error
 * object and a blocked prompt are thrown as classified errors.
 */
export function readGeminiResponse(text: string, context: ParseContext, what: string): GeminiResponse {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw badResponse(context.provider, `${what} that is not JSON`);
  }
  if (typeof json === 'object' && json !== null && 'error' in json) {
    const error = readGoogleError(json);
    throw parseGeminiError(error.code ?? 500, error, undefined, context.secrets, context.provider);
  }
  const parsed = responseSchema.safeParse(json);
  if (!parsed.success) throw badResponse(context.provider, `${what} of the wrong shape`);
  const blockReason = parsed.data.promptFeedback?.blockReason;
  if (blockReason && (parsed.data.candidates ?? []).length === 0) {
    throw new GatewayError('BB_CONTENT_FILTERED', `Provider "${context.provider}" blocked the prompt (${blockReason}).`, { param: 'messages' });
  }
  return parsed.data;
}

/** Gemini finish reasons in canonical terms; a function-call answer that stopped is `tool_calls`. */
export function decodeFinishReason(reason: string | undefined, hasToolCalls: boolean): FinishReason {
  switch (reason) {
    case 'MAX_TOKENS':
      return 'length';
    case 'SAFETY':
    case 'RECITATION':
    case 'BLOCKLIST':
    case 'PROHIBITED_CONTENT':
    case 'SPII':
    case 'IMAGE_SAFETY':
      return 'content_filter';
    case 'MALFORMED_FUNCTION_CALL':
    case 'UNEXPECTED_TOOL_CALL':
      return 'error';
    default:
      return hasToolCalls ? 'tool_calls' : 'stop';
  }
}

/**
 * Usage from usageMetadata: thoughts are billed as output, so output counts them and names them
 * as reasoning; cached tokens are part of the prompt count already. Undefined when absent.
 */
export function decodeUsage(metadata: GeminiResponse['usageMetadata']): Usage | undefined {
  if (!metadata || metadata.promptTokenCount === undefined) return undefined;
  const thoughts = metadata.thoughtsTokenCount;
  const usage: Usage = {
    inputTokens: metadata.promptTokenCount + (metadata.toolUsePromptTokenCount ?? 0),
    outputTokens: (metadata.candidatesTokenCount ?? 0) + (thoughts ?? 0),
  };
  if (metadata.cachedContentTokenCount !== undefined) usage.cachedInputTokens = metadata.cachedContentTokenCount;
  if (thoughts !== undefined) usage.reasoningTokens = thoughts;
  return usage;
}

/** Gemini gives function calls no id; the gateway numbers them per answer, the same in streams. */
export function toolCallId(call: NonNullable<GeminiPart['functionCall']>, index: number): string {
  return call.id ?? `call_${index}`;
}

function decodeCandidate(candidate: GeminiCandidate, position: number): CanonicalChoice {
  let text = '';
  let sawText = false;
  const reasoning: ReasoningBlock[] = [];
  const toolCalls: ToolCall[] = [];
  for (const part of candidate.content?.parts ?? []) {
    if (part.functionCall) {
      toolCalls.push({ id: toolCallId(part.functionCall, toolCalls.length), name: part.functionCall.name, arguments: JSON.stringify(part.functionCall.args ?? {}) });
    } else if (part.text !== undefined && part.thought === true) {
      reasoning.push({ text: part.text });
    } else if (part.text !== undefined) {
      text += part.text;
      sawText = true;
    }
  }
  const choice: CanonicalChoice = {
    index: candidate.index ?? position,
    content: sawText ? text : null,
    finishReason: decodeFinishReason(candidate.finishReason, toolCalls.length > 0),
  };
  if (toolCalls.length > 0) choice.toolCalls = toolCalls;
  if (reasoning.length > 0) choice.reasoning = reasoning;
  return choice;
}

/** A whole generateContent answer in canonical form; usage is estimated if Google sent none. */
export function parseGenerateContent(text: string, context: ParseContext, request: CanonicalRequest, fallback: { id: string; model: string }): CanonicalResponse {
  const body = readGeminiResponse(text, context, 'a response');
  const candidates = body.candidates ?? [];
  if (candidates.length === 0) throw badResponse(context.provider, 'a response without candidates');
  const choices = candidates.map(decodeCandidate);
  const usage =
    decodeUsage(body.usageMetadata) ??
    estimatedUsage(promptTokenCounter(request), choices.map((choice) => (choice.content ?? '') + (choice.toolCalls ?? []).map((call) => call.arguments).join('')).join(''));
  return {
    id: body.responseId ?? fallback.id,
    model: body.modelVersion ?? fallback.model,
    created: Math.floor(Date.now() / 1000),
    choices,
    usage,
  };
}
