import type { CanonicalRequest, ToolChoice, ToolDefinition } from '../../core/canonical.js';
import { GatewayError } from '../../core/errors.js';
import type { TargetSpec } from '../provider-adapter.js';
import { encodeConversation, type Block } from './encode-messages.js';

/**
 * Builds the Converse / ConverseStream body (both take the same one). Parameters Converse cannot
 * honour are refused with a clear 400 rather than dropped; `seed` and `user` are best-effort hints
 * elsewhere too and are left out.
 */

export interface ConverseBuildOptions {
  /** maxTokens when neither the client nor the target sets one (Converse models need a cap). */
  defaultMaxTokens: number;
}

/** Converse request fields a target's params may set verbatim (Bedrock's own names). */
const CONVERSE_FIELDS: ReadonlySet<string> = new Set([
  'additionalModelRequestFields',
  'additionalModelResponseFieldPaths',
  'guardrailConfig',
  'performanceConfig',
  'serviceTier',
  'requestMetadata',
]);

interface Sampling {
  maxTokens: number | undefined;
  temperature: number | undefined;
  topP: number | undefined;
  stop: string[] | undefined;
}

export function buildConverseBody(request: CanonicalRequest, target: TargetSpec, options: ConverseBuildOptions): Block {
  refuseUnsupported(request);
  const sampling: Sampling = { maxTokens: request.maxTokens, temperature: request.temperature, topP: request.topP, stop: request.stop };
  const native = applyTargetParams(sampling, target);
  const conversation = encodeConversation(request.messages);
  const body: Block = { messages: conversation.messages };
  if (conversation.system.length > 0) body.system = conversation.system;
  const inference: Block = { maxTokens: sampling.maxTokens ?? options.defaultMaxTokens };
  if (sampling.temperature !== undefined) inference.temperature = sampling.temperature;
  if (sampling.topP !== undefined) inference.topP = sampling.topP;
  if (sampling.stop !== undefined && sampling.stop.length > 0) inference.stopSequences = sampling.stop;
  body.inferenceConfig = inference;
  const toolConfig = encodeToolConfig(request.tools, request.toolChoice);
  if (toolConfig) body.toolConfig = toolConfig;
  const format = request.responseFormat;
  if (format?.type === 'json_schema') {
    const jsonSchema: Block = { schema: JSON.stringify(format.schema), name: format.name };
    if (format.description !== undefined) jsonSchema.description = format.description;
    body.outputConfig = { textFormat: { type: 'json_schema', structure: { jsonSchema } } };
  }
  if (request.metadata && Object.keys(request.metadata).length > 0) body.requestMetadata = request.metadata;
  Object.assign(body, native);
  return body;
}

function refuseUnsupported(request: CanonicalRequest): void {
  const refuse = (param: string, why: string) => {
    throw new GatewayError('BB_UNSUPPORTED_PARAMETER', `Bedrock Converse ${why}.`, { param });
  };
  if (request.n !== undefined && request.n > 1) refuse('n', 'returns one choice per request (n must be 1)');
  if (request.presencePenalty) refuse('presence_penalty', 'has no presence_penalty');
  if (request.frequencyPenalty) refuse('frequency_penalty', 'has no frequency_penalty');
  if (request.reasoningEffort !== undefined) {
    refuse('reasoning_effort', 'sets reasoning per model: configure it in the target params under additionalModelRequestFields');
  }
  const format = request.responseFormat;
  if (format?.type === 'json_object') refuse('response_format', 'needs a JSON schema for JSON output: use response_format type json_schema');
  if (format?.type === 'json_schema' && format.schema === undefined) refuse('response_format', 'needs json_schema.schema for JSON output');
}

/**
 * A target's params use OpenAI names for the sampling fields and Bedrock's names for Converse's
 * own fields; they win over the client's. Returns the Converse fields to set verbatim.
 */
function applyTargetParams(sampling: Sampling, target: TargetSpec): Block {
  const native: Block = {};
  if (!target.params) return native;
  for (const [key, value] of Object.entries(target.params)) {
    if (CONVERSE_FIELDS.has(key)) native[key] = value;
    else if (key === 'temperature' && typeof value === 'number') sampling.temperature = value;
    else if (key === 'top_p' && typeof value === 'number') sampling.topP = value;
    else if ((key === 'max_tokens' || key === 'max_completion_tokens') && typeof value === 'number') sampling.maxTokens = value;
    else if (key === 'stop' && typeof value === 'string') sampling.stop = [value];
    else if (key === 'stop' && Array.isArray(value) && value.every((item) => typeof item === 'string')) sampling.stop = value as string[];
    else {
      throw new GatewayError('BB_UNSUPPORTED_PARAMETER', `Target param "${key}" of provider "${target.providerName}" is not one Bedrock Converse takes.`, {
        param: key,
      });
    }
  }
  return native;
}

/** `none` sends no tools at all: Converse has no way to offer tools yet forbid them. */
function encodeToolConfig(tools: ToolDefinition[] | undefined, choice: ToolChoice | undefined): Block | undefined {
  if (!tools || tools.length === 0 || choice === 'none') return undefined;
  const config: Block = {
    tools: tools.map((tool) => {
      const spec: Block = { name: tool.name, inputSchema: { json: tool.parameters ?? { type: 'object', properties: {} } } };
      if (tool.description !== undefined) spec.description = tool.description;
      if (tool.strict === true) spec.strict = true;
      return { toolSpec: spec };
    }),
  };
  if (choice === 'auto') config.toolChoice = { auto: {} };
  else if (choice === 'required') config.toolChoice = { any: {} };
  else if (choice !== undefined) config.toolChoice = { tool: { name: choice.name } };
  return config;
}
