import { GatewayError } from '../core/errors.js';
import { encodeAnthropicError } from '../dialects/anthropic-messages/index.js';
import { encodeModelList, encodeModelObject, encodeOpenAIError, OPENAI_DIALECT } from '../dialects/openai-chat/index.js';
import type { Exchange, Reply } from './exchange.js';
import { RequestScope } from './request-scope.js';
import { visibleModelNames, type Runtime } from './runtime.js';

/** `GET /v1/models`: only the public names this caller may use. */
export async function handleListModels(runtime: Runtime, exchange: Exchange): Promise<Reply> {
  const scope = new RequestScope(exchange, 'models', OPENAI_DIALECT);
  try {
    const principal = await scope.authenticate(runtime.identity);
    scope.checkAccess(runtime.access, runtime.identity, principal, { endpoint: 'models' }, undefined);
    return scope.json(200, encodeModelList(visibleModelNames(runtime, principal), runtime.createdAt));
  } catch (error) {
    return scope.errorReply(error, encodeOpenAIError);
  }
}

/** `GET /v1/models/{id}`: one model, or the same 404 for unknown and forbidden names. */
export async function handleGetModel(runtime: Runtime, exchange: Exchange, id: string): Promise<Reply> {
  const scope = new RequestScope(exchange, 'models', OPENAI_DIALECT);
  try {
    const principal = await scope.authenticate(runtime.identity);
    scope.checkAccess(runtime.access, runtime.identity, principal, { endpoint: 'models' }, undefined);
    if (!runtime.models.has(id) || !runtime.access.canSeeModel(principal, id)) {
      throw new GatewayError('BB_MODEL_NOT_FOUND', `The model '${id}' does not exist or you do not have access to it.`, { param: 'model' });
    }
    return scope.json(200, JSON.stringify(encodeModelObject(id, runtime.createdAt)));
  } catch (error) {
    return scope.errorReply(error, encodeOpenAIError);
  }
}

/**
 * For answers the server decides before a handler runs (404, 405, shutting down, load shedding):
 * in the endpoint's own error shape, so an Anthropic SDK on /v1/messages gets Anthropic's.
 */
export function handleRouteError(exchange: Exchange, error: GatewayError, allow?: string): Reply {
  const scope = new RequestScope(exchange, 'other', undefined);
  const reply = scope.errorReply(error, isAnthropicPath(exchange.path) ? encodeAnthropicError : encodeOpenAIError);
  if (allow !== undefined) reply.headers.allow = allow;
  return reply;
}

/** `/v1/messages` and everything under it speak Anthropic's dialect. */
function isAnthropicPath(path: string): boolean {
  return path.startsWith('/v1/messages') && (path.length === 12 || path[12] === '/');
}
