import type { CanonicalRequest, ToolCall, ToolDefinition } from '../../core/canonical.js';
import { decodeTokens, encodeText } from '../../usage/token-estimate.js';
import type { MockBehavior } from './behavior.js';

const LOREM =
  'Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor incididunt ut labore et dolore magna ' +
  'aliqua. Ut enim ad minim veniam, quis nostrud exercitation ullamco laboris nisi ut aliquip ex ea commodo consequat. ' +
  'Duis aute irure dolor in reprehenderit in voluptate velit esse cillum dolore eu fugiat nulla pariatur. Excepteur ' +
  'sint occaecat cupidatat non proident, sunt in culpa qui officia deserunt mollit anim id est laborum. ';

/** Reply pieces keyed by text: tokenizing is the mock's main cost, and replies repeat. */
const pieceCache = new Map<string, string[]>();
const PIECE_CACHE_LIMIT = 256;

/**
 * Splits text into one string per token (as a real stream would send it). A token that ends
 * inside a multi-byte character is merged with the next, so no piece holds a broken character.
 */
export function tokenPieces(text: string): string[] {
  const cached = pieceCache.get(text);
  if (cached) return cached;
  const pieces: string[] = [];
  let pending: number[] = [];
  for (const token of encodeText(text)) {
    pending.push(token);
    const piece = decodeTokens(pending);
    if (piece.includes('\uFFFD')) continue;
    pieces.push(piece);
    pending = [];
  }
  if (pending.length > 0) pieces.push(decodeTokens(pending));
  if (pieceCache.size >= PIECE_CACHE_LIMIT) pieceCache.clear();
  pieceCache.set(text, pieces);
  return pieces;
}

/** Lorem replies by length: every open stream of one length shares one array (never mutated). */
const loremCache = new Map<number, string[]>();

function loremPieces(tokens: number): string[] {
  const cached = loremCache.get(tokens);
  if (cached) return cached;
  const unit = tokenPieces(LOREM);
  const out: string[] = [];
  while (out.length < tokens) out.push(...unit.slice(0, tokens - out.length));
  if (loremCache.size >= PIECE_CACHE_LIMIT) loremCache.clear();
  loremCache.set(tokens, out);
  return out;
}

function lastUserText(request: CanonicalRequest): string {
  for (let i = request.messages.length - 1; i >= 0; i -= 1) {
    const message = request.messages[i];
    if (message?.role !== 'user') continue;
    if (typeof message.content === 'string') return message.content;
    return (message.content ?? []).map((part) => (part.type === 'text' ? part.text : '')).join('');
  }
  return '';
}

/** The reply as token pieces, cut to `max_tokens`; `truncated` means the cap cut it. */
export function replyPieces(request: CanonicalRequest, behavior: MockBehavior): { pieces: string[]; truncated: boolean } {
  let pieces: string[];
  if (behavior.replyMode === 'lorem') pieces = loremPieces(behavior.replyTokens);
  else pieces = tokenPieces(behavior.replyMode === 'echo' ? lastUserText(request) : behavior.replyText);
  const cap = request.maxTokens;
  if (cap !== undefined && pieces.length > cap) return { pieces: pieces.slice(0, cap), truncated: true };
  return { pieces, truncated: false };
}

/**
 * The tool call the mock makes, if any: the one the header names, or the one `tool_choice` forces
 * (a named tool, or the first tool when "required"). Arguments fill the schema's required fields.
 */
export function chooseToolCall(request: CanonicalRequest, behavior: MockBehavior, callId: string): ToolCall | undefined {
  const tools = request.tools ?? [];
  if (tools.length === 0 || request.toolChoice === 'none') return undefined;
  let tool: ToolDefinition | undefined;
  if (behavior.toolCall !== undefined) tool = tools.find((candidate) => candidate.name === behavior.toolCall);
  else if (typeof request.toolChoice === 'object') tool = tools.find((candidate) => candidate.name === (request.toolChoice as { name: string }).name);
  else if (request.toolChoice === 'required') tool = tools[0];
  if (!tool) return undefined;
  return { id: callId, name: tool.name, arguments: JSON.stringify(sampleArguments(tool.parameters)) };
}

function sampleArguments(schema: Record<string, unknown> | undefined): Record<string, unknown> {
  const properties = (schema?.properties ?? {}) as Record<string, { type?: unknown; enum?: unknown[] }>;
  const required = Array.isArray(schema?.required) ? (schema.required as string[]) : Object.keys(properties);
  const args: Record<string, unknown> = {};
  for (const name of required) args[name] = sampleValue(properties[name]);
  return args;
}

function sampleValue(property: { type?: unknown; enum?: unknown[] } | undefined): unknown {
  if (property?.enum && property.enum.length > 0) return property.enum[0];
  switch (property?.type) {
    case 'number':
    case 'integer':
      return 1;
    case 'boolean':
      return true;
    case 'array':
      return [];
    case 'object':
      return {};
    default:
      return 'example';
  }
}
