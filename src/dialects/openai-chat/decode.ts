import type {
  CanonicalMessage,
  CanonicalRequest,
  ContentPart,
  EmbeddingsRequest,
  ResponseFormat,
  ToolChoice,
} from '../../core/canonical.js';
import { invalidRequest } from '../validation.js';
import {
  chatRequestSchema,
  embeddingsRequestSchema,
  MODELLED_CHAT_FIELDS,
  type OpenAIChatRequest,
  type OpenAIContent,
  type OpenAIMessage,
} from './request-schema.js';
import { OPENAI_CHAT_DIALECT } from '../../core/dialect-names.js';
import { plainChatRequest } from './request-fast-path.js';

export const OPENAI_DIALECT = OPENAI_CHAT_DIALECT;

/** Validates an OpenAI chat body and maps it to canonical form, keeping the body as the source. */
export function decodeChatRequest(body: unknown): CanonicalRequest {
  const input = plainChatRequest(body) ?? parseWithSchema(body);
  const request: CanonicalRequest = {
    model: input.model,
    messages: input.messages.map(decodeMessage),
    stream: input.stream === true,
    streamUsage: input.stream === true && input.stream_options?.include_usage === true,
    extra: collectExtra(input),
    extraDialect: OPENAI_DIALECT,
    source: { dialect: OPENAI_DIALECT, body: body as Record<string, unknown> },
  };
  const maxTokens = input.max_completion_tokens ?? input.max_tokens;
  if (maxTokens != null) request.maxTokens = maxTokens;
  if (input.temperature != null) request.temperature = input.temperature;
  if (input.top_p != null) request.topP = input.top_p;
  if (input.n != null) request.n = input.n;
  // A copy: the array may be the client's own body, which is kept as the request's source.
  if (input.stop != null) request.stop = typeof input.stop === 'string' ? [input.stop] : input.stop.slice();
  if (input.seed != null) request.seed = input.seed;
  if (input.presence_penalty != null) request.presencePenalty = input.presence_penalty;
  if (input.frequency_penalty != null) request.frequencyPenalty = input.frequency_penalty;
  if (input.tools) request.tools = input.tools.map((tool) => decodeTool(tool.function));
  if (input.tool_choice !== undefined) request.toolChoice = decodeToolChoice(input.tool_choice);
  if (input.parallel_tool_calls !== undefined) request.parallelToolCalls = input.parallel_tool_calls;
  if (input.response_format) request.responseFormat = decodeResponseFormat(input.response_format);
  if (input.reasoning_effort != null) request.reasoningEffort = input.reasoning_effort;
  if (input.user !== undefined) request.user = input.user;
  if (input.metadata) request.metadata = input.metadata;
  return request;
}

function parseWithSchema(body: unknown): OpenAIChatRequest {
  const parsed = chatRequestSchema.safeParse(body);
  if (!parsed.success) throw invalidRequest(parsed.error);
  return parsed.data;
}

export function decodeEmbeddingsRequest(body: unknown): EmbeddingsRequest {
  const parsed = embeddingsRequestSchema.safeParse(body);
  if (!parsed.success) throw invalidRequest(parsed.error);
  const { model, input, dimensions, encoding_format: encodingFormat, user, ...extra } = parsed.data;
  const request: EmbeddingsRequest = { model, input, extra, source: { dialect: OPENAI_DIALECT, body: body as Record<string, unknown> } };
  if (dimensions !== undefined) request.dimensions = dimensions;
  if (encodingFormat !== undefined) request.encodingFormat = encodingFormat;
  if (user !== undefined) request.user = user;
  return request;
}

function decodeMessage(message: OpenAIMessage): CanonicalMessage {
  switch (message.role) {
    case 'assistant': {
      const decoded: CanonicalMessage = { role: 'assistant', content: message.content == null ? null : decodeContent(message.content) };
      if (message.name !== undefined) decoded.name = message.name;
      if (message.tool_calls && message.tool_calls.length > 0) {
        decoded.toolCalls = message.tool_calls.map((call) => ({ id: call.id, name: call.function.name, arguments: call.function.arguments }));
      }
      return decoded;
    }
    case 'tool':
      return { role: 'tool', content: decodeContent(message.content), toolCallId: message.tool_call_id };
    default: {
      const decoded: CanonicalMessage = { role: message.role, content: decodeContent(message.content) };
      if (message.name !== undefined) decoded.name = message.name;
      return decoded;
    }
  }
}

function decodeContent(content: OpenAIContent): string | ContentPart[] {
  if (typeof content === 'string') return content;
  return content.map((part): ContentPart => {
    if (part.type === 'text' && typeof part.text === 'string') return { type: 'text', text: part.text };
    if (part.type === 'image_url' && isImageUrl(part.image_url)) return decodeImage(part.image_url.url, part.image_url.detail);
    return { type: 'opaque', dialect: OPENAI_DIALECT, value: part };
  });
}

function isImageUrl(value: unknown): value is { url: string; detail?: 'auto' | 'low' | 'high' } {
  return typeof value === 'object' && value !== null && typeof (value as { url?: unknown }).url === 'string';
}

const DATA_URL = /^data:([^;,]+);base64,/;

function decodeImage(url: string, detail: 'auto' | 'low' | 'high' | undefined): ContentPart {
  const match = DATA_URL.exec(url);
  const part: ContentPart = match
    ? { type: 'image', base64: url.slice(match[0].length), mediaType: match[1] as string }
    : { type: 'image', url };
  if (detail !== undefined) part.detail = detail;
  return part;
}

function decodeTool(fn: NonNullable<OpenAIChatRequest['tools']>[number]['function']) {
  const tool: NonNullable<CanonicalRequest['tools']>[number] = { name: fn.name };
  if (fn.description !== undefined) tool.description = fn.description;
  if (fn.parameters !== undefined) tool.parameters = fn.parameters;
  if (fn.strict != null) tool.strict = fn.strict;
  return tool;
}

function decodeToolChoice(choice: NonNullable<OpenAIChatRequest['tool_choice']>): ToolChoice {
  return typeof choice === 'string' ? choice : { name: choice.function.name };
}

function decodeResponseFormat(format: NonNullable<OpenAIChatRequest['response_format']>): ResponseFormat {
  if (format.type !== 'json_schema') return { type: format.type };
  const spec = format.json_schema;
  const decoded: ResponseFormat = { type: 'json_schema', name: spec.name };
  if (spec.schema !== undefined) decoded.schema = spec.schema;
  if (spec.strict != null) decoded.strict = spec.strict;
  if (spec.description !== undefined) decoded.description = spec.description;
  return decoded;
}

function collectExtra(input: OpenAIChatRequest): Record<string, unknown> {
  const extra: Record<string, unknown> = {};
  for (const key of Object.keys(input)) {
    if (!MODELLED_CHAT_FIELDS.has(key)) extra[key] = (input as Record<string, unknown>)[key];
  }
  return extra;
}
