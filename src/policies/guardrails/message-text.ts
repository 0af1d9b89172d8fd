import type { CanonicalMessage, ContentPart } from '../../core/canonical.js';

/** Where a piece of prompt text sits, so a guard can judge it by role and rewrite it. */
export interface TextSlot {
  role: CanonicalMessage['role'];
  kind: 'content' | 'tool-arguments';
  text: string;
}

/** Every text the upstream would see in these messages: contents, text parts, tool-call arguments. */
export function* textSlots(messages: readonly CanonicalMessage[]): Generator<TextSlot> {
  for (const message of messages) {
    const content = message.content;
    if (typeof content === 'string') yield { role: message.role, kind: 'content', text: content };
    else if (content !== null) for (const part of content) if (part.type === 'text') yield { role: message.role, kind: 'content', text: part.text };
    for (const call of message.toolCalls ?? []) yield { role: message.role, kind: 'tool-arguments', text: call.arguments };
  }
}

/**
 * The messages with every text passed through `rewrite` (same order as `textSlots`); a message is
 * copied only when one of its texts changed, so an untouched request costs no allocation.
 */
export function rewriteTexts(messages: readonly CanonicalMessage[], rewrite: (slot: TextSlot, index: number) => string): CanonicalMessage[] {
  let index = 0;
  return messages.map((message) => {
    let changed = false;
    const next = (text: string, kind: TextSlot['kind']) => {
      const out = rewrite({ role: message.role, kind, text }, index);
      index += 1;
      if (out !== text) changed = true;
      return out;
    };
    let content: CanonicalMessage['content'] = message.content;
    if (typeof content === 'string') content = next(content, 'content');
    else if (content !== null) content = content.map((part): ContentPart => (part.type === 'text' ? { ...part, text: next(part.text, 'content') } : part));
    const toolCalls = message.toolCalls?.map((call) => ({ ...call, arguments: next(call.arguments, 'tool-arguments') }));
    if (!changed) return message;
    return { ...message, content, ...(toolCalls ? { toolCalls } : {}) };
  });
}
