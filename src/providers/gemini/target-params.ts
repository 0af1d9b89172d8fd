import type { CanonicalRequest } from '../../core/canonical.js';
import { GatewayError } from '../../core/errors.js';

type Json = Record<string, unknown>;

export interface AppliedParams {
  /** The request with the target's OpenAI-named params forced over the client's. */
  request: CanonicalRequest;
  /** Gemini body fields the target sets directly (safetySettings, cachedContent). */
  body: Json;
  /** Gemini generationConfig fields the target sets directly; they win over computed ones. */
  generationConfig: Json;
}

/**
 * A target's `params` use OpenAI field names (as for every provider); the ones with a Gemini
 * meaning are applied, plus a few Gemini-only fields a deployment may need to force (safety
 * settings, a context cache, raw generationConfig). Anything else is a configuration mistake and
 * is refused loudly rather than ignored.
 */
export function applyTargetParams(original: CanonicalRequest, params: Readonly<Json> | undefined): AppliedParams {
  const applied: AppliedParams = { request: original, body: {}, generationConfig: {} };
  if (!params) return applied;
  const request: CanonicalRequest = { ...original, extra: { ...original.extra } };
  applied.request = request;
  for (const [key, value] of Object.entries(params)) {
    switch (key) {
      case 'temperature':
        request.temperature = number(key, value);
        break;
      case 'top_p':
        request.topP = number(key, value);
        break;
      case 'top_k':
        request.extra.top_k = number(key, value);
        break;
      case 'max_tokens':
      case 'max_completion_tokens':
        request.maxTokens = number(key, value);
        break;
      case 'seed':
        request.seed = number(key, value);
        break;
      case 'n':
        request.n = number(key, value);
        break;
      case 'presence_penalty':
        request.presencePenalty = number(key, value);
        break;
      case 'frequency_penalty':
        request.frequencyPenalty = number(key, value);
        break;
      case 'stop':
        request.stop = typeof value === 'string' ? [value] : stringArray(key, value);
        break;
      case 'reasoning_effort':
        if (typeof value !== 'string') throw badParam(key, 'must be a string');
        request.reasoningEffort = value;
        break;
      case 'safetySettings':
      case 'safety_settings':
        if (!Array.isArray(value)) throw badParam(key, 'must be a list');
        applied.body.safetySettings = value;
        break;
      case 'cachedContent':
      case 'cached_content':
        if (typeof value !== 'string') throw badParam(key, 'must be a string');
        applied.body.cachedContent = value;
        break;
      case 'generationConfig':
      case 'generation_config':
        if (typeof value !== 'object' || value === null || Array.isArray(value)) throw badParam(key, 'must be an object');
        Object.assign(applied.generationConfig, value);
        break;
      default:
        throw badParam(key, 'has no Gemini equivalent');
    }
  }
  return applied;
}

function number(key: string, value: unknown): number {
  if (typeof value !== 'number') throw badParam(key, 'must be a number');
  return value;
}

function stringArray(key: string, value: unknown): string[] {
  if (!Array.isArray(value) || !value.every((item) => typeof item === 'string')) throw badParam(key, 'must be a string or a list of strings');
  return value;
}

function badParam(key: string, problem: string): GatewayError {
  return new GatewayError('BB_UNSUPPORTED_PARAMETER', `The model's target param '${key}' ${problem} (provider type gemini).`, { param: key });
}
