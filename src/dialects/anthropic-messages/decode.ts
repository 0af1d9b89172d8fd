import type { CanonicalMessage, CanonicalRequest, ContentPart, ReasoningBlock, ToolCall, ToolChoice } from '../../core/canonical.js';
import { ANTHROPIC_MESSAGES_DIALECT } from '../../core/dialect-names.js';
import { invalidRequest } from '../validation.js';
import {
  countTokensRequestSchema,
  messagesRequestSchema,
  MODELLED_MESSAGES_FIELDS,
  type AnthropicBlock,
  type AnthropicMessage,
  type AnthropicRequest,
} from './request-schema.js';

/** Validates an Anthropic Messages body and maps it to canonical form, keeping the body as source. */
export function decodeMessagesRequest(body: unknown): CanonicalRequest {
  const parsed = messagesRequestSchema.safeParse(body);
  if (!parsed.success) throw invalidRequest(parsed.error);
  return toCanonical(parsed.data, body as Record<string, unknown>);
}

/** The count_tokens body: the same as a message request, with max_tokens optional. */
export function decodeCountTokensRequest(body: unknown): CanonicalRequest {
  const parsed = countTokensRequestSchema.safeParse(body);
  if (!parsed.success) throw invalidRequest(parsed.error);
  return toCanonical({ ...parsed.data, max_tokens: parsed.data.max_tokens ?? 1 }, body as Record<string, unknown>);
}

function toCanonical(input: AnthropicRequest, body: Record<string, unknown>): CanonicalRequest {
  const messages: CanonicalMessage[] = [];
  if (input.system !== undefined) {
    const system = typeof input.system === 'string' ? input.system : input.system.map((block) => block.text).join('\n\n');
    if (system !== '') messages.push({ role: 'system', content: system });
  }
  for (const message of input.messages) messages.push(...decodeMessage(message));
  const request: CanonicalRequest = {
    model: input.model,
    messages,
    stream: input.stream === true,
    // Anthropic streams always report usage (message_start and message_delta).
    streamUsage: input.stream === true,
    maxTokens: input.max_tokens,
    extra: collectExtra(input),
    extraDialect: ANTHROPIC_MESSAGES_DIALECT,
    source: { dialect: ANTHROPIC_MESSAGES_DIALECT, body },
  };
  if (input.stop_sequences && input.stop_sequences.length > 0) request.stop = input.stop_sequences;
  if (input.temperature !== undefined) request.temperature = input.temperature;
  if (input.top_p !== undefined) request.topP = input.top_p;
  if (input.tools) {
    request.tools = input.tools.map((tool) => ({
      name: tool.name,
      ...(tool.description !== undefined ? { description: tool.description } : {}),
      ...(tool.input_schema !== undefined ? { parameters: tool.input_schema } : {}),
    }));
  }
  if (input.tool_choice) {
    request.toolChoice = decodeToolChoice(input.tool_choice);
    if (input.tool_choice.disable_parallel_tool_use === true) request.parallelToolCalls = false;
  }
  const user = input.metadata?.user_id;
  if (typeof user === 'string') request.user = user;
  return request;
}

function decodeToolChoice(choice: NonNullable<AnthropicRequest['tool_choice']>): ToolChoice {
  switch (choice.type) {
    case 'any':
      return 'required';
    case 'tool':
      return choice.name ? { name: choice.name } : 'required';
    default:
      return choice.type;
  }
}

/**
 * One Anthropic turn can become several canonical messages: tool results are their own `tool`
 * messages (answering calls by id), placed before the rest of the user's turn as Anthropic orders them.
 */
function decodeMessage(message: AnthropicMessage): CanonicalMessage[] {
  if (typeof message.content === 'string') return [{ role: message.role, content: message.content }];
  if (message.role === 'assistant') return [decodeAssistant(message.content)];
  const out: CanonicalMessage[] = [];
  const parts: ContentPart[] = [];
  for (const block of message.content) {
    if (block.type === 'tool_result' && 'tool_use_id' in block) {
      out.push({ role: 'tool', toolCallId: String(block.tool_use_id), content: decodeToolResult(block.content) });
    } else {
      parts.push(decodeBlock(block));
    }
  }
  if (parts.length > 0) out.push({ role: 'user', content: parts });
  return out;
}

function decodeAssistant(blocks: AnthropicBlock[]): CanonicalMessage {
  const parts: ContentPart[] = [];
  const toolCalls: ToolCall[] = [];
  const reasoning: ReasoningBlock[] = [];
  for (const block of blocks) {
    if (block.type === 'tool_use' && 'id' in block && 'name' in block) {
      toolCalls.push({ id: String(block.id), name: String(block.name), arguments: JSON.stringify(block.input ?? {}) });
    } else if (block.type === 'thinking' && typeof block.thinking === 'string') {
      reasoning.push({ text: block.thinking, ...(typeof block.signature === 'string' ? { signature: block.signature } : {}) });
    } else if (block.type === 'redacted_thinking' && typeof block.data === 'string') {
      reasoning.push({ text: '', redacted: block.data });
    } else {
      parts.push(decodeBlock(block));
    }
  }
  const message: CanonicalMessage = { role: 'assistant', content: collapse(parts) };
  if (toolCalls.length > 0) message.toolCalls = toolCalls;
  if (reasoning.length > 0) message.reasoning = reasoning;
  return message;
}

/** Plain text stays a string (cheaper downstream); anything else keeps its parts. */
function collapse(parts: ContentPart[]): string | ContentPart[] | null {
  if (parts.length === 0) return null;
  if (parts.every((part) => part.type === 'text')) return parts.map((part) => (part as { text: string }).text).join('');
  return parts;
}

function decodeToolResult(content: unknown): string | ContentPart[] {
  if (content === undefined) return '';
  if (typeof content === 'string') return content;
  const parts = (content as AnthropicBlock[]).map(decodeBlock);
  return collapse(parts) ?? '';
}

function decodeBlock(block: AnthropicBlock): ContentPart {
  if (block.type === 'text' && typeof block.text === 'string') return { type: 'text', text: block.text };
  if (block.type === 'image' && 'source' in block) {
    const source = block.source as { type: string; media_type?: string; data?: string; url?: string };
    if (source.type === 'base64' && source.data !== undefined) {
      return { type: 'image', base64: source.data, ...(source.media_type ? { mediaType: source.media_type } : {}) };
    }
    if (source.type === 'url' && source.url !== undefined) return { type: 'image', url: source.url };
  }
  return { type: 'opaque', dialect: ANTHROPIC_MESSAGES_DIALECT, value: block as Record<string, unknown> };
}

function collectExtra(input: AnthropicRequest): Record<string, unknown> {
  const extra: Record<string, unknown> = {};
  for (const key of Object.keys(input)) {
    if (!MODELLED_MESSAGES_FIELDS.has(key)) extra[key] = (input as Record<string, unknown>)[key];
  }
  return extra;
}
