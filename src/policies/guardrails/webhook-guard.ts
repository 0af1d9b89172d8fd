import { request } from 'undici';
import { z } from 'zod';
import type { GuardrailsConfig } from '../../config/guardrails-schema.js';
import type { CanonicalMessage } from '../../core/canonical.js';
import { GatewayError } from '../../core/errors.js';
import type { GuardDecision } from '../../core/request-record.js';
import { textSlots } from './message-text.js';

type WebhookConfig = GuardrailsConfig['webhooks'][number];

/** What a webhook guard answers. Anything else counts as a failure of the guard. */
const verdictSchema = z.object({ action: z.enum(['allow', 'block']), reason: z.string().optional() });

/** The facts a webhook guard gets about the request (ids and names, never the caller's key). */
export interface WebhookContext {
  requestId: string;
  endpoint: 'chat' | 'embeddings';
  model: string;
  principal: { key?: string; team?: string; user?: string } | undefined;
}

const MAX_REASON = 200;

/**
 * Custom guards in your own service: each webhook sees the request's texts and says allow or
 * block. They run in order after the built-in input guards; a failure (timeout, non-2xx, bad
 * answer) lets the request through or refuses it with 503, as each guard is configured.
 */
export async function runWebhookGuards(webhooks: readonly WebhookConfig[], messages: readonly CanonicalMessage[], context: WebhookContext, decisions: GuardDecision[]): Promise<void> {
  if (webhooks.length === 0) return;
  const body = JSON.stringify({
    request_id: context.requestId,
    endpoint: context.endpoint,
    model: context.model,
    principal: context.principal ?? null,
    messages: [...textSlots(messages)].map((slot) => ({ role: slot.role, text: slot.text })),
  });
  for (const webhook of webhooks) {
    const verdict = await ask(webhook, body);
    if (verdict === undefined) {
      decisions.push({ guard: 'webhook', entity: webhook.name, action: webhook.on_failure === 'open' ? 'failed-open' : 'failed-closed', where: 'input' });
      if (webhook.on_failure === 'closed') throw new GatewayError('BB_GUARD_UNAVAILABLE', `The guard '${webhook.name}' did not answer, and it is set to refuse requests then.`, { retryAfterSeconds: 1 });
      continue;
    }
    decisions.push({ guard: 'webhook', entity: webhook.name, action: verdict.action, where: 'input' });
    if (verdict.action === 'block') {
      const reason = verdict.reason ? `: ${verdict.reason.slice(0, MAX_REASON)}` : '.';
      throw new GatewayError('BB_GUARDRAIL_BLOCKED', `The guard '${webhook.name}' refused the request${reason}`, { param: 'messages' });
    }
  }
}

/** The guard's verdict, or undefined when it failed to give one in time. */
async function ask(webhook: WebhookConfig, body: string): Promise<z.infer<typeof verdictSchema> | undefined> {
  try {
    const response = await request(webhook.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...webhook.headers },
      body,
      signal: AbortSignal.timeout(webhook.timeout_ms),
    });
    const text = await response.body.text();
    if (response.statusCode < 200 || response.statusCode >= 300) return undefined;
    const parsed = verdictSchema.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}
