import type { GuardrailsConfig } from '../../config/guardrails-schema.js';
import { InputGuard } from './input-guard.js';
import { OutputGuard } from './output-guard.js';

export type { InputInspection } from './input-guard.js';
export type { AnswerFilter } from './output-guard.js';
export { runWebhookGuards, type WebhookContext } from './webhook-guard.js';
export { createRedactor } from './redactor.js';
export { textSlots } from './message-text.js';

/** The guardrails of one config: input guards run only when something is configured, output guards likewise. */
export class Guardrails {
  readonly input: InputGuard | undefined;
  readonly output: OutputGuard;

  constructor(config: GuardrailsConfig) {
    const inputConfigured =
      Object.values(config.entities).some((actions) => actions.internal !== 'allow' || actions.external !== 'allow') ||
      config.injection.action !== 'off' ||
      config.deny_patterns.length > 0;
    this.input = inputConfigured ? new InputGuard(config) : undefined;
    this.output = new OutputGuard(config);
  }
}
