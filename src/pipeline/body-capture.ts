import type { CanonicalMessage } from '../core/canonical.js';
import type { Principal } from '../core/principal.js';
import { textSlots } from '../policies/guardrails/index.js';
import type { RequestScope } from './request-scope.js';
import type { Runtime } from './runtime.js';

/**
 * Prompt and answer text for the ledger, where `ledger.bodies` asks for it: collected as the
 * answer goes out, cut at `max_chars`, and redacted (personal data and secrets masked) when the
 * request settles, before the record leaves the process.
 */
export class BodyCapture {
  private answer = '';

  constructor(private readonly maxChars: number) {}

  /** Adds answer text (a whole answer, or one streamed piece). */
  add(text: string): void {
    if (this.answer.length < this.maxChars) this.answer += text.slice(0, this.maxChars - this.answer.length);
  }

  get text(): string {
    return this.answer;
  }
}

/** A capture for this request when its team and endpoint are recorded; undefined otherwise (the usual case). */
export function captureBodies(runtime: Runtime, scope: RequestScope, principal: Principal, endpoint: 'chat' | 'embeddings', messages: readonly CanonicalMessage[]): BodyCapture | undefined {
  const settings = runtime.config.ledger.bodies;
  if (!settings.enabled || !settings.endpoints.includes(endpoint)) return undefined;
  if (settings.teams.length > 0 && (principal.teamName === undefined || !settings.teams.includes(principal.teamName))) return undefined;
  const capture = new BodyCapture(settings.max_chars);
  const prompt = [...textSlots(messages)].map((slot) => `${slot.role}: ${slot.text}`).join('\n').slice(0, settings.max_chars);
  scope.onSettle(() => {
    const redact = runtime.bodyRedactor();
    scope.record.bodies = { request: redact(prompt), response: redact(capture.text) };
  });
  return capture;
}
