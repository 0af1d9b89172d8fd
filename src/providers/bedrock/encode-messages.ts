import type { CanonicalMessage, ContentPart, ImagePart } from '../../core/canonical.js';
import { GatewayError } from '../../core/errors.js';

/**
 * Canonical messages -> Converse `system` and `messages`. Converse has only `user` and
 * `assistant` turns, and its Anthropic models want them to alternate: system and developer
 * messages become system blocks, tool results become `toolResult` blocks in a user turn, and
 * neighbouring messages of the same Converse role are merged into one turn.
 */

export type Block = Record<string, unknown>;

export interface ConverseTurn {
  role: 'user' | 'assistant';
  content: Block[];
}

export interface Conversation {
  system: Block[];
  messages: ConverseTurn[];
}

/** Media types Converse takes as image `format`. */
const IMAGE_FORMATS: Readonly<Record<string, string>> = {
  'image/png': 'png',
  'image/jpeg': 'jpeg',
  'image/jpg': 'jpeg',
  'image/gif': 'gif',
  'image/webp': 'webp',
};

export function encodeConversation(messages: readonly CanonicalMessage[]): Conversation {
  const conversation: Conversation = { system: [], messages: [] };
  messages.forEach((message, index) => {
    const param = `messages[${index}]`;
    switch (message.role) {
      case 'system':
      case 'developer':
        conversation.system.push(...systemBlocks(message.content, param));
        return;
      case 'user':
        addTurn(conversation, 'user', contentBlocks(message.content, param));
        return;
      case 'tool':
        addTurn(conversation, 'user', [toolResultBlock(message, param)]);
        return;
      case 'assistant':
        addTurn(conversation, 'assistant', assistantBlocks(message, param));
        return;
    }
  });
  return conversation;
}

function addTurn(conversation: Conversation, role: ConverseTurn['role'], blocks: Block[]): void {
  if (blocks.length === 0) return;
  const last = conversation.messages.at(-1);
  if (last && last.role === role) last.content.push(...blocks);
  else conversation.messages.push({ role, content: blocks });
}

function systemBlocks(content: CanonicalMessage['content'], param: string): Block[] {
  if (content === null) return [];
  if (typeof content === 'string') return content === '' ? [] : [{ text: content }];
  return content.map((part, index) => {
    if (part.type !== 'text') {
      throw new GatewayError('BB_UNSUPPORTED_PARAMETER', 'Bedrock system prompts take text only.', { param: `${param}.content[${index}]` });
    }
    return { text: part.text };
  }).filter((block) => block.text !== '');
}

/** Text and image blocks; Converse rejects blank text blocks, so empty text is left out. */
function contentBlocks(content: CanonicalMessage['content'], param: string): Block[] {
  if (content === null) return [];
  if (typeof content === 'string') return content === '' ? [] : [{ text: content }];
  const blocks: Block[] = [];
  content.forEach((part, index) => {
    const block = partBlock(part, `${param}.content[${index}]`);
    if (block) blocks.push(block);
  });
  return blocks;
}

function partBlock(part: ContentPart, param: string): Block | undefined {
  switch (part.type) {
    case 'text':
      return part.text === '' ? undefined : { text: part.text };
    case 'image':
      return { image: imageBlock(part, param) };
    case 'opaque':
      throw new GatewayError('BB_UNSUPPORTED_PARAMETER', `Bedrock cannot take a content part of that kind (from ${part.dialect}).`, { param });
  }
}

function imageBlock(part: ImagePart, param: string): Block {
  if (part.base64 === undefined) {
    throw new GatewayError(
      'BB_UNSUPPORTED_PARAMETER',
      'Bedrock takes images as bytes only: send the image inline as a base64 data: URL (data:image/png;base64,...), not as a link.',
      { param },
    );
  }
  const format = IMAGE_FORMATS[(part.mediaType ?? '').toLowerCase()];
  if (format === undefined) {
    throw new GatewayError('BB_UNSUPPORTED_PARAMETER', `Bedrock takes png, jpeg, gif or webp images, not ${part.mediaType ?? 'an untyped image'}.`, {
      param,
    });
  }
  return { format, source: { bytes: part.base64 } };
}

function toolResultBlock(message: CanonicalMessage, param: string): Block {
  if (!message.toolCallId) {
    throw new GatewayError('BB_INVALID_REQUEST', 'A tool message needs the tool_call_id of the call it answers.', { param: `${param}.tool_call_id` });
  }
  const content = contentBlocks(message.content, param);
  // Converse requires at least one block; an empty tool answer is sent as empty JSON.
  return { toolResult: { toolUseId: message.toolCallId, content: content.length > 0 ? content : [{ json: {} }] } };
}

function assistantBlocks(message: CanonicalMessage, param: string): Block[] {
  const blocks: Block[] = [];
  // Reasoning goes first, unmodified, as the models that sign it require.
  for (const reasoning of message.reasoning ?? []) {
    if (reasoning.redacted !== undefined) blocks.push({ reasoningContent: { redactedContent: reasoning.redacted } });
    else {
      const text: Block = { text: reasoning.text };
      if (reasoning.signature !== undefined) text.signature = reasoning.signature;
      blocks.push({ reasoningContent: { reasoningText: text } });
    }
  }
  blocks.push(...contentBlocks(message.content, param));
  message.toolCalls?.forEach((call, index) => {
    blocks.push({ toolUse: { toolUseId: call.id, name: call.name, input: parseArguments(call.arguments, `${param}.tool_calls[${index}].function.arguments`) } });
  });
  return blocks;
}

/** Converse takes tool input as a JSON value, not text; empty arguments mean no arguments. */
function parseArguments(text: string, param: string): unknown {
  if (text.trim() === '') return {};
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new GatewayError('BB_INVALID_REQUEST', 'Tool call arguments must be valid JSON to be sent to Bedrock.', { param });
  }
}
