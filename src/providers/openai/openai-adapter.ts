import type { Agent } from 'undici';
import type { CanonicalRequest, CanonicalResponse, EmbeddingsRequest, EmbeddingsResponse } from '../../core/canonical.js';
import { GatewayError } from '../../core/errors.js';
import { countEmbeddingInputTokens, estimatedUsage, promptTokenCounter } from '../../usage/token-estimate.js';
import { createUpstreamAgent, postJson, readBody, retryAfterSeconds, streamedBody, type UpstreamResponse, withTransportErrors } from '../../upstream/http-client.js';
import { parseSseStream } from '../../upstream/sse-parser.js';
import { promptTokensOf, type AttemptContext, type ChatOutcome, type ProviderAdapter, type ProviderTimeouts, type TargetSpec } from '../provider-adapter.js';
import { buildChatBody, buildEmbeddingsBody, OPENAI_WIRE_DIALECT } from './build-request.js';
import { parseOpenAIError } from './parse-error.js';
import { badResponse, parseChatResponse, parseEmbeddingsResponse, readChatUsage } from './parse-response.js';
import { parseOpenAIStream } from './parse-stream.js';
import type { OpenAIWireProfile } from './wire-profile.js';

/** The upstream calls an OpenAI-speaking server offers. */
export type OpenAIOperation = 'chat' | 'embeddings';

export interface OpenAIAdapterOptions {
  name: string;
  type: string;
  baseUrl: string;
  /** Headers that authenticate to the upstream; their values count as secrets. */
  authHeaders: Record<string, string>;
  extraHeaders: Record<string, string>;
  timeouts: ProviderTimeouts;
  maxConnections: number;
  profile: OpenAIWireProfile;
  /**
   * The upstream path of an operation for a target model, for servers that put the model in the
   * URL (Azure deployments). Runs per request, so it should return cached strings. Default: the
   * fixed `/chat/completions` and `/embeddings` under the base URL's path.
   */
  pathFor?: (operation: OpenAIOperation, model: string) => string;
  /**
   * Classifies a provider-specific error answer before OpenAI's rules (e.g. Azure's content
   * filter); undefined falls through to them. `body` is raw: redact it with `secrets` before quoting.
   */
  classifyError?: (status: number, body: string, secrets: readonly string[]) => GatewayError | undefined;
}

/** Any server speaking OpenAI's chat completions and embeddings API, shaped by a wire profile. */
export class OpenAIAdapter implements ProviderAdapter {
  readonly name: string;
  readonly type: string;
  readonly dialect = OPENAI_WIRE_DIALECT;
  readonly timeouts: ProviderTimeouts;
  private readonly agent: Agent;
  private readonly origin: string;
  private readonly chatPath: string;
  private readonly embeddingsPath: string;
  private readonly baseHeaders: Record<string, string>;
  private readonly secrets: string[];

  constructor(private readonly options: OpenAIAdapterOptions) {
    this.name = options.name;
    this.type = options.type;
    this.timeouts = options.timeouts;
    const base = new URL(options.baseUrl);
    const basePath = base.pathname.replace(/\/+$/, '');
    this.origin = base.origin;
    this.chatPath = `${basePath}/chat/completions`;
    this.embeddingsPath = `${basePath}/embeddings`;
    this.agent = createUpstreamAgent({ connectTimeoutMs: options.timeouts.connectMs, maxConnections: options.maxConnections });
    // Header names are matched case-insensitively upstream; lower-case them so auth wins cleanly.
    const extra = Object.fromEntries(Object.entries(options.extraHeaders).map(([name, value]) => [name.toLowerCase(), value]));
    this.baseHeaders = { 'content-type': 'application/json', ...extra, ...options.authHeaders };
    // Configured header values may be credentials too (e.g. a vendor's own key header).
    this.secrets = [...Object.values(options.authHeaders), ...Object.values(extra)].flatMap((value) => [value, value.replace(/^Bearer /, '')]);
  }

  async chat(request: CanonicalRequest, target: TargetSpec, context: AttemptContext): Promise<ChatOutcome> {
    const body = buildChatBody(request, target, this.options.profile);
    const path = this.options.pathFor ? this.options.pathFor('chat', target.model) : this.chatPath;
    const response = await this.send(path, body, context);
    if (!request.stream) return this.readChatResponse(request, await readBody(response, context.signal));
    const contentType = String(response.headers['content-type'] ?? '');
    if (!contentType.includes('text/event-stream')) {
      await readBody(response, context.signal).catch(() => '');
      throw badResponse(this.name, `a ${contentType || 'typeless'} body to a streaming request`);
    }
    const passthrough = request.source?.dialect === this.dialect;
    const upstream = streamedBody(response.body);
    const sse = withTransportErrors(parseSseStream(upstream.chunks), context.signal);
    const events = parseOpenAIStream(sse, {
      onDone: upstream.complete,
      provider: this.name,
      streamUsage: request.streamUsage,
      promptTokens: promptTokensOf(request, context),
      passthrough,
      secrets: this.secrets,
    });
    return { kind: 'stream', events };
  }

  /**
   * A whole chat answer. For an OpenAI-dialect client only the usage is read and the body goes back
   * unchanged; the canonical form is built only when asked for (or when usage must be estimated).
   */
  private readChatResponse(request: CanonicalRequest, text: string): ChatOutcome {
    const raw = { dialect: this.dialect, body: text };
    if (request.source?.dialect === this.dialect) {
      const usage = readChatUsage(text, this.name);
      if (usage) {
        let parsed: CanonicalResponse | undefined;
        return { kind: 'response', usage, response: () => (parsed ??= parseChatResponse(text, this.name).response), raw };
      }
    }
    const { response: parsed, usageMissing } = parseChatResponse(text, this.name);
    if (usageMissing) parsed.usage = estimatedUsage(promptTokenCounter(request), parsed.choices.map((choice) => choice.content ?? '').join(''));
    return { kind: 'response', usage: parsed.usage, response: () => parsed, ...(usageMissing ? {} : { raw }) };
  }

  async embeddings(request: EmbeddingsRequest, target: TargetSpec, context: AttemptContext): Promise<EmbeddingsResponse> {
    if (!this.options.profile.embeddings) {
      throw new GatewayError('BB_UNSUPPORTED_OPERATION', `Provider "${this.name}" does not offer embeddings.`);
    }
    const path = this.options.pathFor ? this.options.pathFor('embeddings', target.model) : this.embeddingsPath;
    const response = await this.send(path, buildEmbeddingsBody(request, target), context);
    const parsed = parseEmbeddingsResponse(await readBody(response, context.signal), this.name, target.model);
    if (parsed.usage.inputTokens === 0) parsed.usage.inputTokens = countEmbeddingInputTokens(request.input);
    return parsed;
  }

  async close(): Promise<void> {
    await this.agent.close();
  }

  /** Sends the body; a non-2xx answer is read and thrown as a classified GatewayError. */
  private async send(path: string, body: Record<string, unknown>, context: AttemptContext): Promise<UpstreamResponse> {
    const headers = { ...this.baseHeaders, ...context.forwardHeaders, 'x-request-id': context.requestId };
    const response = await postJson(this.agent, { origin: this.origin, path, headers, body: JSON.stringify(body), signal: context.signal });
    if (response.status >= 200 && response.status < 300) return response;
    const text = await readBody(response, context.signal).catch(() => '');
    const special = this.options.classifyError?.(response.status, text, this.secrets);
    if (special) throw special;
    throw parseOpenAIError(response.status, text, retryAfterSeconds(response.headers), this.secrets, this.name);
  }

}

