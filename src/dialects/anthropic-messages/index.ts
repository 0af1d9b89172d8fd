import { ANTHROPIC_MESSAGES_DIALECT } from '../../core/dialect-names.js';
import type { ChatDialect } from '../dialect.js';
import { decodeMessagesRequest } from './decode.js';
import { encodeAnthropicError, encodeMessagesResponse } from './encode.js';
import { AnthropicStreamEncoder } from './encode-stream.js';

export { decodeCountTokensRequest } from './decode.js';
export { encodeAnthropicError } from './encode.js';

/** The Anthropic Messages dialect (`POST /v1/messages`), for apps built on Anthropic's SDKs. */
export const anthropicMessagesDialect: ChatDialect = {
  name: ANTHROPIC_MESSAGES_DIALECT,
  decodeChat: decodeMessagesRequest,
  encodeChat: (response) => encodeMessagesResponse(response),
  createStreamEncoder: (request) => new AnthropicStreamEncoder(request),
  encodeError: encodeAnthropicError,
};
