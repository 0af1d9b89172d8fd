/**
 * The gateway's own model of an AI request, response and stream. Client dialects decode into these
 * and encode out of them; provider adapters build upstream requests from them and parse upstream
 * answers into them. Nothing here knows any wire format.
 */

export type Role = 'system' | 'developer' | 'user' | 'assistant' | 'tool';

export interface TextPart {
  type: 'text';
  text: string;
}

/** An image by URL (http(s) or data:) or as raw base64 with its media type. */
export interface ImagePart {
  type: 'image';
  url?: string;
  base64?: string;
  mediaType?: string;
  detail?: 'auto' | 'low' | 'high';
}

/**
 * A content part only its own dialect understands (e.g. OpenAI `input_audio`). Providers of that
 * dialect forward it; others refuse the request with a clear 400 rather than drop it silently.
 */
export interface OpaquePart {
  type: 'opaque';
  dialect: string;
  value: Record<string, unknown>;
}

export type ContentPart = TextPart | ImagePart | OpaquePart;

export interface ToolCall {
  id: string;
  name: string;
  /** JSON text, exactly as the model produced it (it may be invalid JSON). */
  arguments: string;
}

/**
 * Hidden reasoning a model showed (Anthropic thinking blocks, OpenAI-compatible reasoning_content).
 * `signature` must travel back with the block in later turns where the provider requires it;
 * `redacted` holds an encrypted block the provider returned instead of text.
 */
export interface ReasoningBlock {
  text: string;
  signature?: string;
  redacted?: string;
}

export interface CanonicalMessage {
  role: Role;
  /** A plain string is the common case and is kept as is to avoid allocating parts. */
  content: string | ContentPart[] | null;
  name?: string;
  toolCalls?: ToolCall[];
  /** For `tool` messages: the call this message answers. */
  toolCallId?: string;
  /** For `assistant` messages: reasoning shown in that turn, passed back as the provider requires. */
  reasoning?: ReasoningBlock[];
}

export interface ToolDefinition {
  name: string;
  description?: string;
  /** JSON Schema of the arguments. */
  parameters?: Record<string, unknown>;
  strict?: boolean;
}

export type ToolChoice = 'auto' | 'none' | 'required' | { name: string };

export type ResponseFormat =
  | { type: 'text' }
  | { type: 'json_object' }
  | { type: 'json_schema'; name: string; schema?: Record<string, unknown>; strict?: boolean; description?: string };

export interface CanonicalRequest {
  /** The public model name the client asked for. */
  model: string;
  messages: CanonicalMessage[];
  stream: boolean;
  /** The client wants a usage chunk at the end of the stream (OpenAI `stream_options.include_usage`). */
  streamUsage: boolean;
  maxTokens?: number;
  temperature?: number;
  topP?: number;
  stop?: string[];
  n?: number;
  seed?: number;
  presencePenalty?: number;
  frequencyPenalty?: number;
  tools?: ToolDefinition[];
  toolChoice?: ToolChoice;
  parallelToolCalls?: boolean;
  responseFormat?: ResponseFormat;
  reasoningEffort?: string;
  /** The end customer the client acts for (OpenAI `user`). */
  user?: string;
  metadata?: Record<string, string>;
  /**
   * Fields the decoder did not model, passed on only to providers of the same dialect, so a
   * vendor extension (e.g. `logprobs`, `top_k`) is not silently dropped.
   */
  extra: Record<string, unknown>;
  /** The dialect `extra` belongs to; providers of another dialect ignore `extra`. */
  extraDialect?: string;
  /**
   * The client's body as decoded, kept while nothing has changed the content. A provider of the
   * same dialect forwards it (model and params aside) so nothing is lost; a policy that rewrites
   * content (masking, clamping) must drop it.
   */
  source?: SourceBody;
}

export interface SourceBody {
  dialect: string;
  body: Record<string, unknown>;
}

export type FinishReason = 'stop' | 'length' | 'tool_calls' | 'content_filter' | 'error';

/**
 * Token usage as OpenAI counts it: `inputTokens` is the whole prompt, cached and cache-written
 * tokens included (Anthropic reports those apart; its dialect subtracts them again).
 */
export interface Usage {
  inputTokens: number;
  outputTokens: number;
  /** Input tokens served from the provider's prompt cache (a subset of inputTokens). */
  cachedInputTokens?: number;
  /** Input tokens written to the provider's prompt cache. */
  cacheCreationTokens?: number;
  /** Output tokens spent on hidden reasoning (a subset of outputTokens). */
  reasoningTokens?: number;
  /** True when the provider reported no usage and the gateway counted with its tokenizer. */
  estimated?: boolean;
}

export interface CanonicalChoice {
  index: number;
  content: string | null;
  toolCalls?: ToolCall[];
  refusal?: string;
  reasoning?: ReasoningBlock[];
  finishReason: FinishReason;
  /** The stop sequence that ended the answer, when one did. */
  stopSequence?: string;
}

export interface CanonicalResponse {
  id: string;
  /** The model the upstream says served the request. */
  model: string;
  created: number;
  choices: CanonicalChoice[];
  usage: Usage;
}

/** One step of a streamed answer. A stream ends with `usage` (when known) then `done`. */
export type StreamEvent =
  | { type: 'start'; id: string; model: string; created: number }
  | { type: 'text'; index: number; text: string }
  | { type: 'tool-call'; index: number; toolIndex: number; id?: string; name?: string; argumentsDelta: string }
  | { type: 'reasoning'; index: number; text: string; signature?: string }
  | { type: 'finish'; index: number; reason: FinishReason; stopSequence?: string }
  /** `inRaw`: the usage already went to the client inside a raw (passthrough) chunk. */
  | { type: 'usage'; usage: Usage; inRaw?: boolean }
  /**
   * An upstream chunk already in the client's dialect (passthrough fast path): encoders of that
   * dialect write `data` (and the SSE `event` name, where the dialect uses one) unchanged; others
   * never see it.
   */
  | { type: 'raw'; dialect: string; data: string; event?: string };

export interface EmbeddingsRequest {
  model: string;
  input: string | string[] | number[] | number[][];
  dimensions?: number;
  encodingFormat?: 'float' | 'base64';
  user?: string;
  extra: Record<string, unknown>;
  source?: SourceBody;
}

export interface EmbeddingsResponse {
  model: string;
  /** Float vectors, or base64 strings when the client asked for `base64`. */
  data: Array<{ index: number; embedding: number[] | string }>;
  usage: { inputTokens: number };
}

export function emptyUsage(): Usage {
  return { inputTokens: 0, outputTokens: 0 };
}
