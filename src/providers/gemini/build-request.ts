import type { CanonicalMessage, CanonicalRequest, ContentPart, ToolChoice } from '../../core/canonical.js';
import { GatewayError } from '../../core/errors.js';
import type { TargetSpec } from '../provider-adapter.js';
import { toGeminiSchema } from './convert-schema.js';
import { applyTargetParams } from './target-params.js';

type Json = Record<string, unknown>;

interface GeminiContent {
  role: 'user' | 'model';
  parts: Json[];
}

/**
 * Google's documented stand-in for a thought signature the client could not keep: Gemini 3 wants
 * one on the first function call of each model turn it is shown, and OpenAI-shaped history has none.
 */
export const SKIP_THOUGHT_SIGNATURE = 'skip_thought_signature_validator';

/** Thinking budgets for OpenAI's reasoning_effort levels (Gemini 2.5 thinkingBudget tokens). */
const THINKING_BUDGETS: Readonly<Record<string, number>> = { none: 0, minimal: 0, low: 1024, medium: 8192, high: 24576 };

/** OpenAI fields that change what comes back and that Gemini cannot honour: refused, not dropped. */
const REFUSED_EXTRA = ['logprobs', 'top_logprobs', 'logit_bias', 'audio', 'prediction', 'web_search_options'] as const;

/** Builds a generateContent body from the canonical request and the target's forced params. */
export function buildGenerateContentBody(canonical: CanonicalRequest, target: TargetSpec): Json {
  const { request, body, generationConfig: forcedConfig } = applyTargetParams(canonical, target.params);
  refuseUnsupportedExtras(request);
  const { contents, system } = buildContents(request.messages);
  body.contents = contents;
  if (system.length > 0) body.systemInstruction = { parts: system };
  if (request.tools && request.tools.length > 0) {
    body.tools = [
      {
        functionDeclarations: request.tools.map((tool, index) => {
          const declaration: Json = { name: tool.name };
          if (tool.description !== undefined) declaration.description = tool.description;
          const parameters = tool.parameters ? toGeminiSchema(tool.parameters, `tools[${index}].function.parameters`) : undefined;
          // Gemini refuses an OBJECT without properties; a tool without arguments simply omits them.
          if (parameters && !(parameters.type === 'OBJECT' && !hasKeys(parameters.properties))) declaration.parameters = parameters;
          return declaration;
        }),
      },
    ];
  }
  if (request.toolChoice !== undefined) body.toolConfig = { functionCallingConfig: encodeToolChoice(request.toolChoice) };
  const generationConfig = { ...buildGenerationConfig(request), ...forcedConfig };
  if (Object.keys(generationConfig).length > 0) body.generationConfig = generationConfig;
  return body;
}

function buildGenerationConfig(request: CanonicalRequest): Json {
  const config: Json = {};
  if (request.maxTokens !== undefined) config.maxOutputTokens = request.maxTokens;
  if (request.temperature !== undefined) config.temperature = request.temperature;
  if (request.topP !== undefined) config.topP = request.topP;
  if (typeof request.extra.top_k === 'number') config.topK = request.extra.top_k;
  if (request.stop !== undefined && request.stop.length > 0) config.stopSequences = request.stop;
  if (request.n !== undefined && request.n !== 1) config.candidateCount = request.n;
  if (request.seed !== undefined) config.seed = request.seed;
  if (request.presencePenalty !== undefined) config.presencePenalty = request.presencePenalty;
  if (request.frequencyPenalty !== undefined) config.frequencyPenalty = request.frequencyPenalty;
  const format = request.responseFormat;
  if (format && format.type !== 'text') {
    config.responseMimeType = 'application/json';
    if (format.type === 'json_schema' && format.schema) config.responseSchema = toGeminiSchema(format.schema, 'response_format.json_schema.schema');
  }
  if (request.reasoningEffort !== undefined) {
    const budget = THINKING_BUDGETS[request.reasoningEffort];
    if (budget === undefined) {
      throw new GatewayError('BB_UNSUPPORTED_PARAMETER', `reasoning_effort '${request.reasoningEffort}' has no Gemini equivalent.`, { param: 'reasoning_effort' });
    }
    config.thinkingConfig = budget === 0 ? { thinkingBudget: 0 } : { thinkingBudget: budget, includeThoughts: true };
  }
  return config;
}

function refuseUnsupportedExtras(request: CanonicalRequest): void {
  for (const field of REFUSED_EXTRA) {
    const value = request.extra[field];
    if (value !== undefined && value !== null && value !== false) {
      throw new GatewayError('BB_UNSUPPORTED_PARAMETER', `This model's provider (Gemini) does not support '${field}'.`, { param: field });
    }
  }
  const modalities = request.extra.modalities;
  if (Array.isArray(modalities) && modalities.some((modality) => modality !== 'text')) {
    throw new GatewayError('BB_UNSUPPORTED_PARAMETER', "This model's provider (Gemini) answers text only through the gateway.", { param: 'modalities' });
  }
}

function encodeToolChoice(choice: ToolChoice): Json {
  if (choice === 'auto') return { mode: 'AUTO' };
  if (choice === 'none') return { mode: 'NONE' };
  if (choice === 'required') return { mode: 'ANY' };
  return { mode: 'ANY', allowedFunctionNames: [choice.name] };
}

/**
 * Messages to Gemini contents: system and developer messages become the system instruction,
 * assistant turns are `model`, tool results are `functionResponse` parts of a `user` turn named
 * after the call they answer. Consecutive turns of one role are merged (parallel results together).
 */
function buildContents(messages: readonly CanonicalMessage[]): { contents: GeminiContent[]; system: Json[] } {
  const contents: GeminiContent[] = [];
  const system: Json[] = [];
  const callNames = new Map<string, string>();
  const push = (role: GeminiContent['role'], parts: Json[]) => {
    if (parts.length === 0) return;
    const last = contents.at(-1);
    if (last && last.role === role) last.parts.push(...parts);
    else contents.push({ role, parts });
  };
  messages.forEach((message, index) => {
    switch (message.role) {
      case 'system':
      case 'developer':
        system.push(...textOnlyParts(message.content, `messages[${index}].content`));
        break;
      case 'user':
        push('user', userParts(message.content, index));
        break;
      case 'assistant':
        push('model', modelParts(message, index, callNames));
        break;
      case 'tool':
        push('user', [functionResponsePart(message, index, callNames)]);
        break;
    }
  });
  return { contents, system };
}

function userParts(content: CanonicalMessage['content'], index: number): Json[] {
  if (content === null) return [];
  if (typeof content === 'string') return content === '' ? [] : [{ text: content }];
  return content.flatMap((part, at) => encodeUserPart(part, `messages[${index}].content[${at}]`));
}

function encodeUserPart(part: ContentPart, param: string): Json[] {
  switch (part.type) {
    case 'text':
      return part.text === '' ? [] : [{ text: part.text }];
    case 'image':
      if (part.base64 !== undefined) return [{ inlineData: { mimeType: part.mediaType ?? 'image/png', data: part.base64 } }];
      throw new GatewayError(
        'BB_UNSUPPORTED_PARAMETER',
        "This model's provider (Gemini) takes images inline only: send the image as a base64 data: URL, not a link.",
        { param: `${param}.image_url.url` },
      );
    case 'opaque':
      return [encodeOpaquePart(part.value, param)];
  }
}

const DATA_URL = /^data:([^;,]+);base64,/;

/** OpenAI audio and file parts carry base64 data Gemini takes as inlineData; anything else is refused. */
function encodeOpaquePart(value: Json, param: string): Json {
  const audio = value.type === 'input_audio' && isObject(value.input_audio) ? value.input_audio : undefined;
  if (audio && typeof audio.data === 'string' && typeof audio.format === 'string') {
    return { inlineData: { mimeType: `audio/${audio.format}`, data: audio.data } };
  }
  const file = value.type === 'file' && isObject(value.file) ? value.file : undefined;
  const match = file && typeof file.file_data === 'string' ? DATA_URL.exec(file.file_data) : null;
  if (file && match) return { inlineData: { mimeType: match[1], data: (file.file_data as string).slice(match[0].length) } };
  throw new GatewayError('BB_UNSUPPORTED_PARAMETER', "This model's provider (Gemini) cannot take a content part of that kind.", { param });
}

function textOnlyParts(content: CanonicalMessage['content'], param: string): Json[] {
  const text = textOf(content, param);
  return text === '' ? [] : [{ text }];
}

function textOf(content: CanonicalMessage['content'], param: string): string {
  if (content === null) return '';
  if (typeof content === 'string') return content;
  return content
    .map((part, at) => {
      if (part.type === 'text') return part.text;
      throw new GatewayError('BB_UNSUPPORTED_PARAMETER', "This model's provider (Gemini) takes only text in this message.", { param: `${param}[${at}]` });
    })
    .join('');
}

function modelParts(message: CanonicalMessage, index: number, callNames: Map<string, string>): Json[] {
  const parts = textOnlyParts(message.content, `messages[${index}].content`);
  message.toolCalls?.forEach((call, at) => {
    callNames.set(call.id, call.name);
    const part: Json = { functionCall: { name: call.name, args: parseArguments(call.arguments, `messages[${index}].tool_calls[${at}].function.arguments`) } };
    if (at === 0) part.thoughtSignature = SKIP_THOUGHT_SIGNATURE;
    parts.push(part);
  });
  return parts;
}

function parseArguments(text: string, param: string): Json {
  if (text.trim() === '') return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  if (!isObject(parsed)) throw new GatewayError('BB_INVALID_REQUEST', 'Tool call arguments must be a JSON object for this model\'s provider (Gemini).', { param });
  return parsed;
}

/** A tool result: a JSON object goes as is, anything else under `output` (Gemini wants an object). */
function functionResponsePart(message: CanonicalMessage, index: number, callNames: Map<string, string>): Json {
  const name = message.toolCallId === undefined ? undefined : callNames.get(message.toolCallId);
  if (name === undefined) {
    throw new GatewayError('BB_INVALID_REQUEST', 'This tool message answers no tool call of an earlier assistant message.', {
      param: `messages[${index}].tool_call_id`,
    });
  }
  const text = textOf(message.content, `messages[${index}].content`);
  let value: unknown = text;
  try {
    value = JSON.parse(text);
  } catch {
    // Plain text stays text.
  }
  return { functionResponse: { name, response: isObject(value) ? value : { output: value } } };
}

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function hasKeys(value: unknown): boolean {
  return isObject(value) && Object.keys(value).length > 0;
}
