import type { MockProviderConfig } from '../../config/schema.js';

/** What the mock does for one request: its config, overridden by the request header. */
export interface MockBehavior {
  replyMode: 'lorem' | 'fixed' | 'echo';
  replyText: string;
  replyTokens: number;
  ttftMs: number;
  tokensPerSecond: number;
  status: number | undefined;
  retryAfterSeconds: number | undefined;
  stallAfterTokens: number | undefined;
  disconnectAfterTokens: number | undefined;
  /** Answer with a call to this tool (must be one of the request's tools). */
  toolCall: string | undefined;
}

export const MOCK_BEHAVIOR_HEADER = 'x-mock-behavior';

/**
 * Reads `x-mock-behavior`, e.g. `status=503; retry_after=2; provider=mock-a`. Keys: status,
 * retry_after, ttft_ms, slow_start_ms, tokens_per_second, tokens, reply (lorem|fixed|echo),
 * stall_after, disconnect_after, tool_call, provider (apply only to that provider). Unknown keys
 * and bad values are ignored: it is a test aid, not an API.
 */
export function resolveBehavior(config: MockProviderConfig, providerName: string, header: string | undefined): MockBehavior {
  const failure = config.failure;
  const behavior: MockBehavior = {
    replyMode: config.reply.mode,
    replyText: config.reply.text,
    replyTokens: config.reply.tokens,
    ttftMs: config.ttft_ms + (failure?.slow_start_ms ?? 0),
    tokensPerSecond: config.tokens_per_second,
    status: failure?.status,
    retryAfterSeconds: failure?.retry_after_s,
    stallAfterTokens: failure?.stall_after_tokens,
    disconnectAfterTokens: failure?.disconnect_after_tokens,
    toolCall: undefined,
  };
  if (!config.header_control || header === undefined) return behavior;
  const fields = parseHeader(header);
  if (fields.provider !== undefined && fields.provider !== providerName) return behavior;
  const int = (key: string) => {
    const value = Number(fields[key]);
    return fields[key] !== undefined && Number.isFinite(value) && value >= 0 ? value : undefined;
  };
  const status = int('status');
  if (status !== undefined && status >= 400 && status <= 599) behavior.status = status;
  behavior.retryAfterSeconds = int('retry_after') ?? behavior.retryAfterSeconds;
  behavior.ttftMs = int('ttft_ms') ?? behavior.ttftMs;
  behavior.ttftMs += int('slow_start_ms') ?? 0;
  behavior.tokensPerSecond = int('tokens_per_second') ?? behavior.tokensPerSecond;
  behavior.replyTokens = int('tokens') ?? behavior.replyTokens;
  behavior.stallAfterTokens = int('stall_after') ?? behavior.stallAfterTokens;
  behavior.disconnectAfterTokens = int('disconnect_after') ?? behavior.disconnectAfterTokens;
  const reply = fields.reply;
  if (reply === 'lorem' || reply === 'fixed' || reply === 'echo') behavior.replyMode = reply;
  if (fields.tool_call) behavior.toolCall = fields.tool_call;
  return behavior;
}

function parseHeader(header: string): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const pair of header.split(/[;,]/)) {
    const equals = pair.indexOf('=');
    if (equals === -1) continue;
    fields[pair.slice(0, equals).trim().toLowerCase()] = pair.slice(equals + 1).trim();
  }
  return fields;
}
