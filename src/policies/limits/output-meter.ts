import type { StreamEvent } from '../../core/canonical.js';
import { GatewayError } from '../../core/errors.js';
import { countTextTokens } from '../../usage/token-estimate.js';

/**
 * Counts a stream's output as it passes, for budgets in cut mode: max_tokens already asks the
 * provider to stop within the reservation; this catches a provider that does not. Counting uses
 * the gateway's tokenizer, which differs a little from the provider's, hence the slack.
 */
export class OutputMeter {
  /** Output tokens seen so far, by the gateway's tokenizer. */
  tokens = 0;
  private readonly ceiling: number;

  constructor(reservedOutputTokens: number) {
    this.ceiling = Math.ceil(reservedOutputTokens * 1.1) + 8;
  }

  /** Throws a budget error (the stream's terminal event) once the output passes its reservation. */
  observe(event: StreamEvent): void {
    let text: string | undefined;
    if (event.type === 'text' || event.type === 'reasoning') text = event.text;
    else if (event.type === 'tool-call') text = event.argumentsDelta;
    if (!text) return;
    this.tokens += countTextTokens(text);
    if (this.tokens > this.ceiling) {
      throw new GatewayError('BB_BUDGET_EXCEEDED', 'The answer ran past the output tokens reserved for it under a budget and was cut.');
    }
  }
}
