import { randomUUID } from 'node:crypto';
import type { CanonicalRequest, CanonicalResponse, EmbeddingsRequest, EmbeddingsResponse, StreamEvent, ToolCall } from '../../core/canonical.js';
import { GatewayError } from '../../core/errors.js';
import type { MockProviderConfig } from '../../config/schema.js';
import { countEmbeddingInputTokens, countTextTokens, estimatePromptTokens } from '../../usage/token-estimate.js';
import { errorForStatus } from '../classify-status.js';
import { toProviderTimeouts } from '../timeouts.js';
import type { AttemptContext, AttemptSignal, ChatOutcome, ProviderAdapter, ProviderTimeouts, TargetSpec } from '../provider-adapter.js';
import { MOCK_BEHAVIOR_HEADER, resolveBehavior, type MockBehavior } from './behavior.js';
import { mockEmbedding } from './embedding.js';
import { chooseToolCall, replyPieces } from './reply.js';

/**
 * A deterministic fake LLM in the gateway's process: same request, same answer, with usage counted
 * by the real tokenizer, a configurable pace, and failures injectable per request.
 */
export class MockAdapter implements ProviderAdapter {
  readonly type = 'mock';
  readonly dialect = undefined;
  readonly timeouts: ProviderTimeouts;

  constructor(
    readonly name: string,
    private readonly config: MockProviderConfig,
  ) {
    this.timeouts = toProviderTimeouts(config.timeouts);
  }

  async chat(request: CanonicalRequest, target: TargetSpec, context: AttemptContext): Promise<ChatOutcome> {
    const behavior = this.behaviorFor(context);
    if (behavior.status !== undefined) throw this.injectedFailure(behavior);
    const id = `chatcmpl-mock-${randomUUID()}`;
    const created = Math.floor(Date.now() / 1000);
    const toolCall = chooseToolCall(request, behavior, `call_${id.slice(-24)}`);
    const { pieces, truncated } = toolCall ? { pieces: [], truncated: false } : replyPieces(request, behavior);
    const inputTokens = estimatePromptTokens(request);
    if (request.stream) {
      return { kind: 'stream', events: this.stream({ id, created, model: target.model, pieces, truncated, toolCall, inputTokens }, behavior, context.signal) };
    }
    await abortableSleep(behavior.ttftMs + paceMs(pieces.length, behavior.tokensPerSecond), context.signal);
    const response: CanonicalResponse = {
      id,
      model: target.model,
      created,
      choices: [
        {
          index: 0,
          content: toolCall ? null : pieces.join(''),
          finishReason: toolCall ? 'tool_calls' : truncated ? 'length' : 'stop',
          ...(toolCall ? { toolCalls: [toolCall] } : {}),
        },
      ],
      usage: { inputTokens, outputTokens: toolCall ? countToolTokens(toolCall) : pieces.length },
    };
    return { kind: 'response', usage: response.usage, response: () => response };
  }

  async embeddings(request: EmbeddingsRequest, target: TargetSpec, context: AttemptContext): Promise<EmbeddingsResponse> {
    const behavior = this.behaviorFor(context);
    if (behavior.status !== undefined) throw this.injectedFailure(behavior);
    const inputs = typeof request.input === 'string' || typeof request.input[0] === 'number' ? [request.input] : (request.input as Array<string | number[]>);
    const dimensions = request.dimensions ?? this.config.embedding_dimensions;
    return {
      model: target.model,
      data: inputs.map((input, index) => ({
        index,
        embedding: mockEmbedding(typeof input === 'string' ? input : JSON.stringify(input), dimensions, request.encodingFormat ?? 'float'),
      })),
      usage: { inputTokens: countEmbeddingInputTokens(request.input) },
    };
  }

  async close(): Promise<void> {}

  private behaviorFor(context: AttemptContext): MockBehavior {
    const header = context.clientHeaders[MOCK_BEHAVIOR_HEADER];
    return resolveBehavior(this.config, this.name, Array.isArray(header) ? header[0] : header);
  }

  private injectedFailure(behavior: MockBehavior): GatewayError {
    return errorForStatus({
      provider: this.name,
      status: behavior.status as number,
      message: `Mock provider "${this.name}" injected HTTP ${behavior.status}.`,
      ...(behavior.retryAfterSeconds !== undefined ? { retryAfterSeconds: behavior.retryAfterSeconds } : {}),
    });
  }

  private async *stream(reply: StreamReply, behavior: MockBehavior, signal: AttemptSignal): AsyncGenerator<StreamEvent> {
    yield { type: 'start', id: reply.id, model: reply.model, created: reply.created };
    await abortableSleep(behavior.ttftMs, signal);
    if (reply.toolCall) {
      const args = reply.toolCall.arguments;
      const half = Math.floor(args.length / 2);
      yield { type: 'tool-call', index: 0, toolIndex: 0, id: reply.toolCall.id, name: reply.toolCall.name, argumentsDelta: args.slice(0, half) };
      yield { type: 'tool-call', index: 0, toolIndex: 0, argumentsDelta: args.slice(half) };
      yield { type: 'finish', index: 0, reason: 'tool_calls' };
      yield { type: 'usage', usage: { inputTokens: reply.inputTokens, outputTokens: countToolTokens(reply.toolCall) } };
      return;
    }
    const started = performance.now();
    let sent = 0;
    try {
      while (sent < reply.pieces.length) {
        if (sent === behavior.stallAfterTokens) await abortableSleep(2_147_483_647, signal);
        if (sent === behavior.disconnectAfterTokens) {
          throw new GatewayError('BB_UPSTREAM_CONNECT', `Mock provider "${this.name}" dropped the connection mid-stream.`);
        }
        // Send every token that is due by now, so a fast pace is not limited by timer resolution.
        const due = behavior.tokensPerSecond > 0 ? Math.floor(((performance.now() - started) / 1000) * behavior.tokensPerSecond) + 1 : Infinity;
        const limit = Math.min(reply.pieces.length, due, nextStop(sent, behavior));
        if (limit > sent) {
          yield { type: 'text', index: 0, text: reply.pieces.slice(sent, limit).join('') };
          sent = limit;
        }
        if (sent < reply.pieces.length && behavior.tokensPerSecond > 0) {
          await abortableSleep(Math.max(1, started + (sent / behavior.tokensPerSecond) * 1000 - performance.now()), signal);
        }
      }
    } catch (error) {
      // Report what was generated before the failure, as a real provider's usage would.
      yield { type: 'usage', usage: { inputTokens: reply.inputTokens, outputTokens: sent, estimated: true } };
      throw error;
    }
    yield { type: 'finish', index: 0, reason: reply.truncated ? 'length' : 'stop' };
    yield { type: 'usage', usage: { inputTokens: reply.inputTokens, outputTokens: sent } };
  }
}

interface StreamReply {
  id: string;
  created: number;
  model: string;
  pieces: string[];
  truncated: boolean;
  toolCall: ToolCall | undefined;
  inputTokens: number;
}

/** The next token count at which an injected stall or disconnect must happen. */
function nextStop(sent: number, behavior: MockBehavior): number {
  let stop = Infinity;
  for (const at of [behavior.stallAfterTokens, behavior.disconnectAfterTokens]) if (at !== undefined && at >= sent) stop = Math.min(stop, at);
  return stop === sent ? sent : stop;
}

function paceMs(tokens: number, tokensPerSecond: number): number {
  return tokensPerSecond > 0 ? (tokens / tokensPerSecond) * 1000 : 0;
}

function countToolTokens(call: ToolCall): number {
  return countTextTokens(call.name) + countTextTokens(call.arguments);
}

/** Sleeps unless aborted; rejects with the signal's reason (a timeout or a client disconnect). */
async function abortableSleep(ms: number, signal: AttemptSignal): Promise<void> {
  if (signal.aborted) throw signal.reason;
  if (ms <= 0) return;
  // A plain timer and the attempt's own listener list: no AbortController per stream, which
  // mattered with thousands of open mock streams (benchmarks).
  await new Promise<void>((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort);
  });
}
