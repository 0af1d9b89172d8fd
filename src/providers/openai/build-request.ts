import type { CanonicalMessage, CanonicalRequest, ContentPart, EmbeddingsRequest, ToolChoice } from '../../core/canonical.js';
import { GatewayError } from '../../core/errors.js';
import type { TargetSpec } from '../provider-adapter.js';
import type { OpenAIWireProfile } from './wire-profile.js';
import { OPENAI_CHAT_DIALECT } from '../../core/dialect-names.js';

export const OPENAI_WIRE_DIALECT = OPENAI_CHAT_DIALECT;

type Body = Record<string, unknown>;

/**
 * Builds the upstream chat body. When the client spoke OpenAI too and nothing rewrote the content,
 * its own body is forwarded (fields we do not model survive); otherwise it is built from the
 * canonical request. Either way the target's model and params and the vendor's quirks apply.
 */
export function buildChatBody(request: CanonicalRequest, target: TargetSpec, profile: OpenAIWireProfile): Body {
  const body = request.source?.dialect === OPENAI_WIRE_DIALECT ? { ...request.source.body } : fromCanonical(request, profile);
  body.model = target.model;
  if (target.params) Object.assign(body, target.params);
  if (request.stream) {
    body.stream = true;
    if (profile.streamUsage === 'stream_options') {
      const clientOptions = typeof body.stream_options === 'object' && body.stream_options !== null ? body.stream_options : {};
      body.stream_options = { ...clientOptions, include_usage: true };
    }
  }
  applyProfile(body, profile);
  return body;
}

export function buildEmbeddingsBody(request: EmbeddingsRequest, target: TargetSpec): Body {
  const body: Body =
    request.source?.dialect === OPENAI_WIRE_DIALECT ? { ...request.source.body } : { ...request.extra, input: request.input };
  if (!request.source) {
    if (request.dimensions !== undefined) body.dimensions = request.dimensions;
    if (request.encodingFormat !== undefined) body.encoding_format = request.encodingFormat;
    if (request.user !== undefined) body.user = request.user;
  }
  body.model = target.model;
  if (target.params) Object.assign(body, target.params);
  return body;
}

function fromCanonical(request: CanonicalRequest, profile: OpenAIWireProfile): Body {
  const extra = request.extraDialect === OPENAI_WIRE_DIALECT ? request.extra : {};
  const body: Body = { ...extra, messages: request.messages.map(encodeMessage) };
  if (request.maxTokens !== undefined) body[profile.maxTokensField] = request.maxTokens;
  if (request.temperature !== undefined) body.temperature = request.temperature;
  if (request.topP !== undefined) body.top_p = request.topP;
  if (request.n !== undefined) body.n = request.n;
  if (request.stop !== undefined) body.stop = request.stop;
  if (request.seed !== undefined) body.seed = request.seed;
  if (request.presencePenalty !== undefined) body.presence_penalty = request.presencePenalty;
  if (request.frequencyPenalty !== undefined) body.frequency_penalty = request.frequencyPenalty;
  if (request.tools) {
    body.tools = request.tools.map((tool) => ({
      type: 'function',
      function: { name: tool.name, description: tool.description, parameters: tool.parameters, strict: tool.strict },
    }));
  }
  if (request.toolChoice !== undefined) body.tool_choice = encodeToolChoice(request.toolChoice);
  if (request.parallelToolCalls !== undefined) body.parallel_tool_calls = request.parallelToolCalls;
  if (request.responseFormat) {
    const format = request.responseFormat;
    body.response_format =
      format.type === 'json_schema'
        ? { type: 'json_schema', json_schema: { name: format.name, description: format.description, schema: format.schema, strict: format.strict } }
        : { type: format.type };
  }
  if (request.reasoningEffort !== undefined) body.reasoning_effort = request.reasoningEffort;
  if (request.user !== undefined) body.user = request.user;
  if (request.metadata) body.metadata = request.metadata;
  return body;
}

function encodeMessage(message: CanonicalMessage): Body {
  const out: Body = { role: message.role, content: message.content === null ? null : encodeContent(message.content) };
  if (message.name !== undefined) out.name = message.name;
  if (message.toolCalls) {
    out.tool_calls = message.toolCalls.map((call) => ({ id: call.id, type: 'function', function: { name: call.name, arguments: call.arguments } }));
  }
  if (message.toolCallId !== undefined) out.tool_call_id = message.toolCallId;
  return out;
}

function encodeContent(content: string | ContentPart[]): string | Body[] {
  if (typeof content === 'string') return content;
  return content.map((part): Body => {
    switch (part.type) {
      case 'text':
        return { type: 'text', text: part.text };
      case 'image': {
        const url = part.url ?? `data:${part.mediaType ?? 'image/png'};base64,${part.base64 ?? ''}`;
        return { type: 'image_url', image_url: part.detail ? { url, detail: part.detail } : { url } };
      }
      case 'opaque':
        if (part.dialect === OPENAI_WIRE_DIALECT) return part.value;
        throw new GatewayError('BB_UNSUPPORTED_PARAMETER', `This model's provider cannot take a content part of that kind (from ${part.dialect}).`);
    }
  });
}

function encodeToolChoice(choice: ToolChoice): unknown {
  return typeof choice === 'string' ? choice : { type: 'function', function: { name: choice.name } };
}

/** Applies a vendor's quirks to an OpenAI-shaped body in place. */
function applyProfile(body: Body, profile: OpenAIWireProfile): void {
  for (const field of profile.rejectedFields) {
    if (body[field] !== undefined && body[field] !== null) {
      throw new GatewayError('BB_UNSUPPORTED_PARAMETER', `This model's provider does not support '${field}'.`, { param: field });
    }
  }
  if (profile.maxChoices !== undefined && typeof body.n === 'number' && body.n > profile.maxChoices) {
    throw new GatewayError('BB_UNSUPPORTED_PARAMETER', `This model's provider supports at most n=${profile.maxChoices}.`, { param: 'n' });
  }
  if (profile.dropMessageNames && Array.isArray(body.messages)) {
    body.messages = body.messages.map((message: unknown) => {
      if (typeof message !== 'object' || message === null || !('name' in message)) return message;
      const { name: _dropped, ...rest } = message as Body;
      return rest;
    });
  }
  if (profile.toolChoiceRequired !== 'required' && body.tool_choice === 'required') body.tool_choice = profile.toolChoiceRequired;
  if (profile.maxTokensField === 'max_tokens' && body.max_completion_tokens !== undefined && body.max_tokens === undefined) {
    body.max_tokens = body.max_completion_tokens;
    delete body.max_completion_tokens;
  }
  for (const [from, to] of Object.entries(profile.renamedFields)) {
    if (body[from] !== undefined) {
      body[to] = body[from];
      delete body[from];
    }
  }
}
