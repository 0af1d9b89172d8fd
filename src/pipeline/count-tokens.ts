import { ANTHROPIC_MESSAGES_DIALECT } from '../core/dialect-names.js';
import { decodeCountTokensRequest, encodeAnthropicError } from '../dialects/anthropic-messages/index.js';
import { estimatePromptTokens } from '../usage/token-estimate.js';
import { admitModelRequest } from './admission.js';
import type { Exchange, Reply } from './exchange.js';
import { RequestScope } from './request-scope.js';
import type { Runtime } from './runtime.js';

/**
 * `POST /v1/messages/count_tokens`: the prompt's tokens by the gateway's tokenizer (exact for the
 * GPT-4o family, an approximation for others; texts past 256 K characters are scaled from their
 * head: see docs/architecture.md). No upstream call is made.
 */
export async function handleCountTokens(runtime: Runtime, exchange: Exchange): Promise<Reply> {
  const scope = new RequestScope(exchange, 'other', ANTHROPIC_MESSAGES_DIALECT);
  try {
    const principal = await scope.authenticate(runtime.identity);
    const request = decodeCountTokensRequest(await scope.readJson());
    scope.record.requestedModel = request.model;
    admitModelRequest(runtime, scope, principal, 'count_tokens', request.model, undefined);
    return scope.json(200, JSON.stringify({ input_tokens: estimatePromptTokens(request) }));
  } catch (error) {
    return scope.errorReply(error, encodeAnthropicError);
  }
}
