import { z } from 'zod';
import type { CanonicalResponse, FinishReason, ReasoningBlock, ToolCall, Usage } from '../../core/canonical.js';
import { badResponse, parseUpstreamJson } from '../classify-status.js';

export { badResponse, parseUpstreamJson } from '../classify-status.js';

/** Anthropic message shapes, loosely validated: we check what we read and leave the rest alone. */

const contentBlockSchema = z.looseObject({ type: z.string() });

const messageSchema = z.looseObject({
  id: z.string(),
  type: z.literal('message'),
  model: z.string(),
  content: z.array(contentBlockSchema),
  stop_reason: z.string().nullish(),
  stop_sequence: z.string().nullish(),
  usage: z.unknown().optional(),
});

/**
 * The parts of an Anthropic usage object the gateway reads. Every field is optional because
 * `message_delta` usage repeats only what changed (in older API versions just output_tokens).
 */
export interface WireUsage {
  input?: number;
  output?: number;
  cacheRead?: number;
  cacheCreation?: number;
  thinking?: number;
}

/** Reads an Anthropic usage object by hand (it runs on every answer and stream); undefined if not one. */
export function readWireUsage(value: unknown): WireUsage | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const wire = value as Record<string, unknown>;
  const out: WireUsage = {};
  const pick = (key: string) => (typeof wire[key] === 'number' ? (wire[key] as number) : undefined);
  const input = pick('input_tokens');
  const output = pick('output_tokens');
  const cacheRead = pick('cache_read_input_tokens');
  const cacheCreation = pick('cache_creation_input_tokens');
  if (input !== undefined) out.input = input;
  if (output !== undefined) out.output = output;
  if (cacheRead !== undefined) out.cacheRead = cacheRead;
  if (cacheCreation !== undefined) out.cacheCreation = cacheCreation;
  const details = wire.output_tokens_details;
  if (typeof details === 'object' && details !== null) {
    const thinking = (details as Record<string, unknown>).thinking_tokens;
    if (typeof thinking === 'number') out.thinking = thinking;
  }
  return out;
}

/** Later fields win: a `message_delta` usage updates the one from `message_start`. */
export function mergeWireUsage(base: WireUsage | undefined, update: WireUsage): WireUsage {
  return base === undefined ? { ...update } : { ...base, ...update };
}

/**
 * Canonical usage from Anthropic's. Anthropic's `input_tokens` counts only the uncached part of the
 * prompt; OpenAI's `prompt_tokens` (and canonical `inputTokens`) count all of it, with cached
 * tokens as a subset. So inputTokens = input + cache reads + cache writes, and both cache counts
 * are reported as subsets of it.
 */
export function toCanonicalUsage(wire: WireUsage): Usage {
  const cacheRead = wire.cacheRead ?? 0;
  const cacheCreation = wire.cacheCreation ?? 0;
  const usage: Usage = { inputTokens: (wire.input ?? 0) + cacheRead + cacheCreation, outputTokens: wire.output ?? 0 };
  if (wire.cacheRead !== undefined) usage.cachedInputTokens = wire.cacheRead;
  if (wire.cacheCreation !== undefined) usage.cacheCreationTokens = wire.cacheCreation;
  if (wire.thinking !== undefined) usage.reasoningTokens = wire.thinking;
  return usage;
}

/** Anthropic stop reasons in OpenAI's vocabulary (the canonical one). */
export function decodeStopReason(reason: string | null | undefined): FinishReason {
  switch (reason) {
    case 'max_tokens':
    case 'model_context_window_exceeded':
      return 'length';
    case 'tool_use':
      return 'tool_calls';
    case 'refusal':
      return 'content_filter';
    default:
      // end_turn, stop_sequence, pause_turn, and any reason added later.
      return 'stop';
  }
}



/** The passthrough fast path: checks the answer is a message and reads its usage only (undefined if absent). */
export function readMessageUsage(text: string, provider: string): Usage | undefined {
  const json = parseUpstreamJson(text, provider, 'a response');
  if (typeof json !== 'object' || json === null || (json as { type?: unknown }).type !== 'message') {
    throw badResponse(provider, 'a response that is not a message');
  }
  const usage = readWireUsage((json as { usage?: unknown }).usage);
  return usage === undefined ? undefined : toCanonicalUsage(usage);
}

export interface ParseOptions {
  /**
   * The name of the tool the gateway forced to get JSON (OpenAI `response_format`): its input is
   * the answer's text, and its call is not shown as a tool call.
   */
  jsonTool?: string | undefined;
}

/** Parses a whole Anthropic message; `usageMissing` tells the caller to estimate usage. */
export function parseMessageResponse(
  text: string,
  provider: string,
  options: ParseOptions = {},
): { response: CanonicalResponse; usageMissing: boolean } {
  const parsed = messageSchema.safeParse(parseUpstreamJson(text, provider, 'a response'));
  if (!parsed.success) throw badResponse(provider, 'a response that is not a message');
  const message = parsed.data;
  let content: string | null = null;
  const toolCalls: ToolCall[] = [];
  const reasoning: ReasoningBlock[] = [];
  let jsonAnswered = false;
  for (const block of message.content) {
    const field = (key: string) => block[key];
    if (block.type === 'text' && typeof field('text') === 'string') {
      content = (content ?? '') + (field('text') as string);
    } else if (block.type === 'tool_use' && typeof field('id') === 'string' && typeof field('name') === 'string') {
      const args = JSON.stringify(field('input') ?? {});
      if (options.jsonTool !== undefined && field('name') === options.jsonTool) {
        // The forced JSON tool's input is the answer itself; any preamble text is dropped.
        content = args;
        jsonAnswered = true;
      } else {
        toolCalls.push({ id: field('id') as string, name: field('name') as string, arguments: args });
      }
    } else if (block.type === 'thinking' && typeof field('thinking') === 'string') {
      const item: ReasoningBlock = { text: field('thinking') as string };
      if (typeof field('signature') === 'string') item.signature = field('signature') as string;
      reasoning.push(item);
    } else if (block.type === 'redacted_thinking' && typeof field('data') === 'string') {
      reasoning.push({ text: '', redacted: field('data') as string });
    }
  }
  let finishReason = decodeStopReason(message.stop_reason);
  if (jsonAnswered && finishReason === 'tool_calls') finishReason = 'stop';
  const usage = readWireUsage(message.usage);
  const response: CanonicalResponse = {
    id: message.id,
    model: message.model,
    created: Math.floor(Date.now() / 1000),
    choices: [
      {
        index: 0,
        content,
        finishReason,
        ...(toolCalls.length > 0 ? { toolCalls } : {}),
        ...(reasoning.length > 0 ? { reasoning } : {}),
        ...(message.stop_reason === 'stop_sequence' && message.stop_sequence ? { stopSequence: message.stop_sequence } : {}),
      },
    ],
    usage: usage === undefined ? { inputTokens: 0, outputTokens: 0 } : toCanonicalUsage(usage),
  };
  return { response, usageMissing: usage === undefined };
}
