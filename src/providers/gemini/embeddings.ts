import { z } from 'zod';
import type { EmbeddingsRequest } from '../../core/canonical.js';
import { GatewayError } from '../../core/errors.js';
import type { TargetSpec } from '../provider-adapter.js';
import { badResponse, readGeminiResponse, type ParseContext } from './parse-response.js';

/** batchEmbedContents takes at most this many requests per call; longer inputs are split. */
export const EMBED_BATCH_SIZE = 100;

type Json = Record<string, unknown>;

/** The texts to embed. Gemini embeds text only: token-id input has no equivalent and is refused. */
export function embeddingTexts(request: EmbeddingsRequest): string[] {
  const input = request.input;
  const texts = typeof input === 'string' ? [input] : input;
  if (!texts.every((item): item is string => typeof item === 'string')) {
    throw new GatewayError('BB_UNSUPPORTED_PARAMETER', "This model's provider (Gemini) embeds text only, not token ids.", { param: 'input' });
  }
  if (texts.length === 0) throw new GatewayError('BB_INVALID_REQUEST', "'input' must not be empty.", { param: 'input' });
  return texts;
}

/**
 * Per-request fields from the request and the target's params (OpenAI names: `dimensions`; plus
 * Gemini's own `task_type` / `taskType`).
 */
export function embedOptions(request: EmbeddingsRequest, target: TargetSpec): Json {
  const options: Json = {};
  if (request.dimensions !== undefined) options.outputDimensionality = request.dimensions;
  for (const [key, value] of Object.entries(target.params ?? {})) {
    if (key === 'dimensions' && typeof value === 'number') options.outputDimensionality = value;
    else if ((key === 'task_type' || key === 'taskType') && typeof value === 'string') options.taskType = value;
    else {
      throw new GatewayError('BB_UNSUPPORTED_PARAMETER', `The model's target param '${key}' has no Gemini embeddings equivalent.`, { param: key });
    }
  }
  return options;
}

export function buildBatchEmbedBody(modelResource: string, texts: readonly string[], options: Json): string {
  return JSON.stringify({ requests: texts.map((text) => ({ model: modelResource, content: { parts: [{ text }] }, ...options })) });
}

const batchEmbedSchema = z.looseObject({ embeddings: z.array(z.looseObject({ values: z.array(z.number()) })) });

export function parseBatchEmbed(text: string, context: ParseContext, expected: number): number[][] {
  const parsed = batchEmbedSchema.safeParse(readGeminiResponse(text, context, 'an embeddings response'));
  if (!parsed.success || parsed.data.embeddings.length !== expected) throw badResponse(context.provider, 'an embeddings response of the wrong shape');
  return parsed.data.embeddings.map((embedding) => embedding.values);
}

/** OpenAI's base64 encoding: little-endian float32 bytes. */
export function toBase64Floats(values: readonly number[]): string {
  return Buffer.from(new Float32Array(values).buffer).toString('base64');
}
