import type { ChatDialect } from '../dialect.js';
import { decodeChatRequest, OPENAI_DIALECT } from './decode.js';
import { encodeChatResponse } from './encode.js';
import { encodeOpenAIError } from './encode-error.js';
import { OpenAIStreamEncoder } from './encode-stream.js';

export { decodeEmbeddingsRequest, OPENAI_DIALECT } from './decode.js';
export { encodeEmbeddingsResponse, encodeModelList, encodeModelObject, encodeUsage } from './encode.js';
export { encodeOpenAIError } from './encode-error.js';

/** The OpenAI Chat Completions dialect (`POST /v1/chat/completions`). */
export const openAIChatDialect: ChatDialect = {
  name: OPENAI_DIALECT,
  decodeChat: decodeChatRequest,
  encodeChat: (response) => encodeChatResponse(response),
  createStreamEncoder: (request) => new OpenAIStreamEncoder(request),
  encodeError: encodeOpenAIError,
};
