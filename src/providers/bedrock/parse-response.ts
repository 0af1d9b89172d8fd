import { z } from 'zod';
import type { CanonicalChoice, CanonicalResponse, FinishReason, ReasoningBlock, ToolCall, Usage } from '../../core/canonical.js';
import { badResponse, parseUpstreamJson } from '../classify-status.js';

export { badResponse, parseUpstreamJson } from '../classify-status.js';

/** Converse response shapes, loosely validated: we check what we read and ignore the rest. */

const contentBlockSchema = z.looseObject({
  text: z.string().optional(),
  toolUse: z.looseObject({ toolUseId: z.string(), name: z.string(), input: z.unknown() }).optional(),
  reasoningContent: z
    .looseObject({
      reasoningText: z.looseObject({ text: z.string(), signature: z.string().optional() }).optional(),
      redactedContent: z.string().optional(),
    })
    .optional(),
});

const converseResponseSchema = z.looseObject({
  output: z.looseObject({
    message: z.looseObject({ role: z.string().optional(), content: z.array(contentBlockSchema) }),
  }),
  stopReason: z.string(),
  usage: z.unknown().optional(),
});



/**
 * Reads a Converse TokenUsage. Bedrock counts cache reads and writes apart from `inputTokens`
 * (as Anthropic does); canonical usage counts the whole prompt, so they are added back in.
 * Undefined when the value is not a usage object.
 */
export function parseConverseUsage(value: unknown): Usage | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const wire = value as Record<string, unknown>;
  const input = wire.inputTokens;
  const output = wire.outputTokens;
  if (typeof input !== 'number' || typeof output !== 'number') return undefined;
  const cacheRead = typeof wire.cacheReadInputTokens === 'number' ? wire.cacheReadInputTokens : undefined;
  const cacheWrite = typeof wire.cacheWriteInputTokens === 'number' ? wire.cacheWriteInputTokens : undefined;
  const usage: Usage = { inputTokens: input + (cacheRead ?? 0) + (cacheWrite ?? 0), outputTokens: output };
  if (cacheRead !== undefined) usage.cachedInputTokens = cacheRead;
  if (cacheWrite !== undefined) usage.cacheCreationTokens = cacheWrite;
  return usage;
}

export function decodeStopReason(reason: string | undefined): FinishReason {
  switch (reason) {
    case 'max_tokens':
    case 'model_context_window_exceeded':
      return 'length';
    case 'tool_use':
      return 'tool_calls';
    case 'guardrail_intervened':
    case 'content_filtered':
      return 'content_filter';
    default:
      // end_turn, stop_sequence, and anything newer.
      return 'stop';
  }
}

export interface ParsedConverse {
  response: CanonicalResponse;
  usageMissing: boolean;
}

/** Parses a Converse answer into one canonical choice; `id` is the upstream request id. */
export function parseConverseResponse(text: string, provider: string, id: string, model: string): ParsedConverse {
  const parsed = converseResponseSchema.safeParse(parseUpstreamJson(text, provider, 'a response'));
  if (!parsed.success) throw badResponse(provider, 'a response that is not a Converse answer');
  const body = parsed.data;
  let content: string | null = null;
  const toolCalls: ToolCall[] = [];
  const reasoning: ReasoningBlock[] = [];
  for (const block of body.output.message.content) {
    if (block.text !== undefined) content = (content ?? '') + block.text;
    if (block.toolUse) {
      toolCalls.push({ id: block.toolUse.toolUseId, name: block.toolUse.name, arguments: JSON.stringify(block.toolUse.input ?? {}) });
    }
    const thought = block.reasoningContent;
    if (thought?.reasoningText) {
      const item: ReasoningBlock = { text: thought.reasoningText.text };
      if (thought.reasoningText.signature !== undefined) item.signature = thought.reasoningText.signature;
      reasoning.push(item);
    } else if (thought?.redactedContent !== undefined) reasoning.push({ text: '', redacted: thought.redactedContent });
  }
  const choice: CanonicalChoice = { index: 0, content, finishReason: decodeStopReason(body.stopReason) };
  if (toolCalls.length > 0) choice.toolCalls = toolCalls;
  if (reasoning.length > 0) choice.reasoning = reasoning;
  const usage = parseConverseUsage(body.usage);
  const response: CanonicalResponse = {
    id,
    model,
    created: Math.floor(Date.now() / 1000),
    choices: [choice],
    usage: usage ?? { inputTokens: 0, outputTokens: 0 },
  };
  return { response, usageMissing: usage === undefined };
}
