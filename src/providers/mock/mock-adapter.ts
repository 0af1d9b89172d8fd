import { randomUUID } from 'node:crypto';
import type { CanonicalRequest, CanonicalResponse, EmbeddingsRequest, EmbeddingsResponse, ToolCall } from '../../core/canonical.js';
import { GatewayError } from '../../core/errors.js';
import type { MockProviderConfig } from '../../config/schema.js';
import { countEmbeddingInputTokens, countTextTokens, estimatePromptTokens } from '../../usage/token-estimate.js';
import { errorForStatus } from '../classify-status.js';
import { toProviderTimeouts } from '../timeouts.js';
import type { AttemptContext, AttemptSignal, ChatOutcome, ProviderAdapter, ProviderTimeouts, TargetSpec } from '../provider-adapter.js';
import { MOCK_BEHAVIOR_HEADER, resolveBehavior, type MockBehavior } from './behavior.js';
import { mockEmbedding } from './embedding.js';
import { MockStream } from './mock-stream.js';
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
      const toolTokens = toolCall ? countToolTokens(toolCall) : 0;
      return { kind: 'stream', events: new MockStream({ id, created, model: target.model, pieces, truncated, toolCall, inputTokens, toolTokens }, behavior, context.signal, this.name) };
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
