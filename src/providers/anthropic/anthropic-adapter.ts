import type { Agent } from 'undici';
import type { CanonicalRequest, CanonicalResponse, EmbeddingsRequest, EmbeddingsResponse } from '../../core/canonical.js';
import { ANTHROPIC_MESSAGES_DIALECT } from '../../core/dialect-names.js';
import { GatewayError } from '../../core/errors.js';
import { createUpstreamAgent, postJson, readBody, retryAfterSeconds, type UpstreamResponse, withTransportErrors } from '../../upstream/http-client.js';
import { parseSseStream } from '../../upstream/sse-parser.js';
import { countTextTokens, estimatePromptTokens } from '../../usage/token-estimate.js';
import { promptTokensOf, type AttemptContext, type ChatOutcome, type ProviderAdapter, type ProviderTimeouts, type TargetSpec } from '../provider-adapter.js';
import { buildMessagesBody } from './build-request.js';
import { parseAnthropicError } from './parse-error.js';
import { badResponse, parseMessageResponse, readMessageUsage } from './parse-response.js';
import { parseAnthropicStream } from './parse-stream.js';

export interface AnthropicAdapterOptions {
  name: string;
  /** Base URL without /v1, as the Anthropic SDKs take it. */
  baseUrl: string;
  apiKey: string;
  /** The anthropic-version header. */
  version: string;
  defaultMaxTokens: number;
  extraHeaders: Record<string, string>;
  timeouts: ProviderTimeouts;
  maxConnections: number;
}

/** Anthropic's Messages API (POST /v1/messages), streaming and not. */
export class AnthropicAdapter implements ProviderAdapter {
  readonly name: string;
  readonly type = 'anthropic';
  readonly dialect = ANTHROPIC_MESSAGES_DIALECT;
  readonly timeouts: ProviderTimeouts;
  private readonly agent: Agent;
  private readonly origin: string;
  private readonly messagesPath: string;
  private readonly baseHeaders: Record<string, string>;
  private readonly secrets: string[];

  constructor(private readonly options: AnthropicAdapterOptions) {
    this.name = options.name;
    this.timeouts = options.timeouts;
    const base = new URL(options.baseUrl);
    this.origin = base.origin;
    this.messagesPath = `${base.pathname.replace(/\/+$/, '')}/v1/messages`;
    this.agent = createUpstreamAgent({ connectTimeoutMs: options.timeouts.connectMs, maxConnections: options.maxConnections });
    // Lower-cased so the gateway's own auth and version headers cleanly win over configured ones.
    const extra = Object.fromEntries(Object.entries(options.extraHeaders).map(([name, value]) => [name.toLowerCase(), value]));
    this.baseHeaders = { ...extra, 'content-type': 'application/json', 'x-api-key': options.apiKey, 'anthropic-version': options.version };
    // Configured header values may be credentials too (e.g. a proxy's own key header).
    this.secrets = [options.apiKey, ...Object.values(extra)];
  }

  async chat(request: CanonicalRequest, target: TargetSpec, context: AttemptContext): Promise<ChatOutcome> {
    const { body, jsonTool } = buildMessagesBody(request, target, { defaultMaxTokens: this.options.defaultMaxTokens });
    const passthrough = request.source?.dialect === this.dialect;
    const response = await this.send(body, passthrough, context);
    if (!request.stream) return this.readResponse(request, await readBody(response, context.signal), passthrough, jsonTool);
    const contentType = String(response.headers['content-type'] ?? '');
    if (!contentType.includes('text/event-stream')) {
      await readBody(response, context.signal).catch(() => '');
      throw badResponse(this.name, `a ${contentType || 'typeless'} body to a streaming request`);
    }
    const events = parseAnthropicStream(withTransportErrors(parseSseStream(response.body), context.signal), {
      provider: this.name,
      promptTokens: promptTokensOf(request, context),
      passthrough,
      secrets: this.secrets,
      jsonTool,
    });
    return { kind: 'stream', events };
  }

  /**
   * A whole answer. For an Anthropic-dialect client only the usage is read and the body goes back
   * unchanged; the canonical form is built only when something asks for it.
   */
  private readResponse(request: CanonicalRequest, text: string, passthrough: boolean, jsonTool: string | undefined): ChatOutcome {
    const raw = { dialect: this.dialect, body: text };
    if (passthrough) {
      const usage = readMessageUsage(text, this.name);
      if (usage) {
        let parsed: CanonicalResponse | undefined;
        return { kind: 'response', usage, response: () => (parsed ??= parseMessageResponse(text, this.name).response), raw };
      }
    }
    const { response, usageMissing } = parseMessageResponse(text, this.name, { jsonTool });
    if (usageMissing) {
      const output = response.choices.map((choice) => choice.content ?? '').join('');
      response.usage = { inputTokens: estimatePromptTokens(request), outputTokens: countTextTokens(output), estimated: true };
    }
    return { kind: 'response', usage: response.usage, response: () => response, ...(usageMissing || jsonTool !== undefined ? {} : { raw }) };
  }

  async embeddings(_request: EmbeddingsRequest, _target: TargetSpec, _context: AttemptContext): Promise<EmbeddingsResponse> {
    throw new GatewayError('BB_UNSUPPORTED_OPERATION', `Provider "${this.name}" (Anthropic) does not offer embeddings.`);
  }

  async close(): Promise<void> {
    await this.agent.close();
  }

  /** Sends the body; a non-2xx answer is read and thrown as a classified GatewayError. */
  private async send(body: Record<string, unknown>, passthrough: boolean, context: AttemptContext): Promise<UpstreamResponse> {
    const headers: Record<string, string> = { ...this.baseHeaders, ...context.forwardHeaders, 'x-request-id': context.requestId };
    if (passthrough) addClientBetas(headers, context.clientHeaders['anthropic-beta']);
    const response = await postJson(this.agent, {
      origin: this.origin,
      path: this.messagesPath,
      headers,
      body: JSON.stringify(body),
      signal: context.signal,
    });
    if (response.status >= 200 && response.status < 300) return response;
    const text = await readBody(response, context.signal).catch(() => '');
    throw parseAnthropicError(response.status, text, retryAfterSeconds(response.headers), this.secrets, this.name);
  }

}

/**
 * An Anthropic client's beta flags travel with its own body (passthrough), added to configured
 * ones: the body may use fields that only exist under those betas.
 */
function addClientBetas(headers: Record<string, string>, value: string | string[] | undefined): void {
  if (value === undefined) return;
  const flags = (Array.isArray(value) ? value.join(',') : value)
    .split(',')
    .map((flag) => flag.trim())
    .filter((flag) => flag !== '');
  if (flags.length === 0) return;
  const configured = headers['anthropic-beta'];
  const all = configured ? [...configured.split(',').map((flag) => flag.trim()), ...flags] : flags;
  headers['anthropic-beta'] = [...new Set(all)].join(',');
}
