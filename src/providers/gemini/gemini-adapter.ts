import type { Agent } from 'undici';
import type { CanonicalRequest, EmbeddingsRequest, EmbeddingsResponse } from '../../core/canonical.js';
import { countEmbeddingInputTokens } from '../../usage/token-estimate.js';
import { createUpstreamAgent, postJson, readBody, retryAfterSeconds, type UpstreamResponse, withTransportErrors } from '../../upstream/http-client.js';
import { parseSseStream } from '../../upstream/sse-parser.js';
import { promptTokensOf, type AttemptContext, type ChatOutcome, type ProviderAdapter, type ProviderTimeouts, type TargetSpec } from '../provider-adapter.js';
import { buildGenerateContentBody } from './build-request.js';
import { buildBatchEmbedBody, EMBED_BATCH_SIZE, embeddingTexts, embedOptions, parseBatchEmbed, toBase64Floats } from './embeddings.js';
import { parseGeminiError, readGoogleErrorText } from './parse-error.js';
import { badResponse, parseGenerateContent, type ParseContext } from './parse-response.js';
import { openGeminiStream } from './parse-stream.js';

export interface GeminiAdapterOptions {
  name: string;
  /** Base URL without the version segment, e.g. https://generativelanguage.googleapis.com. */
  baseUrl: string;
  apiVersion: string;
  apiKey: string;
  extraHeaders: Record<string, string>;
  timeouts: ProviderTimeouts;
  maxConnections: number;
}

/**
 * Google AI Studio's Gemini API: generateContent, streamGenerateContent?alt=sse and
 * batchEmbedContents. The key travels in the x-goog-api-key header only, never in the URL (URLs
 * end up in logs and traces).
 */
export class GeminiAdapter implements ProviderAdapter {
  readonly name: string;
  readonly type = 'gemini';
  /** No client speaks Gemini's format, so there is no passthrough. */
  readonly dialect = undefined;
  readonly timeouts: ProviderTimeouts;
  private readonly agent: Agent;
  private readonly origin: string;
  private readonly versionPath: string;
  private readonly baseHeaders: Record<string, string>;
  private readonly parseContext: ParseContext;
  /** Built paths per upstream model, so nothing is re-encoded per request. */
  private readonly modelPaths = new Map<string, string>();

  constructor(options: GeminiAdapterOptions) {
    this.name = options.name;
    this.timeouts = options.timeouts;
    const base = new URL(options.baseUrl);
    this.origin = base.origin;
    this.versionPath = `${base.pathname.replace(/\/+$/, '')}/${encodeURIComponent(options.apiVersion)}`;
    this.agent = createUpstreamAgent({ connectTimeoutMs: options.timeouts.connectMs, maxConnections: options.maxConnections });
    const extra = Object.fromEntries(Object.entries(options.extraHeaders).map(([name, value]) => [name.toLowerCase(), value]));
    this.baseHeaders = { 'content-type': 'application/json', ...extra, 'x-goog-api-key': options.apiKey };
    this.parseContext = { provider: options.name, secrets: [options.apiKey, ...Object.values(extra)] };
  }

  async chat(request: CanonicalRequest, target: TargetSpec, context: AttemptContext): Promise<ChatOutcome> {
    const body = JSON.stringify(buildGenerateContentBody(request, target));
    const fallback = { id: `gemini-${context.requestId}`, model: target.model };
    const path = `${this.modelPath(target.model)}${request.stream ? ':streamGenerateContent?alt=sse' : ':generateContent'}`;
    const response = await this.send(path, body, context);
    if (!request.stream) {
      const parsed = parseGenerateContent(await readBody(response, context.signal), this.parseContext, request, fallback);
      return { kind: 'response', usage: parsed.usage, response: () => parsed };
    }
    const contentType = String(response.headers['content-type'] ?? '');
    if (!contentType.includes('text/event-stream')) {
      await readBody(response, context.signal).catch(() => '');
      throw badResponse(this.name, `a ${contentType || 'typeless'} body to a streaming request`);
    }
    const sse = withTransportErrors(parseSseStream(response.body), context.signal);
    const events = await openGeminiStream(sse, { ...this.parseContext, promptTokens: promptTokensOf(request, context), fallback });
    return { kind: 'stream', events };
  }

  async embeddings(request: EmbeddingsRequest, target: TargetSpec, context: AttemptContext): Promise<EmbeddingsResponse> {
    const texts = embeddingTexts(request);
    const options = embedOptions(request, target);
    const modelPath = this.modelPath(target.model);
    const vectors: number[][] = [];
    for (let at = 0; at < texts.length; at += EMBED_BATCH_SIZE) {
      const batch = texts.slice(at, at + EMBED_BATCH_SIZE);
      const response = await this.send(`${modelPath}:batchEmbedContents`, buildBatchEmbedBody(modelResource(target.model), batch, options), context);
      vectors.push(...parseBatchEmbed(await readBody(response, context.signal), this.parseContext, batch.length));
    }
    const base64 = request.encodingFormat === 'base64';
    return {
      model: target.model,
      data: vectors.map((values, index) => ({ index, embedding: base64 ? toBase64Floats(values) : values })),
      // Gemini reports no token count for embeddings: the gateway counts with its tokenizer.
      usage: { inputTokens: countEmbeddingInputTokens(request.input) },
    };
  }

  async close(): Promise<void> {
    await this.agent.close();
  }

  /** `/v1beta/models/<model>`; a model given as a resource name (`tunedModels/x`) is kept as is. */
  private modelPath(model: string): string {
    let path = this.modelPaths.get(model);
    if (path === undefined) {
      path = `${this.versionPath}/${modelResource(model).split('/').map(encodeURIComponent).join('/')}`;
      this.modelPaths.set(model, path);
    }
    return path;
  }

  /** Sends the body; a non-2xx answer is read and thrown as a classified GatewayError. */
  private async send(path: string, body: string, context: AttemptContext): Promise<UpstreamResponse> {
    const headers = { ...context.forwardHeaders, ...this.baseHeaders, 'x-request-id': context.requestId };
    const response = await postJson(this.agent, { origin: this.origin, path, headers, body, signal: context.signal });
    if (response.status >= 200 && response.status < 300) return response;
    const text = await readBody(response, context.signal).catch(() => '');
    const { secrets, provider } = this.parseContext;
    throw parseGeminiError(response.status, readGoogleErrorText(text), retryAfterSeconds(response.headers), secrets, provider);
  }

}

/** Gemini's resource name for a model: `models/<name>` unless already a resource path. */
function modelResource(model: string): string {
  return model.includes('/') ? model : `models/${model}`;
}
