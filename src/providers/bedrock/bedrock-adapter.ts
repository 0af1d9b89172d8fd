import type { Agent } from 'undici';
import type { BedrockProviderConfig } from '../../config/schema.js';
import type { CanonicalRequest, EmbeddingsResponse } from '../../core/canonical.js';
import { GatewayError } from '../../core/errors.js';
import { createUpstreamAgent, postJson, readBody, retryAfterSeconds, type UpstreamResponse, withTransportErrors } from '../../upstream/http-client.js';
import { estimatedUsage, promptTokenCounter } from '../../usage/token-estimate.js';
import { promptTokensOf, type AttemptContext, type ChatOutcome, type ProviderAdapter, type ProviderTimeouts, type TargetSpec } from '../provider-adapter.js';
import { toProviderTimeouts } from '../timeouts.js';
import { buildConverseBody } from './build-request.js';
import { decodeEventStream } from './event-stream.js';
import { bedrockError, readHttpError } from './parse-error.js';
import { badResponse, parseConverseResponse } from './parse-response.js';
import { parseConverseStream } from './parse-stream.js';
import { AwsSigner } from '../../upstream/aws-sigv4.js';

const EVENT_STREAM_TYPE = 'application/vnd.amazon.eventstream';

/**
 * Amazon Bedrock Runtime through Converse and ConverseStream: one wire format for every model
 * Bedrock hosts. Requests are signed with SigV4 over the exact bytes sent; streams arrive in the
 * binary AWS event-stream framing and are decoded as bytes come in.
 */
export class BedrockAdapter implements ProviderAdapter {
  readonly type = 'bedrock';
  readonly dialect = undefined;
  readonly timeouts: ProviderTimeouts;
  private readonly agent: Agent;
  private readonly origin: string;
  private readonly basePath: string;
  private readonly signer: AwsSigner;
  private readonly extraHeaders: Record<string, string>;
  private readonly secrets: string[];
  private readonly defaultMaxTokens: number;

  constructor(
    readonly name: string,
    config: BedrockProviderConfig,
  ) {
    this.timeouts = toProviderTimeouts(config.timeouts);
    const endpoint = new URL(config.endpoint ?? `https://bedrock-runtime.${config.region}.amazonaws.com`);
    this.origin = endpoint.origin;
    this.basePath = endpoint.pathname.replace(/\/+$/, '');
    this.signer = new AwsSigner(
      {
        accessKeyId: config.access_key_id,
        secretAccessKey: config.secret_access_key,
        ...(config.session_token ? { sessionToken: config.session_token } : {}),
      },
      config.region,
      endpoint,
    );
    this.agent = createUpstreamAgent({ connectTimeoutMs: this.timeouts.connectMs, maxConnections: config.max_connections });
    this.extraHeaders = Object.fromEntries(Object.entries(config.headers ?? {}).map(([name, value]) => [name.toLowerCase(), value]));
    // The access key id is not secret, but nothing gains from showing it either.
    this.secrets = [config.secret_access_key, config.session_token ?? '', config.access_key_id, ...Object.values(this.extraHeaders)];
    this.defaultMaxTokens = config.default_max_tokens;
  }

  async chat(request: CanonicalRequest, target: TargetSpec, context: AttemptContext): Promise<ChatOutcome> {
    const body = JSON.stringify(buildConverseBody(request, target, { defaultMaxTokens: this.defaultMaxTokens }));
    const path = `${this.basePath}/model/${encodeModelId(target.model)}/${request.stream ? 'converse-stream' : 'converse'}`;
    const response = await this.send(path, body, request.stream, context);
    const id = headerValue(response.headers, 'x-amzn-requestid') ?? context.requestId;
    if (!request.stream) {
      const parsed = parseConverseResponse(await readBody(response, context.signal), this.name, id, target.model);
      const answer = parsed.response;
      if (parsed.usageMissing) {
        const choice = answer.choices[0];
        answer.usage = estimatedUsage(promptTokenCounter(request), (choice?.content ?? '') + (choice?.toolCalls ?? []).map((call) => call.arguments).join(''));
      }
      return { kind: 'response', usage: answer.usage, response: () => answer };
    }
    const contentType = headerValue(response.headers, 'content-type') ?? '';
    if (!contentType.includes(EVENT_STREAM_TYPE)) {
      await readBody(response, context.signal).catch(() => '');
      throw badResponse(this.name, `a ${contentType || 'typeless'} body to a streaming request`);
    }
    const frames = decodeEventStream(withTransportErrors(response.body, context.signal));
    const events = parseConverseStream(frames, { provider: this.name, promptTokens: promptTokensOf(request, context), id, model: target.model, secrets: this.secrets });
    return { kind: 'stream', events };
  }

  embeddings(): Promise<EmbeddingsResponse> {
    return Promise.reject(
      new GatewayError('BB_UNSUPPORTED_OPERATION', `Provider "${this.name}" (Bedrock Converse) does not offer embeddings.`),
    );
  }

  async close(): Promise<void> {
    await this.agent.close();
  }

  /** Signs and sends the body; a non-2xx answer is read and thrown as a classified GatewayError. */
  private async send(path: string, body: string, stream: boolean, context: AttemptContext): Promise<UpstreamResponse> {
    const unsigned = {
      ...this.extraHeaders,
      ...context.forwardHeaders,
      'content-type': 'application/json',
      accept: stream ? EVENT_STREAM_TYPE : 'application/json',
      'x-request-id': context.requestId,
    };
    const headers = await this.signer.sign({ path, headers: unsigned, body });
    const response = await postJson(this.agent, { origin: this.origin, path, headers, body, signal: context.signal });
    if (response.status >= 200 && response.status < 300) return response;
    const text = await readBody(response, context.signal).catch(() => '');
    const { type, message } = readHttpError(response.headers, text);
    const retryAfter = retryAfterSeconds(response.headers);
    throw bedrockError({
      provider: this.name,
      status: response.status,
      type,
      message,
      secrets: this.secrets,
      ...(retryAfter !== undefined ? { retryAfterSeconds: retryAfter } : {}),
    });
  }

}

/**
 * The model id as a path segment, encoded the way AWS SDKs encode URI labels: ':' and '/' (in
 * ARNs and inference profile ids) and the characters encodeURIComponent leaves alone.
 */
export function encodeModelId(model: string): string {
  return encodeURIComponent(model).replace(/[!'()*]/g, (char) => `%${char.charCodeAt(0).toString(16).toUpperCase()}`);
}

function headerValue(headers: UpstreamResponse['headers'], name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}
