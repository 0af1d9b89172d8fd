import type { Config } from '../config/schema.js';

type Limits = Record<string, unknown> | undefined;

/**
 * Whether requests under this config will count tokens, so the gateway builds the tokenizer at
 * startup rather than on the first request that needs it (a ~0.1 s pause). Generous on purpose:
 * any limit at all (spend limits price the estimated prompt), a prompt-size routing rule, or an
 * in-process mock (it counts its own usage). Plans added later through the admin API load it on
 * first use instead.
 */
export function configCountsTokens(config: Config): boolean {
  if (Object.values(config.providers).some((provider) => provider.type === 'mock')) return true;
  const limits: Limits[] = [
    ...Object.values(config.plans ?? {}).map((plan) => plan.limits),
    ...Object.values(config.teams ?? {}).map((team) => team.limits),
    ...Object.values(config.models).map((model) => model.limits),
    config.limits.routes.chat,
    config.limits.routes.embeddings,
  ];
  if (limits.some((entry) => entry !== undefined && Object.values(entry).some((value) => value !== undefined))) return true;
  return config.routing.rules.some((rule) => rule.when.min_prompt_tokens !== undefined || rule.when.max_prompt_tokens !== undefined);
}
