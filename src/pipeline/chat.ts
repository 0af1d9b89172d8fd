import type { CanonicalRequest, StreamEvent } from '../core/canonical.js';
import { toGatewayError } from '../core/errors.js';
import type { ChatDialect } from '../dialects/dialect.js';
import { OutputMeter } from '../policies/limits/index.js';
import { executeChat } from '../routing/execute.js';
import { estimatePromptTokens } from '../usage/token-estimate.js';
import { admitLimits, admitModelRequest, conversationIdOf, labelRequest, once, routedRequest, selectRoute } from './admission.js';
import type { Exchange, Reply } from './exchange.js';
import { RequestScope } from './request-scope.js';
import type { Runtime } from './runtime.js';

/** Headers from the client that reach the upstream (trace context only; never credentials). */
const FORWARDED_HEADERS = ['traceparent', 'tracestate'] as const;

/**
 * A chat request through every phase: authenticate, receive, decode, admit, route and execute,
 * respond, settle. Any failure becomes an error in the client's own dialect.
 */
export async function handleChat(runtime: Runtime, dialect: ChatDialect, exchange: Exchange): Promise<Reply> {
  const scope = new RequestScope(exchange, 'chat', dialect.name);
  const record = scope.record;
  try {
    const principal = await scope.authenticate(runtime.identity);
    const request = dialect.decodeChat(await scope.readJson());
    record.requestedModel = request.model;
    record.stream = request.stream;
    labelRequest(runtime, scope, request.metadata);
    const allowed = admitModelRequest(runtime, scope, principal, 'chat', request.model, request.user);
    const promptTokens = once(() => estimatePromptTokens(request));
    const selection = selectRoute(runtime, scope, principal, 'chat', allowed, request, promptTokens);
    const { route, headers: limitHeaders, streamOutputCap } = await admitLimits(runtime, scope, principal, 'chat', selection.route, request, promptTokens, conversationIdOf(runtime, scope, request.metadata));
    const execution = await scope.execute(
      executeChat(routedRequest(runtime, principal, selection, route, promptTokens, request.maxTokens), request, {
        requestId: exchange.requestId,
        client: exchange.client,
        clientHeaders: exchange.headers,
        forwardHeaders: pickForwardHeaders(exchange),
      }),
    );
    const outcome = execution.result;
    if (outcome.kind === 'response') {
      record.usage = outcome.usage;
      const body = outcome.raw?.dialect === dialect.name ? outcome.raw.body : dialect.encodeChat(outcome.response(), request);
      return scope.json(200, body, scope.routingHeaders({ ...scope.baseHeaders('application/json'), ...limitHeaders }));
    }
    const headers = scope.routingHeaders({ ...scope.baseHeaders('text/event-stream'), 'cache-control': 'no-cache', 'x-accel-buffering': 'no', ...limitHeaders });
    return { status: 200, headers, stream: encodeStream(scope, dialect, request, outcome.events, streamOutputCap === undefined ? undefined : new OutputMeter(streamOutputCap)), onSettled: (info) => scope.settle(info) };
  } catch (error) {
    return scope.errorReply(error, dialect.encodeError);
  }
}

/**
 * Encodes events for the client, noting time to first content and usage on the way. A failure
 * after the stream began becomes the dialect's terminal error event (headers are already sent).
 * The request settles (its record is published, and so made durable by the ledger) before the
 * closing event goes out: a stream the client saw complete is never missing from the records.
 */
async function* encodeStream(scope: RequestScope, dialect: ChatDialect, request: CanonicalRequest, events: AsyncIterable<StreamEvent>, meter: OutputMeter | undefined): AsyncGenerator<string> {
  const record = scope.record;
  const encoder = dialect.createStreamEncoder(request);
  let closing = '';
  try {
    for await (const event of events) {
      if (event.type === 'usage') record.usage = event.usage;
      else if (record.ttftMs === undefined && event.type !== 'start') record.ttftMs = scope.elapsedMs();
      meter?.observe(event);
      const text = encoder.encode(event);
      if (text === '') continue;
      // A passed-through Anthropic stream carries its own closing event: it waits for settle too.
      if (event.type === 'raw' && event.event === 'message_stop') closing += text;
      else yield text;
    }
    scope.settle({ status: 200, clientClosed: false });
    yield closing + encoder.end();
  } catch (thrown) {
    const error = toGatewayError(thrown, scope.exchange.requestId);
    record.errorCode = error.code;
    record.usageIncomplete = true;
    // What was generated before the break is billed: the meter counted it when a budget applies.
    record.usage ??= { inputTokens: estimatePromptTokens(request), outputTokens: meter?.tokens ?? 0, estimated: true };
    if (error.code !== 'BB_CLIENT_CLOSED' && !scope.exchange.client.closed) {
      scope.settle({ status: 200, clientClosed: false });
      yield encoder.error(error);
    }
  }
}

function pickForwardHeaders(exchange: Exchange): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of FORWARDED_HEADERS) {
    const value = exchange.headers[name];
    if (typeof value === 'string') out[name] = value;
  }
  return out;
}
