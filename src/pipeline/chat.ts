import type { ChatDialect } from '../dialects/dialect.js';
import { OutputMeter } from '../policies/limits/index.js';
import { executeChat } from '../routing/execute.js';
import { promptTokenCounter } from '../usage/token-estimate.js';
import { admitLimits, admitModelRequest, conversationIdOf, labelRequest, routedRequest, selectRoute } from './admission.js';
import type { Exchange, Reply } from './exchange.js';
import { captureBodies } from './body-capture.js';
import { encodeStream } from './encode-stream.js';
import { applyReroute, guardRequest } from './guarding.js';
import { RequestScope } from './request-scope.js';
import type { Runtime } from './runtime.js';

/** Fixed headers of every SSE reply. */
const STREAM_HEADERS: Readonly<Record<string, string>> = { 'cache-control': 'no-cache', 'x-accel-buffering': 'no' };

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
    const bodies = captureBodies(runtime, scope, principal, 'chat', request.messages);
    // Recorded answers are read as canonical events, not passed through as bytes.
    if (bodies) request.source = undefined;
    const guarding = guardRequest(runtime, scope, request);
    const guarded = guarding instanceof Promise ? await guarding : guarding;
    // No closure here may capture `request`: one that outlives the handler would keep the prompt.
    const promptTokens = promptTokenCounter(request);
    const selection = applyReroute(runtime, guarded.inspection?.reroute === true, selectRoute(runtime, scope, principal, 'chat', allowed, request, promptTokens));
    const { route, headers: limitHeaders, streamOutputCap } = await admitLimits(runtime, scope, principal, 'chat', selection.route, request, promptTokens, conversationIdOf(runtime, scope, request.metadata));
    const routed = routedRequest(runtime, principal, selection, route, promptTokens, request.maxTokens);
    if (guarded.inspection) {
      routed.plan.blockedTrust = guarded.inspection.blocked;
      routed.requestFor = guarded.requestFor;
    }
    record.maxTokens = request.maxTokens;
    const trace = runtime.traceHeaders?.headersFor(exchange.headers);
    record.trace = trace?.context;
    const execution = await scope.execute(
      executeChat(routed, request, {
        requestId: exchange.requestId,
        client: exchange.client,
        requestStartedAt: exchange.startedAt,
        clientHeaders: exchange.headers,
        forwardHeaders: trace?.headers ?? pickForwardHeaders(exchange),
        promptTokens,
      }),
    );
    const outcome = execution.result;
    const filter = guarded.answerFilter();
    if (outcome.kind === 'response') {
      record.usage = outcome.usage;
      let body: string;
      if (!filter && !bodies && outcome.raw?.dialect === dialect.name) body = outcome.raw.body;
      else {
        const response = filter ? filter.response(outcome.response()) : outcome.response();
        record.finishReasons = response.choices.map((choice) => choice.finishReason);
        for (const choice of response.choices) bodies?.add(choice.content ?? '');
        body = dialect.encodeChat(response, request);
      }
      return scope.json(200, body, scope.routingHeaders(Object.assign(scope.baseHeaders('application/json'), limitHeaders)));
    }
    const events = filter ? filter.stream(outcome.events) : outcome.events;
    // Object.assign, not a spread: `{ ...a, b, ...c }` gives every request's object a hidden class
    // of its own (measured), which an open stream then holds for its whole life.
    const headers = scope.routingHeaders(Object.assign(scope.baseHeaders('text/event-stream'), STREAM_HEADERS, limitHeaders));
    const meter = streamOutputCap === undefined ? undefined : new OutputMeter(streamOutputCap);
    return { status: 200, headers, stream: encodeStream(scope, dialect, { streamUsage: request.streamUsage, promptTokens }, events, meter, bodies), onSettled: scope.settler };
  } catch (error) {
    return scope.errorReply(error, dialect.encodeError);
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
