import type { CanonicalMessage, ContentPart, ImagePart } from '../../core/canonical.js';
import { ANTHROPIC_MESSAGES_DIALECT } from '../../core/dialect-names.js';
import { GatewayError } from '../../core/errors.js';

type Block = Record<string, unknown>;

export interface WireMessage {
  role: 'user' | 'assistant';
  content: string | Block[];
}

export interface EncodedConversation {
  /** Anthropic's top-level `system`: a string for one plain text, else text blocks. */
  system: string | Block[] | undefined;
  messages: WireMessage[];
}

/**
 * Shapes a canonical conversation the way the Messages API requires: system and developer messages
 * move to the top-level `system` (wherever they stood), tool results become `tool_result` blocks of
 * a user turn (placed first in it), and consecutive messages of the same role merge into one turn.
 * Message `name`s are dropped: Anthropic has no field for them.
 */
export function encodeConversation(messages: readonly CanonicalMessage[]): EncodedConversation {
  const system: Block[] = [];
  const turns: Array<{ role: 'user' | 'assistant'; blocks: Block[] }> = [];
  messages.forEach((message, index) => {
    const at = `messages[${index}]`;
    if (message.role === 'system' || message.role === 'developer') {
      system.push(...systemBlocks(message, at));
      return;
    }
    const role = message.role === 'assistant' ? 'assistant' : 'user';
    const blocks = role === 'assistant' ? assistantBlocks(message, at) : message.role === 'tool' ? [toolResultBlock(message, at)] : contentBlocks(message.content, at);
    if (blocks.length === 0) return;
    const last = turns.at(-1);
    if (last && last.role === role) last.blocks.push(...blocks);
    else turns.push({ role, blocks });
  });
  return {
    system: system.length === 0 ? undefined : system.length === 1 ? (system[0] as { text: string }).text : system,
    messages: turns.map((turn) => ({ role: turn.role, content: turnContent(turn.role, turn.blocks) })),
  };
}

/** A lone text block goes as a plain string; tool results lead a user turn, as Anthropic requires. */
function turnContent(role: 'user' | 'assistant', blocks: Block[]): string | Block[] {
  const only = blocks[0];
  if (blocks.length === 1 && only?.type === 'text') return only.text as string;
  if (role === 'user' && blocks.some((block) => block.type === 'tool_result')) {
    return [...blocks.filter((block) => block.type === 'tool_result'), ...blocks.filter((block) => block.type !== 'tool_result')];
  }
  return blocks;
}

function systemBlocks(message: CanonicalMessage, at: string): Block[] {
  if (message.content === null) return [];
  if (typeof message.content === 'string') return message.content === '' ? [] : [{ type: 'text', text: message.content }];
  return message.content.map((part, index) => {
    if (part.type === 'text') return { type: 'text', text: part.text };
    if (part.type === 'opaque' && part.dialect === ANTHROPIC_MESSAGES_DIALECT && part.value.type === 'text') return part.value;
    throw new GatewayError('BB_UNSUPPORTED_PARAMETER', 'Anthropic takes only text in system messages.', { param: `${at}.content[${index}]` });
  });
}

function contentBlocks(content: string | ContentPart[] | null, at: string): Block[] {
  if (content === null) return [];
  if (typeof content === 'string') return [{ type: 'text', text: content }];
  return content.map((part, index) => encodePart(part, `${at}.content[${index}]`));
}

function encodePart(part: ContentPart, at: string): Block {
  switch (part.type) {
    case 'text':
      return { type: 'text', text: part.text };
    case 'image':
      return { type: 'image', source: imageSource(part, at) };
    case 'opaque':
      if (part.dialect === ANTHROPIC_MESSAGES_DIALECT) return part.value;
      throw new GatewayError('BB_UNSUPPORTED_PARAMETER', `Anthropic cannot take a content part of that kind (from ${part.dialect}).`, { param: at });
  }
}

const DATA_URL = /^data:([^;,]+);base64,/;

/** An image as Anthropic's `base64` source (data: URLs included) or `url` source (http/https). */
function imageSource(part: ImagePart, at: string): Block {
  if (part.base64 !== undefined) return { type: 'base64', media_type: part.mediaType ?? 'image/png', data: part.base64 };
  const url = part.url ?? '';
  const match = DATA_URL.exec(url);
  if (match) return { type: 'base64', media_type: match[1], data: url.slice(match[0].length) };
  if (/^https?:\/\//i.test(url)) return { type: 'url', url };
  throw new GatewayError('BB_INVALID_REQUEST', 'An image must be an http(s) URL or a base64 data: URL.', { param: at });
}

function assistantBlocks(message: CanonicalMessage, at: string): Block[] {
  const blocks: Block[] = [];
  // Thinking blocks travel back first, with their signatures, as extended thinking requires.
  for (const item of message.reasoning ?? []) {
    if (item.redacted !== undefined) blocks.push({ type: 'redacted_thinking', data: item.redacted });
    else if (item.signature !== undefined) blocks.push({ type: 'thinking', thinking: item.text, signature: item.signature });
  }
  // Anthropic rejects empty text blocks; an empty assistant text says nothing anyway.
  for (const block of contentBlocks(message.content, at)) if (block.type !== 'text' || block.text !== '') blocks.push(block);
  message.toolCalls?.forEach((call, index) => {
    blocks.push({ type: 'tool_use', id: call.id, name: call.name, input: toolInput(call.arguments, `${at}.tool_calls[${index}].function.arguments`) });
  });
  return blocks;
}

/** Tool call arguments are JSON text; Anthropic wants the object itself. */
function toolInput(text: string, at: string): Record<string, unknown> {
  if (text.trim() === '') return {};
  let value: unknown;
  try {
    value = JSON.parse(text) as unknown;
  } catch {
    throw new GatewayError('BB_INVALID_REQUEST', 'Tool call arguments must be valid JSON for Anthropic.', { param: at });
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new GatewayError('BB_INVALID_REQUEST', 'Tool call arguments must be a JSON object for Anthropic.', { param: at });
  }
  return value as Record<string, unknown>;
}

function toolResultBlock(message: CanonicalMessage, at: string): Block {
  const block: Block = { type: 'tool_result', tool_use_id: message.toolCallId ?? '' };
  if (typeof message.content === 'string') {
    if (message.content !== '') block.content = message.content;
  } else if (message.content !== null && message.content.length > 0) {
    block.content = contentBlocks(message.content, at);
  }
  return block;
}
