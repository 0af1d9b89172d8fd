import { decodeEmbeddingsRequest, encodeEmbeddingsResponse, encodeOpenAIError, OPENAI_DIALECT } from '../dialects/openai-chat/index.js';
import { executeEmbeddings } from '../routing/execute.js';
import { admitLimits, admitModelRequest, labelRequest, once, routedRequest, selectRoute } from './admission.js';
import { countEmbeddingInputTokens } from '../usage/token-estimate.js';
import type { Exchange, Reply } from './exchange.js';
import { captureBodies } from './body-capture.js';
import { applyReroute, guardEmbeddings } from './guarding.js';
import { RequestScope } from './request-scope.js';
import type { Runtime } from './runtime.js';

/** `POST /v1/embeddings` (OpenAI shape) through the same phases as chat. */
export async function handleEmbeddings(runtime: Runtime, exchange: Exchange): Promise<Reply> {
  const scope = new RequestScope(exchange, 'embeddings', OPENAI_DIALECT);
  const record = scope.record;
  try {
    const principal = await scope.authenticate(runtime.identity);
    const request = decodeEmbeddingsRequest(await scope.readJson());
    record.requestedModel = request.model;
    labelRequest(runtime, scope, undefined);
    const allowed = admitModelRequest(runtime, scope, principal, 'embeddings', request.model, request.user);
    const input = typeof request.input === 'string' ? [request.input] : request.input.filter((item): item is string => typeof item === 'string');
    captureBodies(runtime, scope, principal, 'embeddings', input.map((text) => ({ role: 'user', content: text })));
    const guarded = await guardEmbeddings(runtime, scope, request);
    const inputTokens = once(() => countEmbeddingInputTokens(request.input));
    const selection = applyReroute(runtime, guarded?.reroute === true, selectRoute(runtime, scope, principal, 'embeddings', allowed, {}, inputTokens));
    const { route, headers: limitHeaders } = await admitLimits(runtime, scope, principal, 'embeddings', selection.route, { maxTokens: 0, user: request.user }, inputTokens, undefined);
    const routed = routedRequest(runtime, principal, selection, route, inputTokens, 0);
    if (guarded) {
      routed.embeddingsFor = guarded.requestFor;
      routed.plan.blockedTrust = guarded.blocked;
    }
    const trace = runtime.traceHeaders?.headersFor(exchange.headers);
    record.trace = trace?.context;
    const execution = await scope.execute(
      executeEmbeddings(routed, request, {
        requestId: exchange.requestId,
        client: exchange.client,
        requestStartedAt: exchange.startedAt,
        clientHeaders: exchange.headers,
        forwardHeaders: trace?.headers ?? {},
      }),
    );
    record.usage = { inputTokens: execution.result.usage.inputTokens, outputTokens: 0 };
    return scope.json(200, encodeEmbeddingsResponse(execution.result), scope.routingHeaders(Object.assign(scope.baseHeaders('application/json'), limitHeaders)));
  } catch (error) {
    return scope.errorReply(error, encodeOpenAIError);
  }
}
