import type { CanonicalRequest, ResponseFormat, ToolChoice } from '../../core/canonical.js';
import { ANTHROPIC_MESSAGES_DIALECT } from '../../core/dialect-names.js';
import { GatewayError } from '../../core/errors.js';
import type { TargetSpec } from '../provider-adapter.js';
import { encodeConversation } from './encode-messages.js';

type Body = Record<string, unknown>;

export interface BuildOptions {
  /** max_tokens when the client gave none (Anthropic requires the field). */
  defaultMaxTokens: number;
}

export interface BuiltRequest {
  body: Body;
  /** Set when `response_format` was turned into a forced tool: the name of that tool. */
  jsonTool?: string;
}

/** Thinking budgets for OpenAI's `reasoning_effort`; `minimal` and `none` turn thinking off. */
const THINKING_BUDGETS: Readonly<Record<string, number | null>> = { none: null, minimal: null, low: 1024, medium: 4096, high: 16384 };
/** Anthropic's smallest thinking budget. */
const MIN_THINKING_BUDGET = 1024;

/**
 * Builds the Messages API body. An Anthropic-dialect client's own body is forwarded (so fields the
 * gateway does not model survive) with the target's model and params; any other request is
 * translated from canonical form.
 */
export function buildMessagesBody(request: CanonicalRequest, target: TargetSpec, options: BuildOptions): BuiltRequest {
  if (request.source?.dialect === ANTHROPIC_MESSAGES_DIALECT) {
    const body: Body = { ...request.source.body, model: target.model };
    applyParams(body, target.params);
    if (body.max_tokens === undefined || body.max_tokens === null) body.max_tokens = options.defaultMaxTokens;
    setStream(body, request.stream);
    return { body };
  }
  return fromCanonical(request, target, options);
}

function setStream(body: Body, stream: boolean): void {
  if (stream) body.stream = true;
  else if (body.stream === true) delete body.stream;
}

function fromCanonical(request: CanonicalRequest, target: TargetSpec, options: BuildOptions): BuiltRequest {
  refuseUnsupported(request);
  const { system, messages } = encodeConversation(request.messages);
  const body: Body = { model: target.model, messages };
  if (system !== undefined) body.system = system;
  body.max_tokens = request.maxTokens ?? options.defaultMaxTokens;
  if (request.temperature !== undefined) body.temperature = request.temperature;
  if (request.topP !== undefined) body.top_p = request.topP;
  if (request.stop !== undefined && request.stop.length > 0) body.stop_sequences = request.stop;
  if (request.user !== undefined) body.metadata = { user_id: request.user };
  if (request.reasoningEffort !== undefined) applyThinking(body, request.reasoningEffort, request.maxTokens === undefined, options);
  if (request.tools && request.tools.length > 0) {
    body.tools = request.tools.map((tool) => ({
      name: tool.name,
      ...(tool.description !== undefined ? { description: tool.description } : {}),
      input_schema: tool.parameters ?? { type: 'object', properties: {} },
    }));
    const choice = encodeToolChoice(request.toolChoice, request.parallelToolCalls);
    if (choice) body.tool_choice = choice;
  } else if (request.toolChoice === 'required' || typeof request.toolChoice === 'object') {
    throw new GatewayError('BB_INVALID_REQUEST', "'tool_choice' asks for a tool but the request defines no tools.", { param: 'tool_choice' });
  }
  let jsonTool: string | undefined;
  if (request.responseFormat && request.responseFormat.type !== 'text') jsonTool = forceJsonTool(body, request.responseFormat);
  applyParams(body, target.params);
  setStream(body, request.stream);
  return jsonTool === undefined ? { body } : { body, jsonTool };
}

/** Settings Anthropic has no equivalent for: a clear 400 rather than a silently different answer. */
function refuseUnsupported(request: CanonicalRequest): void {
  const refuse = (param: string, what: string) => {
    throw new GatewayError('BB_UNSUPPORTED_PARAMETER', `Anthropic models do not support ${what}.`, { param });
  };
  if (request.n !== undefined && request.n > 1) refuse('n', 'several choices (n > 1)');
  if (request.presencePenalty) refuse('presence_penalty', "'presence_penalty'");
  if (request.frequencyPenalty) refuse('frequency_penalty', "'frequency_penalty'");
}

function encodeToolChoice(choice: ToolChoice | undefined, parallel: boolean | undefined): Body | undefined {
  const single = parallel === false ? { disable_parallel_tool_use: true } : {};
  if (choice === undefined) return parallel === false ? { type: 'auto', ...single } : undefined;
  if (choice === 'none') return { type: 'none' };
  if (choice === 'auto') return { type: 'auto', ...single };
  if (choice === 'required') return { type: 'any', ...single };
  return { type: 'tool', name: choice.name, ...single };
}

/**
 * `reasoning_effort` becomes extended thinking with a fixed budget. Thinking tokens count toward
 * max_tokens, so without a client max_tokens the budget is added on top of the default.
 */
function applyThinking(body: Body, effort: string, defaulted: boolean, options: BuildOptions): void {
  const budget = THINKING_BUDGETS[effort];
  if (budget === undefined) {
    throw new GatewayError('BB_UNSUPPORTED_PARAMETER', `Anthropic has no reasoning effort '${effort}' (use low, medium or high).`, {
      param: 'reasoning_effort',
    });
  }
  if (budget === null) return;
  const maxTokens = body.max_tokens as number;
  if (defaulted) {
    body.max_tokens = options.defaultMaxTokens + budget;
    body.thinking = { type: 'enabled', budget_tokens: budget };
    return;
  }
  const fitted = Math.min(budget, maxTokens - 1);
  if (fitted < MIN_THINKING_BUDGET) {
    throw new GatewayError('BB_UNSUPPORTED_PARAMETER', `Reasoning on Anthropic needs max_tokens above ${MIN_THINKING_BUDGET}.`, {
      param: 'max_tokens',
    });
  }
  body.thinking = { type: 'enabled', budget_tokens: fitted };
}

const TOOL_NAME = /^[a-zA-Z0-9_-]{1,64}$/;

/**
 * OpenAI's `response_format` as a forced tool whose input schema is the wanted JSON: the model
 * must answer by "calling" it, and the parser turns that call's input back into the answer text.
 * It works with every tool-capable model; it cannot be combined with the client's own tools or
 * with extended thinking (which refuses a forced tool_choice).
 */
function forceJsonTool(body: Body, format: Exclude<ResponseFormat, { type: 'text' }>): string {
  const refuse = (what: string) => {
    throw new GatewayError('BB_UNSUPPORTED_PARAMETER', `On Anthropic, 'response_format' cannot be combined with ${what}.`, {
      param: 'response_format',
    });
  };
  if (body.tools !== undefined) refuse("the request's own tools");
  if (body.thinking !== undefined) refuse('reasoning_effort');
  const schema = format.type === 'json_schema' ? (format.schema ?? { type: 'object' }) : { type: 'object' };
  if (schema.type !== undefined && schema.type !== 'object') {
    throw new GatewayError('BB_UNSUPPORTED_PARAMETER', "On Anthropic, a 'response_format' JSON schema must describe an object.", {
      param: 'response_format.json_schema.schema',
    });
  }
  const name = format.type === 'json_schema' && TOOL_NAME.test(format.name) ? format.name : 'json_response';
  const description =
    (format.type === 'json_schema' ? format.description : undefined) ??
    'Give your final answer by calling this tool; its input is the answer, as JSON matching the schema.';
  body.tools = [{ name, description, input_schema: schema }];
  body.tool_choice = { type: 'tool', name, disable_parallel_tool_use: true };
  return name;
}

/**
 * A target's forced params, given in OpenAI field names where OpenAI has one: those are renamed to
 * Anthropic's (`max_completion_tokens` and `max_tokens` -> `max_tokens`, `stop` -> `stop_sequences`,
 * `user` -> `metadata.user_id`); any other key (e.g. `top_k`, `thinking`) is sent as it is.
 */
function applyParams(body: Body, params: TargetSpec['params']): void {
  if (!params) return;
  for (const [key, value] of Object.entries(params)) {
    if (key === 'max_tokens' || key === 'max_completion_tokens') body.max_tokens = value;
    else if (key === 'stop') body.stop_sequences = typeof value === 'string' ? [value] : value;
    else if (key === 'user') body.metadata = { user_id: value };
    else body[key] = value;
  }
}
