import { z } from 'zod';
import { identityConfigFields, planLimitsSchema, staticKeyIdentityFields } from './identity-schema.js';
import { analyticsSchema } from './analytics-schema.js';
import { auditSchema } from './audit-schema.js';
import { jwtSchema } from './jwt-schema.js';
import { ledgerSchema } from './ledger-schema.js';
import { limitsSchema } from './limits-schema.js';
import { pricingSchema } from './pricing-schema.js';
import { guardrailsSchema } from './guardrails-schema.js';
import { modelRoutingFields, routingSchema, targetRoutingFields } from './routing-schema.js';
import { telemetryConfigFields } from './telemetry-schema.js';
import { OPENAI_COMPATIBLE_VENDOR_NAMES } from './vendor-names.js';

/**
 * The config schema: the one source for validation, the editor JSON Schema
 * (schema/breakerbox.schema.json) and the key reference in docs/configuration.md.
 * Every object is strict, so a misspelt key is an error with its path, never silently ignored.
 */

const SIZE_PATTERN = /^(\d+(?:\.\d+)?)\s*(b|kb|mb|gb)?$/i;
const SIZE_FACTORS: Record<string, number> = { b: 1, kb: 1024, mb: 1024 ** 2, gb: 1024 ** 3 };

/** Bytes as a number or a string such as "20mb". */
const byteSize = z
  .union([z.number().int().positive(), z.string().regex(SIZE_PATTERN, 'expected a size such as 512kb or 20mb')])
  .transform((value) => {
    if (typeof value === 'number') return value;
    const match = SIZE_PATTERN.exec(value.trim()) as RegExpExecArray;
    return Math.round(Number(match[1]) * (SIZE_FACTORS[(match[2] ?? 'b').toLowerCase()] ?? 1));
  })
  .refine((bytes) => bytes >= 1, 'must be at least 1 byte');

const milliseconds = z.number().int().positive();

const timeoutsSchema = z
  .strictObject({
    connect_ms: milliseconds.default(10_000).describe('Time to open the TCP/TLS connection to the upstream.'),
    first_byte_ms: milliseconds
      .default(120_000)
      .describe('Streaming: time from sending the request to the first streamed event.'),
    idle_ms: milliseconds.default(60_000).describe('Streaming: longest allowed gap between two streamed events.'),
    total_ms: milliseconds
      .default(600_000)
      .describe('Non-streaming: time for the whole upstream answer (streams are bounded by idle_ms instead).'),
  })
  .describe('Upstream timeouts. A timeout gives 504, or a terminal stream error once streaming has begun.');

const headersSchema = z
  .record(z.string(), z.string())
  .describe('Extra headers sent on every upstream request (values may use ${env:NAME}).');

const httpProviderFields = {
  timeouts: timeoutsSchema.prefault({}),
  max_connections: z
    .number()
    .int()
    .positive()
    .default(1024)
    .describe('Most open connections to this upstream; long-lived streams each hold one.'),
  headers: headersSchema.optional(),
  trust: z
    .enum(['internal', 'external'])
    .default('external')
    .describe('Whether the provider runs inside your trust boundary (used by guardrail egress rules).'),
};

const openaiProviderSchema = z
  .strictObject({
    type: z.literal('openai'),
    api_key: z.string().min(1).describe('OpenAI API key. Use ${env:OPENAI_API_KEY}; never commit it.'),
    base_url: z.url().default('https://api.openai.com/v1').describe('API base URL, up to and including /v1.'),
    organization: z.string().optional().describe('Sent as OpenAI-Organization.'),
    project: z.string().optional().describe('Sent as OpenAI-Project.'),
    ...httpProviderFields,
  })
  .describe('The official OpenAI API.');

const openaiCompatibleProviderSchema = z
  .strictObject({
    type: z.literal('openai-compatible'),
    vendor: z
      .enum(OPENAI_COMPATIBLE_VENDOR_NAMES)
      .default('generic')
      .describe('Which server this is, so its known quirks are handled (see docs/configuration.md).'),
    base_url: z
      .url()
      .optional()
      .describe('API base URL up to and including the version path, e.g. http://127.0.0.1:8000/v1. Hosted vendors have a default; generic and vllm need it.'),
    api_key: z.string().min(1).optional().describe('Bearer key, when the server needs one.'),
    ...httpProviderFields,
  })
  .describe('Any server speaking the OpenAI API: vLLM, Ollama, Groq, Mistral, Together, DeepSeek, OpenRouter, ...');

const mockFailureSchema = z
  .strictObject({
    status: z.number().int().min(400).max(599).optional().describe('Answer every request with this HTTP status.'),
    retry_after_s: z.number().int().nonnegative().optional().describe('Retry-After seconds sent with `status`.'),
    slow_start_ms: z.number().int().nonnegative().optional().describe('Extra delay before the first token.'),
    stall_after_tokens: z
      .number()
      .int()
      .nonnegative()
      .optional()
      .describe('Streams stop sending (without closing) after this many tokens.'),
    disconnect_after_tokens: z
      .number()
      .int()
      .nonnegative()
      .optional()
      .describe('Streams break off, as a dropped connection, after this many tokens.'),
  })
  .describe('Failure injection for every request; a request header can pick one per request (see docs/configuration.md).');

const mockProviderSchema = z
  .strictObject({
    type: z.literal('mock'),
    reply: z
      .strictObject({
        mode: z.enum(['lorem', 'fixed', 'echo']).default('lorem').describe('lorem: N tokens of lorem ipsum; fixed: `text`; echo: the last user message.'),
        text: z.string().default('Hello from the Breakerbox mock provider.').describe('The reply in fixed mode.'),
        tokens: z.number().int().positive().max(100_000).default(48).describe('Reply length in lorem mode, in tokens.'),
      })
      .prefault({})
      .describe('What the mock answers.'),
    ttft_ms: z.number().int().nonnegative().default(0).describe('Delay before the first token.'),
    tokens_per_second: z
      .number()
      .nonnegative()
      .default(0)
      .describe('Streaming pace; 0 sends all tokens at once.'),
    embedding_dimensions: z.number().int().positive().max(8192).default(256).describe('Length of mock embedding vectors.'),
    failure: mockFailureSchema.optional(),
    timeouts: timeoutsSchema.prefault({}),
    header_control: z
      .boolean()
      .default(true)
      .describe('Honour the `x-mock-behavior` request header (failure injection per request).'),
    trust: httpProviderFields.trust,
  })
  .describe('The built-in deterministic fake LLM: no network, for the quick start, tests and benchmarks.');

const anthropicProviderSchema = z
  .strictObject({
    type: z.literal('anthropic'),
    api_key: z.string().min(1).describe('Anthropic API key (sent as x-api-key). Use ${env:ANTHROPIC_API_KEY}.'),
    base_url: z.url().default('https://api.anthropic.com').describe('API base URL without /v1, as the Anthropic SDKs take it.'),
    version: z.string().default('2023-06-01').describe('The anthropic-version header sent upstream.'),
    default_max_tokens: z
      .number()
      .int()
      .positive()
      .default(4096)
      .describe('max_tokens sent when the client gave none (Anthropic requires it).'),
    ...httpProviderFields,
  })
  .describe("Anthropic's Messages API.");

const geminiProviderSchema = z
  .strictObject({
    type: z.literal('gemini'),
    api_key: z.string().min(1).describe('Google AI Studio key, sent in the x-goog-api-key header (never in the URL). Use ${env:GEMINI_API_KEY}.'),
    base_url: z
      .url()
      .default('https://generativelanguage.googleapis.com')
      .describe('API base URL without the version path.'),
    api_version: z.string().default('v1beta').describe('API version path segment.'),
    ...httpProviderFields,
  })
  .describe('Google Gemini through the Google AI Studio API (generateContent, streamGenerateContent, batchEmbedContents).');

const azureOpenAIProviderSchema = z
  .strictObject({
    type: z.literal('azure-openai'),
    endpoint: z.url().describe('The resource endpoint, e.g. https://my-resource.openai.azure.com. Targets name deployments as `model`.'),
    api_key: z.string().min(1).describe('Sent as the api-key header. Use ${env:AZURE_OPENAI_API_KEY}.'),
    api_version: z.string().default('2024-10-21').describe('The api-version query parameter.'),
    ...httpProviderFields,
  })
  .describe('Azure OpenAI: OpenAI models behind deployment URLs.');

const bedrockProviderSchema = z
  .strictObject({
    type: z.literal('bedrock'),
    region: z.string().min(1).describe('AWS region, e.g. us-east-1. Use ${env:AWS_REGION}.'),
    access_key_id: z.string().min(1).describe('AWS access key id. Use ${env:AWS_ACCESS_KEY_ID}.'),
    secret_access_key: z.string().min(1).describe('AWS secret access key. Use ${env:AWS_SECRET_ACCESS_KEY}.'),
    session_token: z.string().min(1).optional().describe('AWS session token for temporary credentials.'),
    endpoint: z
      .url()
      .optional()
      .describe('Bedrock runtime endpoint; defaults to https://bedrock-runtime.<region>.amazonaws.com.'),
    default_max_tokens: z.number().int().positive().default(4096).describe('maxTokens sent when the client gave none.'),
    ...httpProviderFields,
  })
  .describe('Amazon Bedrock Converse and ConverseStream, signed with AWS SigV4.');

export const PROVIDER_TYPES = ['openai', 'openai-compatible', 'anthropic', 'gemini', 'azure-openai', 'bedrock', 'mock'] as const;

function describeBadProviderType(type: unknown): string {
  const expected = `expected one of: ${PROVIDER_TYPES.join(', ')}`;
  return type === undefined ? `missing provider type (${expected})` : `unknown provider type ${JSON.stringify(type)} (${expected})`;
}

const providerSchema = z.discriminatedUnion(
  'type',
  [openaiProviderSchema, openaiCompatibleProviderSchema, anthropicProviderSchema, geminiProviderSchema, azureOpenAIProviderSchema, bedrockProviderSchema, mockProviderSchema],
  {
  error: (issue) =>
    issue.code === 'invalid_union'
      ? describeBadProviderType((issue.input as { type?: unknown } | undefined)?.type)
      : undefined,
  },
);

/** Request fields a target's params may not override: the gateway sets them per request. */
const RESERVED_PARAMS: ReadonlySet<string> = new Set(['model', 'messages', 'input', 'stream', 'stream_options']);

const targetSchema = z.strictObject({
  provider: z.string().min(1).describe('Name of an entry under `providers`.'),
  model: z.string().min(1).describe('The model name the upstream knows, e.g. gpt-4o-mini.'),
  params: z
    .record(z.string(), z.unknown())
    .refine((params) => !Object.keys(params).some((key) => RESERVED_PARAMS.has(key)), {
      message: `may not set ${[...RESERVED_PARAMS].join(', ')} (the gateway owns them)`,
    })
    .optional()
    .describe(
      'Request fields forced on every call to this target, e.g. { temperature: 0.2 }. OpenAI field names where OpenAI has one; provider-specific keys (e.g. Anthropic top_k) are sent as they are (see docs/providers.md).',
    ),
  ...targetRoutingFields,
});

const modelSchema = z
  .strictObject({
    description: z.string().optional().describe('Free text, for people.'),
    targets: z.array(targetSchema).min(1).describe('Where requests for this name go, ordered by `strategy`; healthy targets first.'),
    ...modelRoutingFields,
    limits: planLimitsSchema.optional().describe('Limits shared by every caller of this model (on top of each caller\'s plan).'),
  })
  .describe('A public model name clients use.');

const apiKeySchema = z.strictObject({
  name: z.string().min(1).describe('A label for logs and records.'),
  key: z.string().min(8).describe('The secret clients send. Use ${env:NAME} outside local demos.'),
  models: z.array(z.string()).optional().describe('Public model names this key may use; all when omitted.'),
  ...staticKeyIdentityFields,
});

export const configSchema = z
  .strictObject({
    server: z
      .strictObject({
        host: z.string().default('127.0.0.1').describe('Address to bind. Loopback by default; use 0.0.0.0 to serve a network.'),
        port: z.number().int().min(0).max(65_535).default(8080).describe('TCP port; 0 picks a free one.'),
        max_body_bytes: byteSize.default(20 * 1024 * 1024).describe('Largest request body (number of bytes, or "20mb").'),
        shutdown_grace_ms: milliseconds
          .default(10_000)
          .describe('On SIGTERM or SIGINT, how long open requests may finish; streams still open near the end get a terminal BB_SHUTTING_DOWN event.'),
        keep_alive_timeout_ms: milliseconds.default(65_000).describe('Idle keep-alive time for client connections.'),
        max_in_flight: z
          .number()
          .int()
          .nonnegative()
          .default(10_000)
          .describe('Load shedding: with this many requests running on the instance, new ones get a fast 503 BB_GATEWAY_BUSY with Retry-After: 1 (probes excepted). 0 turns it off.'),
        watch_config: z
          .boolean()
          .default(true)
          .describe('Reload the config when its file changes (SIGHUP always reloads). Only `breakerbox start` watches.'),
      })
      .prefault({})
      .describe('The HTTP listener.'),
    auth: z
      .strictObject({
        disabled: z.boolean().default(false).describe('Serve without API keys. Only for local experiments.'),
        api_keys: z.array(apiKeySchema).default([]).describe('Static API keys.'),
        default_plan: z.string().min(1).optional().describe('Plan of callers whose key, user and team name none.'),
        jwt: jwtSchema.optional().describe('Accept bearer JWTs (OIDC) next to API keys.'),
      })
      .prefault({})
      .describe('Who may call the gateway.'),
    providers: z.record(z.string().min(1), providerSchema).describe('Upstream providers by name, referenced from model targets.'),
    models: z.record(z.string().regex(/^\S+$/, 'model names contain no spaces'), modelSchema).describe('Public model names.'),
    ...identityConfigFields,
    limits: limitsSchema,
    routing: routingSchema,
    guardrails: guardrailsSchema,
    pricing: pricingSchema,
    ledger: ledgerSchema,
    analytics: analyticsSchema,
    audit: auditSchema,
    ...telemetryConfigFields,
    logging: z
      .strictObject({
        level: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info').describe('Least severe level written.'),
        requests: z.boolean().default(true).describe('Write one line per request.'),
      })
      .prefault({})
      .describe('Structured JSON logs on stdout.'),
  });

/** A validated config with defaults applied. */
export type Config = z.output<typeof configSchema>;
export type ProviderConfig = Config['providers'][string];
export type TimeoutsConfig = z.output<typeof timeoutsSchema>;
export type MockProviderConfig = z.output<typeof mockProviderSchema>;
export type MockFailureConfig = z.output<typeof mockFailureSchema>;
export type OpenAIProviderConfig = z.output<typeof openaiProviderSchema>;
export type OpenAICompatibleProviderConfig = z.output<typeof openaiCompatibleProviderSchema>;
export type AnthropicProviderConfig = z.output<typeof anthropicProviderSchema>;
export type GeminiProviderConfig = z.output<typeof geminiProviderSchema>;
export type AzureOpenAIProviderConfig = z.output<typeof azureOpenAIProviderSchema>;
export type BedrockProviderConfig = z.output<typeof bedrockProviderSchema>;
