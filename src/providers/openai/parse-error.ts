import { GatewayError } from '../../core/errors.js';
import { errorForStatus, redactSecrets } from '../classify-status.js';

interface UpstreamErrorBody {
  message?: string;
  code?: string;
  type?: string;
  param?: string;
}

function readErrorBody(text: string): UpstreamErrorBody {
  try {
    const parsed = JSON.parse(text) as { error?: unknown; message?: unknown };
    const error: Record<string, unknown> =
      typeof parsed.error === 'object' && parsed.error !== null ? (parsed.error as Record<string, unknown>) : (parsed as Record<string, unknown>);
    const pick = (key: string) => (typeof error[key] === 'string' ? (error[key] as string) : undefined);
    const body: UpstreamErrorBody = {};
    for (const key of ['message', 'code', 'type', 'param'] as const) {
      const value = pick(key);
      if (value !== undefined) body[key] = value;
    }
    if (body.message === undefined && typeof parsed.error === 'string') body.message = parsed.error;
    return body;
  } catch {
    return {};
  }
}

/** Classifies an OpenAI-style error answer; codes OpenAI documents refine the status mapping. */
export function parseOpenAIError(
  status: number,
  text: string,
  retryAfter: number | undefined,
  secrets: readonly string[],
  provider: string,
): GatewayError {
  const body = readErrorBody(text);
  const message = body.message ? redactSecrets(body.message, secrets) : undefined;
  if (body.code === 'context_length_exceeded') {
    return new GatewayError('BB_CONTEXT_LENGTH_EXCEEDED', message ?? 'The prompt is too long for this model.', {
      upstreamStatus: status,
      param: 'messages',
    });
  }
  if (body.code === 'content_filter') {
    return new GatewayError('BB_CONTENT_FILTERED', message ?? 'The content filter refused the request.', { upstreamStatus: status });
  }
  if (status === 429 && body.code === 'insufficient_quota') {
    return new GatewayError('BB_UPSTREAM_ERROR', `Provider "${provider}" reports the gateway's account is out of quota.`, {
      upstreamStatus: status,
    });
  }
  return errorForStatus({
    provider,
    status,
    ...(message !== undefined ? { message } : {}),
    ...(body.param !== undefined ? { param: body.param } : {}),
    ...(retryAfter !== undefined ? { retryAfterSeconds: retryAfter } : {}),
  });
}
